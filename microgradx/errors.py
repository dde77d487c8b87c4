"""What a Value accepts, and how the engine's errors name what went wrong.

Every message says what happened, to which node (its label, else the op that made it), and
how to fix it, so that a learner never meets a bare "math domain error".
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from microgradx.ops import Op, OutsideDomain

NUMBERS = (int, float, np.integer, np.floating)
BATCH = "a 1-D NumPy array (a batch: one number per example)"
TOO_LARGE = "too large for a float; scale the inputs down (in training: a smaller lr)"


def as_data(data: Any, label: Any = "") -> Any:
    """Check and convert what a Value may hold: a number, or a 1-D array of numbers (and its
    label must be text: it is shown in reprs, errors and pictures)."""
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    if type(data) is float:
        return data
    if isinstance(data, (*NUMBERS, np.bool_)):
        if isinstance(data, int) and abs(data) > sys.float_info.max:
            raise ValueError(f"Value got {repr(data)[:40]}..., too large for a float")
        return float(data)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        if data.ndim == 0 or (data.ndim == 1 and data.size > 0):  # a copy: later changes unseen
            return float(data) if data.ndim == 0 else np.array(data, dtype=np.float64)
        raise TypeError(f"Value holds a number or a 1-D batch, not shape {data.shape}: one column")
    hint = ": for a batch, pass np.array([...])" if isinstance(data, (list, tuple)) else ""
    got = f"{type(data).__name__} {repr(data)[:40]}"
    raise TypeError(f"Value holds a number or {BATCH}; got {got}{hint}")


def built_by_hand(children: Any, op_text: Any) -> TypeError:
    """Value(data, _children, _op): how the lecture's own Value class records a result."""
    if isinstance(children, str) and not op_text:  # Value(2.0, "x"), a label meant
        fix = f"write label={children!r}"
        return TypeError(f"Value's second argument is _children, as in the lecture; {fix}")
    how = "compute it (a * b, x.tanh()) and it records _prev and _op; an op of your own: custom_op"
    return TypeError(f"Value(data, _children, _op={op_text!r}) builds a result by hand; {how}")


def finite_number(what: str, x: Any) -> float:
    """A plain finite number (an exponent, a slope, a rate), or an error naming `what`."""
    if not isinstance(x, NUMBERS) or isinstance(x, bool):
        raise TypeError(f"{what} must be a plain number, got {type(x).__name__} {repr(x)[:40]}")
    if not abs(x) <= sys.float_info.max:
        raise ValueError(f"{what} must be a finite number, got {repr(x)[:40]}")
    return float(x)


def describe(node: Any) -> str:
    """How an error message names a node: its label, else the op that made it."""
    made = f"the output of {node.op.name}" if node.op is not None else "an unlabelled input"
    return repr(node.label) if node.label else made


def forward_failed(op: Op, parents: tuple[Any, ...], error: Exception) -> Exception:
    """A forward function refused an input (OutsideDomain: it says what the op needs), or
    raised (math domain error, overflow, NumPy pairing batches of different sizes)."""
    if isinstance(error, OutsideDomain):
        role = "input" if op.arity == 1 else f"input number {error.operand + 1}"
        at = f" at batch index {error.index}" if error.index is not None else ""
        source = f"{error.value!r}{at} as its {role}, from {describe(parents[error.operand])}"
        return error.error(f"{_name(op)} got {source}; {error.requirement}")
    if isinstance(error, OverflowError):  # math's (34, 'Numerical result out of range')
        return OverflowError(f"{_name(op)} overflowed for {_inputs(parents)}: {TOO_LARGE}")
    detail = "" if str(error) == "math domain error" else f" ({error})"
    message = f"{_name(op)} is not defined for {_inputs(parents)}{detail}"
    return different_batches(op, parents) or type(error)(message)


