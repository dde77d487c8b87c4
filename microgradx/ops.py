"""The op table: every primitive operation is one row.

A row (an `Op`) says three things: the op's symbol, how to compute its output (`forward`,
called with plain floats or 1-D NumPy arrays) and its local derivatives ∂out/∂input
(`local_grads`, called with the inputs and the output). The local derivatives use ordinary
arithmetic, so they work on floats, on arrays and on `Value`s alike; that last case is what
makes higher derivatives (`grad(grad(f))`) work. The engine applies the chain rule with
these rows and never needs to know which op it is looking at.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from microgradx.checks import require

Function = Callable[..., Any]
Interval = tuple[float, float]
ALL: Interval = (-math.inf, math.inf)
POSITIVE: Interval = (0.0, math.inf)
EXP_MAX = math.log(sys.float_info.max)  # exp(x) overflows a float beyond this


class Op(str):
    """One row of the op table. The row *is* its symbol, so `node.op == "*"` reads naturally.

    `domain` gives, for each input, the open interval where the op and its derivative are
    finite; `kinks` are points where the derivative jumps (relu and abs at 0); `params` holds
    the constant of a family of rows (n in x ** n). Test generators read domain and kinks.
    """

    name: str
    arity: int
    forward: Function
    local_grads: Function
    domain: tuple[Interval, ...]
    kinks: tuple[float, ...]
    params: tuple[float, ...]

    def __new__(
        cls, symbol: str, name: str, forward: Function, local_grads: Function, **extra: Any
    ) -> Op:
        row = super().__new__(cls, symbol)
        row.name, row.forward, row.local_grads = name, forward, local_grads
        row.arity = extra.get("arity", local_grads.__code__.co_argcount - 1)
        row.domain = extra.get("domain") or (ALL,) * row.arity
        row.kinks, row.params = extra.get("kinks", ()), extra.get("params", ())
        return row


def each(name: str) -> Callable[[Any], Any]:
    """math.<name> on a single number, numpy.<name> on a batch."""
    on_float, on_batch = getattr(math, name), getattr(np, name)
    return lambda x: on_float(x) if isinstance(x, float) else on_batch(x)


# --- forward functions that need more than one line ---------------------------------------


def _div(a: Any, b: Any) -> Any:
    """a / b, for b != 0"""
    require(b != 0, b, 1, "a / b needs a non-zero divisor", ZeroDivisionError)
    return a / b


def _pow(a: Any, b: Any) -> Any:
    """a ** b with a Value exponent: needs a > 0, because ∂out/∂b = a**b · log(a)"""
    require(a > 0, a, 0, "Value ** Value needs a positive base; for a constant exponent use x ** 2")
    return a**b


def _exp(a: Any) -> Any:
    """e ** a"""
    small_enough = ~(a > EXP_MAX) if isinstance(a, np.ndarray) else not a > EXP_MAX  # nan passes
    require(small_enough, a, 0, f"exp overflows a float above {EXP_MAX:.2f}", OverflowError)
    return _exp_each(a)


def _log(a: Any) -> Any:
    """natural logarithm, for a > 0"""
    require(a > 0, a, 0, "log needs a positive number; clamp the input or add a small epsilon")
    return _log_each(a)


def _sqrt(a: Any) -> Any:
    """square root, for a >= 0"""
    require(a >= 0, a, 0, "sqrt needs a number >= 0")
    return _sqrt_each(a)


def _sigmoid(a: Any) -> Any:
    """1 / (1 + e**-a), computed from e**-|a| so that it never overflows"""
    if isinstance(a, float):
        e = math.exp(-abs(a))
        return 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(a: Any) -> Any:
    """log(1 + e**a), computed as max(a, 0) + log(1 + e**-|a|) so that it never overflows"""
    if isinstance(a, float):
        return max(a, 0.0) + math.log1p(math.exp(-abs(a)))
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def _relu(a: Any) -> Any:
    """max(a, 0)"""
    return (0.0 if a <= 0 else a) if isinstance(a, float) else np.maximum(a, 0.0)  # nan stays nan


def _reduce(method: str) -> Callable[[Any], Any]:
    """sum or mean over a batch, as one number; a single number is its own sum and mean"""
    return lambda a: float(getattr(a, method)()) if isinstance(a, np.ndarray) else a


_exp_each, _log_each, _sqrt_each = each("exp"), each("log"), each("sqrt")

# --- the table -----------------------------------------------------------------------------
# Each row: symbol, name, forward(inputs...), local_grads(inputs..., out) giving
# (∂out/∂a, ∂out/∂b, ...). Domains (open intervals, one per input) and kinks say where the
# derivative exists.
ADD = Op("+", "add", lambda a, b: a + b, lambda a, b, out: (1.0, 1.0))
SUB = Op("-", "sub", lambda a, b: a - b, lambda a, b, out: (1.0, -1.0))
MUL = Op("*", "mul", lambda a, b: a * b, lambda a, b, out: (b, a))
DIV = Op("/", "div", _div, lambda a, b, out: (1.0 / b, -out / b), kinks=(0.0,))
NEG = Op("neg", "neg", lambda a: -a, lambda a, out: (-1.0,))
POW = Op(
    "**", "pow", _pow, lambda a, b, out: (b * a ** (b - 1), out * log(a)), domain=(POSITIVE, ALL)
)
EXP = Op("exp", "exp", _exp, lambda a, out: (out,), domain=((-math.inf, EXP_MAX),))
LOG = Op("log", "log", _log, lambda a, out: (1.0 / a,), domain=(POSITIVE,))
SQRT = Op("sqrt", "sqrt", _sqrt, lambda a, out: (0.5 / out,), domain=(POSITIVE,))
TANH = Op("tanh", "tanh", each("tanh"), lambda a, out: (1.0 - out * out,))
SIGMOID = Op("sigmoid", "sigmoid", _sigmoid, lambda a, out: (out * (1.0 - out),))
SOFTPLUS = Op("softplus", "softplus", _softplus, lambda a, out: (sigmoid(a),))
RELU = Op("relu", "relu", _relu, lambda a, out: (step(a),), kinks=(0.0,))
ABS = Op("abs", "abs", abs, lambda a, out: (step(a) - step(-_raw(a)),), kinks=(0.0,))
SIN = Op("sin", "sin", each("sin"), lambda a, out: (cos(a),))
COS = Op("cos", "cos", each("cos"), lambda a, out: (-sin(a),))
SUM = Op("sum", "sum", _reduce("sum"), lambda a, out: (ones_like(a),))
MEAN = Op("mean", "mean", _reduce("mean"), lambda a, out: (ones_like(a) / batch_size(a),))

ROWS = (ADD, SUB, MUL, DIV, NEG, POW, EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS, RELU, ABS, SIN, COS)
OPS: dict[str, Op] = {row.name: row for row in (*ROWS, SUM, MEAN)}
"""Every fixed row by name. `power(n)` and `leaky_relu(slope)` make their rows on demand."""
FAMILIES = ("power", "leaky_relu")  # names of the rows made on demand, by parameter
CUSTOM: dict[str, Op] = {}
"""The rows made by `custom_op`, by name (a new definition replaces an old one)."""


@lru_cache(maxsize=1024)
def power(n: float) -> Op:
    """The row for x ** n with a constant n: d/dx x**n = n * x**(n - 1)."""

    def forward(a: Any) -> Any:
        if n != int(n):
            require(a >= 0, a, 0, f"a negative number has no real power {n:g}; use an integer")
        if n < 0:
            require(a != 0, a, 0, f"0 has no negative power {n:g}", ZeroDivisionError)
        return a**n

    domain, kinks = ((POSITIVE,), ()) if n != int(n) else ((ALL,), (0.0,) if n < 0 else ())
    grads = lambda a, out: (n * a ** (n - 1) if n else 0.0 * ones_like(a),)  # noqa: E731
    return Op(f"**{n:g}", "power", forward, grads, domain=domain, kinks=kinks, params=(n,))


@lru_cache(maxsize=64)
def leaky_relu(slope: float) -> Op:
    """The row for leaky_relu: a for a > 0, else slope * a; its derivative is 1 or slope."""
    grads = lambda a, out: (step(a) * (1.0 - slope) + slope,)  # noqa: E731
    forward = lambda a: a * (step(a) * (1.0 - slope) + slope)  # noqa: E731
    return Op(f"leaky_relu({slope:g})", "leaky_relu", forward, grads, kinks=(0.0,), params=(slope,))


# --- helpers for local derivatives: each works on a float, a batch or a Value --------------


def _raw(x: Any) -> Any:
    """The float or array inside x (x itself when it is not a Value)."""
    return x if isinstance(x, (float, int, np.ndarray)) else x.data


def step(x: Any) -> Any:
    """1 where x > 0, else 0: a constant, even for a Value (the derivative of relu)."""
    x = _raw(x)
    return (x > 0).astype(float) if isinstance(x, np.ndarray) else float(x > 0)


def ones_like(x: Any) -> Any:
    """1.0 for a single number, an array of ones for a batch."""
    return np.ones_like(_raw(x)) if isinstance(_raw(x), np.ndarray) else 1.0


def batch_size(x: Any) -> int:
    """How many examples x holds (1 for a single number)."""
    return _raw(x).size if isinstance(_raw(x), np.ndarray) else 1


def _on_any(forward: Callable[[Any], Any], method: str) -> Callable[[Any], Any]:
    """forward on a float or a batch; the Value method of that name on a Value."""
    return lambda x: (
        forward(float(x) if isinstance(x, int) else x) if x is _raw(x) else getattr(x, method)()
    )


log: Callable[[Any], Any] = _on_any(_log, "log")
sigmoid: Callable[[Any], Any] = _on_any(_sigmoid, "sigmoid")
sin: Callable[[Any], Any] = _on_any(each("sin"), "sin")
cos: Callable[[Any], Any] = _on_any(each("cos"), "cos")
