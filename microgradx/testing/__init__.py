"""Tools for checking gradients: numerical derivatives by central differences.

`numerical_grad(f, *inputs)` is the independent oracle the project's own tests compare
`backward()` against; users can do the same for their own functions and ops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from microgradx.checks import as_data
from microgradx.engine import Value


def numerical_grad(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6) -> tuple[Any, ...]:
    """Central differences (f(x + eps) - f(x - eps)) / (2 eps), one per input.

    f takes numbers (or 1-D arrays, for batched inputs) and returns a single number or a
    scalar Value. For an array input the result is an array: one difference per element.
    """
    points = [as_data(x.data if isinstance(x, Value) else x) for x in inputs]
    return tuple(_partial(f, points, i, eps) for i in range(len(points)))


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
