"""SymPy versions of the op table's rows: an oracle independent of the code under test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from microgradx.ops import Op

SYMPY: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": lambda a, b: a**b,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    # piecewise ops: the branch that holds near the point (inputs stay clear of the kinks)
    "relu": lambda a: a if _positive(a) else sp.Integer(0),
    "abs": lambda a: a if _positive(a) else -a,
    "softsign": lambda a: a / (1 + (a if _positive(a) else -a)),
    "sin": sp.sin,
    "cos": sp.cos,
    "sum": lambda a: a,  # on a single number, sum and mean are the number itself
    "mean": lambda a: a,
    # families of rows: their constant is in row.params
    "power": lambda a, n: a ** sp.nsimplify(n),
    "leaky_relu": lambda a, slope: a if _positive(a) else sp.nsimplify(slope) * a,
    "weighted_sum": lambda *inputs_and_n: _weighted_sum(*inputs_and_n),
    # the custom op the tests define
    "cube": lambda a: a**3,
}


def _weighted_sum(*inputs_and_n: Any) -> Any:
    """b + Σ wi·xi with inputs w1..wn, x1..xn, b, then n (the row's constant)."""
    *inputs, n = inputs_and_n
    n = int(n)
    return inputs[2 * n] + sp.Add(*[inputs[i] * inputs[n + i] for i in range(n)])


_point: dict[sp.Symbol, float] = {}


def sympy_apply(row: Op, *operands: Any) -> Any:
    """The SymPy expression for row applied to operands (near the point set by `at`)."""
    return SYMPY[row.name](*operands, *row.params)


def at(point: dict[sp.Symbol, float]) -> None:
    """Set the point near which piecewise ops (relu, abs, leaky_relu) pick their branch."""
    _point.clear()
    _point.update(point)


def _positive(expression: Any) -> bool:
    return bool(evaluate(expression, _point) > 0)


def symbols(n: int) -> list[sp.Symbol]:
    return list(sp.symbols(f"x0:{n}", real=True))


def evaluate(expression: Any, point: dict[sp.Symbol, float]) -> float:
    return float(sp.N(expression.subs(point), 30))
