"""Check gradients: backward() against central differences, for any function or op.

    from microgradx.testing import gradcheck, gradgradcheck, check_op

    gradcheck(lambda a, b: (a * b).tanh(), 0.5, -1.2)     # True, or GradcheckError
    gradgradcheck(lambda a: a.sigmoid(), 0.3)              # second derivatives too
    check_op(my_custom_op)                                 # Hypothesis tries 200 inputs

A mismatch raises `GradcheckError`, whose message is a table of every input with the analytic
and the numeric derivative side by side; `viz.draw(error)` shows the graph with the offending
input highlighted. `strategies` holds the Hypothesis strategies (inputs inside an op's
domain, random graphs); it needs Hypothesis (`pip install 'microgradx[testing]'`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from microgradx import errors
from microgradx.engine import Value
from microgradx.errors import as_data
from microgradx.functional import grad
from microgradx.ops import Op
from microgradx.recording import no_grad

__all__ = ["GradcheckError", "check_op", "gradcheck", "gradgradcheck", "numerical_grad"]


class GradcheckError(AssertionError):
    """backward() and central differences disagree. The message is a table; `viz.draw(error)`
    shows the graph with the offending inputs outlined in red."""

    def __init__(
        self, message: str, f: Callable[..., Any], inputs: Sequence[Any], failing: Sequence[int]
    ) -> None:
        super().__init__(message)
        self.f, self.inputs, self.failing = f, list(inputs), list(failing)

    def graph(self) -> tuple[Value, list[Value]]:
        """f rebuilt at the failing inputs, after backward(): its output, and the inputs whose
        gradients disagree."""
        values = [Value(x, label=f"x{i}") for i, x in enumerate(self.inputs)]
        out: Value = self.f(*values)  # a scalar Value: the failed check built the same
        out.backward()
        return out, [values[i] for i in self.failing]


def numerical_grad(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6) -> tuple[Any, ...]:
    """Central differences (f(x + eps) - f(x - eps)) / (2 eps), one per input.

    f takes numbers (or 1-D arrays, for batched inputs) and returns a single number or a
    scalar Value. For an array input the result is an array: one difference per element.
    """
    points = _points(inputs)
    return tuple(_partial(f, points, i, eps) for i in range(len(points)))


def gradcheck(
    f: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when backward()'s gradient of f agrees with central differences at the inputs
    (numbers, or 1-D arrays for batches): |analytic - numeric| <= atol + rtol·|numeric|.
    Otherwise raise GradcheckError (or return False with raise_exception=False)."""
    points = _points(inputs)
    values = [Value(x, label=f"x{i}") for i, x in enumerate(points)]
    out = _scalar(f(*values), "gradcheck")
    out.backward()
    analytic = [v.grad + 0.0 * v.data for v in values]  # an untouched batch: zeros, not 0.0
    with no_grad():  # the numeric side builds no graph
        numeric = numerical_grad(_as_values(f), *points, eps=eps)
    rows = [(i, f"x{i}", a, n) for i, (a, n) in enumerate(zip(analytic, numeric))]
    return _verdict("gradcheck", "backward()", rows, atol, rtol, raise_exception, f, points)