def check_result(op: Op, parents: tuple[Any, ...], result: Any, finite: Any) -> None:
    """Raise for batches of different sizes (NumPy would broadcast 1 to n), or for inf or nan
    made out of finite inputs (inputs already so: fine); of a batch, at which example first."""
    if not op.checks_batches and (error := different_batches(op, parents)):
        raise error
    if finite:
        return
    ok = [np.isfinite(p.data) for p in parents]  # for a batch: per example
    inputs = np.all(np.broadcast_arrays(*ok), 0) if np.ndim(result) else all(map(np.all, ok))
    made = inputs & ~np.isfinite(result)  # inf or nan made here, from finite inputs
    if np.any(made):
        at = int(made.argmax()) if np.ndim(made) else None
        got = f"{result} for" if at is None else f"{result[at]} at example {at} of the batch for"
        raise OverflowError(f"{_name(op)} gave {got} {_inputs(parents, at)}: {TOO_LARGE}")


def different_batches(op: Op, parents: tuple[Any, ...]) -> ValueError | None:
    """The error for inputs that are batches of different sizes (NumPy would broadcast 1 to n)."""
    sizes = [p.data.size for p in parents if p.data.__class__ is np.ndarray]
    if len(set(sizes)) < 2:
        return None
    found = f"batches of different sizes ({' and '.join(map(str, sizes))} examples)"
    return ValueError(f"{_name(op)}: {found}; every batch in one graph must hold the same examples")


def finite_gradients(root: Any, grads: dict[Any, Any]) -> None:
    """Raise if backward() made an inf or nan gradient out of finite data."""
    if not np.all(np.isfinite(root.data)):
        return
    for node, grad in grads.items():  # nearest the output first: where the trouble started
        if grad.__class__ is float:
            bad = grad - grad != 0.0
        else:  # a batch: an input's is enough to look at (an inf or nan anywhere reaches it)
            bad = node.op is None and grad.__class__ is np.ndarray and not np.isfinite(grad).all()
        if bad and np.all(np.isfinite(node.data)):
            cause = "a local derivative that is not finite on the way (1/x, log or sqrt near 0?)"
            found = f"the gradient of {describe(node)} is {show(grad)}"
            raise FloatingPointError(f"backward(): {found}, from {cause}")


def not_finite_backward(node: Any, error: ArithmeticError) -> ArithmeticError:
    """A local derivative was infinite or undefined at this node's inputs."""
    at = f"{_name(node.op)}{f' at {node.label!r}' if node.label else ''}"
    problem = f"its local derivative is not finite when its input is {_inputs(node.parents)}"
    return type(error)(f"backward through {at}: {problem} ({error}); keep its inputs in its domain")


def not_reduced(node: Any, needs: str) -> ValueError:
    """A batch reached something that needs a single number."""
    batch = f"{describe(node)} holds a batch of {node.data.size} numbers"
    return ValueError(f"{needs} needs a single number, but {batch}; use .mean() or .sum()")


def show(x: Any) -> str:
    """A number, or a batch shortened to its first and last three numbers."""
    if not isinstance(x, np.ndarray):
        return repr(x)
    return f"array({np.array2string(x, precision=4, threshold=6, separator=', ')})"


def _inputs(parents: tuple[Any, ...], at: int | None = None, most: int = 4) -> str:
    """The inputs' values (at one example of a batch); of many (a weighted sum's), the largest."""
    values = [p.data if at is None or np.ndim(p.data) == 0 else float(p.data[at]) for p in parents]
    size = [-np.nan_to_num(np.max(np.abs(v)), nan=np.inf) for v in values]  # nan: first
    shown = sorted(sorted(range(len(parents)), key=size.__getitem__)[:most])
    listed = ", ".join(f"{describe(parents[i])} = {show(values[i])}" for i in shown)
    return listed if len(parents) <= most else f"{len(parents)} inputs, the largest {listed}"


def _name(op: Op) -> str:
    return op.name if op.name == op else f"{op.name} ({op})"
