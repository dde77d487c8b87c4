"""What a Value accepts, and how errors name what went wrong.

Every message says what happened, to which node (its label, else the op that made it), and
how to fix it, so that a learner never meets a bare "math domain error".
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from microgradx.ops import Op, OutsideDomain


def as_data(data: Any) -> Any:
    """Check and convert what a Value may hold: a number, or a 1-D array of numbers."""
    if type(data) is float:
        return data
    if isinstance(data, (int, float, np.integer, np.floating, np.bool_)):
        try:
            return float(data)
        except OverflowError:
            raise ValueError(f"Value got {_clip(repr(data))}, too large for a float") from None
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        if data.ndim == 0:
            return float(data)
        if data.ndim == 1 and data.size > 0:
            return np.array(data, dtype=np.float64)  # a copy: later changes to `data` are not seen
        raise TypeError(
            f"Value holds a number or a 1-D batch (one number per example); got an array of "
            f"shape {data.shape}: pass one column or one row at a time"
        )
    hint = "; for a batch, pass np.array([...])" if isinstance(data, (list, tuple)) else ""
    raise TypeError(
        f"Value holds a number or a 1-D NumPy array of numbers; got {type(data).__name__} "
        f"{_clip(repr(data))}{hint}"
    )


def as_label(label: Any) -> str:
    """A node's label must be text (it is shown in reprs, errors and pictures)."""
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    return label


def finite_number(what: str, x: Any) -> float:
    """A plain finite number (exponents, slopes, rates), or an error naming `what`."""
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        if abs(x) <= sys.float_info.max:
            return float(x)
        raise ValueError(f"{what} must be a finite number, got {_clip(repr(x))}")
    raise TypeError(f"{what} must be a plain number, got {type(x).__name__} {_clip(repr(x))}")


def whole_number(what: str, x: Any, least: int = 1) -> int:
    """A whole number >= least (a bool is not one), or a ValueError naming `what`."""
    if not isinstance(x, (int, np.integer)) or isinstance(x, bool) or x < least:
        raise ValueError(f"{what} must be a whole number >= {least}, got {_clip(repr(x))}")
    return int(x)


def non_negative(what: str, x: Any) -> float:
    """A finite number >= 0 (noise, eps, weight decay), or a ValueError naming `what`."""
    number = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
    if not number or not 0 <= x <= sys.float_info.max:
        raise ValueError(f"{what} must be a finite number >= 0, got {_clip(repr(x))}")
    return float(x)


def fraction(what: str, x: Any, meaning: str = "must be") -> float:
    """A number in [0, 1) (dropout, momentum, betas), or a ValueError naming `what`."""
    number = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
    if not number or not 0 <= x < 1:
        raise ValueError(f"{what} {meaning} in [0, 1), got {_clip(repr(x))}")
    return float(x)


def choice(what: str, x: Any, choices: Collection[str]) -> str:
    """One of the names in `choices`, or a ValueError listing them."""
    if not isinstance(x, str) or x not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}; got {_clip(repr(x))}")
    return x


def describe(node: Any) -> str:
    """How an error message names a node: its label, else the op that made it."""
    if node.label:
        return repr(node.label)
    return f"the output of {node.op.name}" if node.op is not None else "an unlabelled input"


def outside_domain(op: Op, parents: tuple[Any, ...], problem: OutsideDomain) -> Exception:
    """A forward function refused an input: name the op, the value and the node it came from."""
    role = "input" if op.arity == 1 else f"input number {problem.operand + 1}"
    where = f" at batch index {problem.index}" if problem.index is not None else ""
    return problem.error(
        f"{_op_name(op)} got {problem.value!r}{where} as its {role}, from "
        f"{describe(parents[problem.operand])}; {problem.requirement}"
    )


def forward_failed(op: Op, parents: tuple[Any, ...], error: Exception) -> Exception:
    """A forward function raised (math domain error, overflow, NumPy pairing two batches)."""
    sizes = [p.data.size for p in parents if isinstance(p.data, np.ndarray)]
    if len(set(sizes)) > 1:
        return _different_batches(op, sizes)
    detail = "" if str(error) == "math domain error" else f" ({error})"
    return type(error)(f"{_op_name(op)} is not defined for {_inputs(parents)}{detail}")


def finite_result(op: Op, parents: tuple[Any, ...], result: float) -> None:
    """Raise if op made inf or nan out of finite inputs (inputs already inf or nan: fine)."""
    if all(np.all(np.isfinite(p.data)) for p in parents):
        raise OverflowError(
            f"{_op_name(op)} gave {result} for {_inputs(parents)}: the result is too large "
            "for a float; scale the inputs down"
        )


def same_batch_size(op: Op, parents: tuple[Any, ...]) -> None:
    """Raise if op's inputs are batches of different sizes (NumPy would broadcast 1 to n)."""
    sizes = [p.data.size for p in parents if isinstance(p.data, np.ndarray)]
    if len(set(sizes)) > 1:
        raise _different_batches(op, sizes)


def finite_gradients(root: Any, grads: dict[Any, Any]) -> None:
    """Raise if backward() made an inf or nan gradient out of finite data."""
    if not np.all(np.isfinite(root.data)):
        return
    for node, grad in grads.items():  # nearest the output first: where the trouble started
        if grad.__class__ is float and grad - grad != 0.0 and np.all(np.isfinite(node.data)):
            raise FloatingPointError(
                f"backward(): the gradient of {describe(node)} is {grad}, from a local "
                "derivative that is not finite on the way there (1/x, log or sqrt near 0?)"
            )


def not_finite_backward(node: Any, error: ArithmeticError) -> ArithmeticError:
    """A local derivative was infinite or undefined at this node's inputs."""
    inputs = _inputs(node.parents)
    at = f" at {node.label!r}" if node.label else ""
    return type(error)(
        f"backward through {_op_name(node.op)}{at}: its local derivative is not finite when "
        f"its input is {inputs} ({error}); keep the op's inputs inside its domain"
    )


def not_reduced(node: Any, needs: str) -> ValueError:
    """A batch reached something that needs a single number."""
    return ValueError(
        f"{needs} needs a single number, but {describe(node)} holds a batch of "
        f"{node.data.size} numbers; reduce it first with .mean() or .sum()"
    )


def show(x: Any) -> str:
    """A number, or a batch shortened to its first and last few numbers."""
    if isinstance(x, np.ndarray):
        text = np.array2string(x, precision=4, threshold=6, edgeitems=3, separator=", ")
        return f"array({text})"
    return repr(x)


def _different_batches(op: Op, sizes: list[int]) -> ValueError:
    return ValueError(
        f"{_op_name(op)}: batches of different sizes ({' and '.join(map(str, sizes))} examples); "
        "every batch in one graph must hold the same examples"
    )


def _inputs(parents: tuple[Any, ...]) -> str:
    return ", ".join(f"{describe(p)} = {show(p.data)}" for p in parents)


def _op_name(op: Op) -> str:
    return op.name if op.name == op else f"{op.name} ({op})"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
