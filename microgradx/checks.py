"""What a Value accepts, and how errors name what went wrong.

Every message says what happened, to which node (its label, else the op that made it), and
how to fix it, so that a learner never meets a bare "math domain error".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from microgradx.ops import Op, OutsideDomain


def as_data(data: Any) -> Any:
    """Check and convert what a Value may hold: a number, or a 1-D array of numbers."""
    if type(data) is float:
        return data
    if isinstance(data, (int, float, np.integer, np.floating, np.bool_)):
        return float(data)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        if data.ndim == 0:
            return float(data)
        if data.ndim == 1 and data.size > 0:
            return data.astype(np.float64, copy=False)
        raise TypeError(
            f"Value holds a number or a 1-D batch (one number per example); got an array of "
            f"shape {data.shape}: pass one column or one row at a time"
        )
    hint = "; for a batch, pass np.array([...])" if isinstance(data, (list, tuple)) else ""
    raise TypeError(
        f"Value holds a number or a 1-D NumPy array of numbers; got {type(data).__name__} "
        f"{_clip(repr(data))}{hint}"
    )


def as_number(x: Any, what: str) -> float:
    """A plain finite number (for exponents and slopes), or an error saying what was wrong."""
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        if np.isfinite(x):
            return float(x)
        raise ValueError(f"{what} must be a finite number, got {x!r}")
    raise TypeError(f"{what} must be a plain number, got {type(x).__name__} {_clip(repr(x))}")


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


def overflow(op: Op, parents: tuple[Any, ...]) -> OverflowError:
    """A forward function's result was too large for a float."""
    inputs = ", ".join(f"{describe(p)} = {show(p.data)}" for p in parents)
    return OverflowError(f"{_op_name(op)} overflowed a float for {inputs}; use smaller inputs")


def batch_sizes_differ(op: Op, parents: tuple[Any, ...]) -> ValueError | None:
    """The error for an op whose inputs hold batches of different sizes, if they do."""
    sizes = [p.data.size for p in parents if isinstance(p.data, np.ndarray)]
    if len(set(sizes)) < 2:
        return None
    return ValueError(
        f"{_op_name(op)}: batches of different sizes ({' and '.join(map(str, sizes))} examples)"
    )


def not_finite_backward(node: Any, error: ArithmeticError) -> ArithmeticError:
    """A local derivative was infinite or undefined at this node's inputs."""
    inputs = ", ".join(f"{describe(p)} = {show(p.data)}" for p in node.parents)
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


def _op_name(op: Op) -> str:
    return op.name if op.name == op else f"{op.name} ({op})"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