def gradgradcheck(
    f: Callable[..., Any],
    *inputs: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when every second derivative ∂²f/∂xi∂xj from grad(grad(f)) agrees with central
    differences of the first derivatives. Inputs are single numbers."""
    points = _points(inputs)
    if any(isinstance(x, np.ndarray) for x in points):
        raise TypeError("gradgradcheck takes single numbers; check a batch one example at a time")
    rows = []
    on_values = _as_values(f)
    for i in range(len(points)):
        first = grad(on_values, argnums=i)
        numeric = numerical_grad(first, *points, eps=eps)
        for j in range(len(points)):
            analytic = grad(first, argnums=j)(*points)
            rows.append((i, f"x{i},x{j}", analytic, numeric[j]))
    return _verdict("gradgradcheck", "grad(grad(f))", rows, atol, rtol, raise_exception, f, points)


def check_op(
    op: Op,
    max_examples: int = 200,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """The property "first and second derivatives agree with central differences" for one op
    (a row of the op table, or a row custom_op made), on inputs Hypothesis draws inside the
    op's domain, away from its kinks. A failure raises GradcheckError for the input Hypothesis
    shrank it to."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from microgradx.functional import apply
    from microgradx.testing.strategies import floats_in

    if not isinstance(op, Op):
        raise TypeError(f"check_op takes a row of the op table or a custom op, got {op!r}")
    row = op

    def f(*operands: Any) -> Value:
        return apply(row, *operands)

    @settings(max_examples=max_examples, deadline=None)
    @given(st.tuples(*[floats_in(row, i) for i in range(row.arity)]))
    def first_and_second_derivatives_agree(point: tuple[float, ...]) -> None:
        gradcheck(f, *point, eps=eps, atol=atol, rtol=rtol)
        gradgradcheck(f, *point, eps=eps, atol=atol, rtol=rtol)

    first_and_second_derivatives_agree()


# --- helpers ------------------------------------------------------------------------------


def _partial(f: Callable[..., Any], points: list[Any], i: int, eps: float) -> Any:
    def at(shift: Any) -> float:
        moved = list(points)
        moved[i] = points[i] + shift
        out = f(*moved)
        out = out.data if isinstance(out, Value) else out
        if isinstance(out, np.ndarray):
            raise ValueError(
                f"numerical_grad needs f to return a single number, got a batch of {out.size}; "
                "reduce it with .sum() or .mean()"
            )
        return float(out)

    if not isinstance(points[i], np.ndarray):
        return (at(eps) - at(-eps)) / (2 * eps)
    slopes = np.empty_like(points[i])
    for k in range(points[i].size):
        shift = np.zeros_like(points[i])
        shift[k] = eps
        slopes[k] = (at(shift) - at(-shift)) / (2 * eps)
    return slopes


def _as_values(f: Callable[..., Any]) -> Callable[..., Any]:
    """f with every plain number turned into a Value first, so f may use Value methods."""
    return lambda *args: f(*[x if isinstance(x, Value) else Value(x) for x in args])


def _points(inputs: Sequence[Any]) -> list[Any]:
    """The numbers (or arrays) to check at, from numbers, arrays or Values."""
    return [as_data(x.data if isinstance(x, Value) else x) for x in inputs]


def _scalar(out: Any, who: str) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"{who} needs f to return a Value, got {type(out).__name__}")
    if isinstance(out.data, np.ndarray):
        raise ValueError(
            f"{who} needs f to return a single number; reduce the batch with .sum() or .mean()"
        )
    return out


def _verdict(
    who: str,
    method: str,
    rows: list[tuple[int, str, Any, Any]],
    atol: float,
    rtol: float,
    raise_exception: bool,
    f: Callable[..., Any],
    points: list[Any],
) -> bool:
    """Compare analytic with numeric; on a mismatch, a table of every row. Each row is
    (the input it blames, its name, analytic, numeric)."""
    table, failing = [], []
    for blamed, name, analytic, numeric in rows:
        for index, (a, n) in enumerate(zip(np.atleast_1d(analytic), np.atleast_1d(numeric))):
            a, n = float(a), float(n)
            error = abs(a - n)
            ok = error <= atol + rtol * abs(n) and math.isfinite(a)
            label = name if np.ndim(analytic) == 0 else f"{name}[{index}]"
            relative = error / abs(n) if n else math.inf if error else 0.0
            mark = "" if ok else "  ✗"
            table.append(
                f"  {label:10} {a:>14.6g} {n:>14.6g} {error:>10.3g} {relative:>10.3g}{mark}"
            )
            if not ok:
                failing.append(blamed)
    if not failing:
        return True
    if not raise_exception:
        return False
    header = f"  {'input':10} {'analytic':>14} {'numeric':>14} {'abs error':>10} {'rel error':>10}"
    inputs = ", ".join(f"x{i} = {errors.show(x)}" for i, x in enumerate(points))
    raise GradcheckError(
        f"{who}: {method} and central differences disagree at {inputs} "
        f"(atol={atol:g}, rtol={rtol:g}):\n{header}\n" + "\n".join(table),
        f,
        points,
        sorted(set(failing)),
    )
