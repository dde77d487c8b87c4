"""The op table: every primitive operation is one row, and the one source of truth about it.

A row (an `Op`) says how the op is written (`x * w`, `-x`, `tanh(x)`), how to compute its
output (`forward`, called with plain floats or 1-D NumPy arrays), its local derivatives
∂out/∂input (`local_grads`, called with the inputs and the output) and the maths of both as
short text, for captions and docs. The local derivatives use ordinary arithmetic, so they work
on floats, on arrays and on `Value`s alike; that last case is what makes higher derivatives
(`grad(grad(f))`) work. A row may also compute several of its nodes at once (`forward_each`,
`local_grads_each`: a layer's weighted sums as one matrix product). The engine applies the
chain rule with these rows and never needs to know which op it is looking at; Value's methods,
the formula parser, nn's activations, the Hypothesis strategies and the captions all read this
table. It imports nothing of the package.
"""

from __future__ import annotations

import math
import operator
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

Function = Callable[..., Any]
Interval = tuple[float, float]
ALL: Interval = (-math.inf, math.inf)
POSITIVE: Interval = (0.0, math.inf)
EXP_MAX = math.log(sys.float_info.max)  # exp(x) overflows a float beyond this
FLOAT = np.dtype(np.float64)
LETTERS = "abcdefghijklmnopqrstuvwxyz"  # the inputs in an op's maths: a, b (custom ops: c, ...)


class Op(str):
    """One row of the op table. The row *is* its symbol, so `node.op == "*"` reads naturally."""

    name: str
    arity: int  # how many inputs
    forward: Function  # the output from the inputs' floats or arrays
    local_grads: Function  # (∂out/∂a, ∂out/∂b, ...) from the inputs and out
    notation: str = ""  # how it is written, {0} and {1} standing for the inputs: "{0} * {1}"
    maths: tuple[str, ...] = ()  # the forward, then each local derivative: "1 - tanh(a)²"
    method: str = ""  # the Value method that applies it: "tanh", "__mul__"; "" for none
    domain: tuple[Interval, ...] = ()  # per input, the open interval where it is finite
    kinks: tuple[float, ...] = ()  # where the first *or second* derivative jumps (relu at 0):
    # gradient checks keep away from them, because central differences fail there
    init: str | None = None  # as a neuron's activation, the initialization that suits it
    reduces: bool = False  # a batch reduction (sum, mean)
    params: tuple[float, ...] = ()  # the constant of a family of rows (n in x ** n)
    checks_batches: bool = False  # its forward refuses batches of different sizes itself
    grad_notation: tuple[str, ...] = ()  # each local derivative with {0}, {1}, ... for the
    # inputs, for captions: made from maths (its whole letters a, b, ... are the inputs: "1 -
    # tanh({0})²"; "" where maths says only ∂f/∂a), unless the row gives it (a weighted sum's
    # letters are not its inputs: ∂out/∂w1 is "{n}", its x1)
    short: str = ""  # what pictures call its unnamed results (z: z1, z2); "" for its name
    forward_each: Function | None = None  # the outputs of several nodes of this row at once,
    # from a list of their inputs' data: a 2-D array, one row per node (None, or a ValueError,
    # where it cannot: then the engine computes them one at a time): a layer's weighted sums
    local_grads_each: Function | None = None  # the local derivatives of the nodes forward_each
    # made, from the same list: arrays that, side by side along their second axis, are the
    # array (nodes, inputs, batch size), each of shape (nodes or 1, its inputs, batch size or 1)
    # where a derivative is the same for every node or every example; None where it cannot

    def __new__(cls, symbol: str, forward: Function, grads: Function, maths: tuple[str, ...],
                **fields: Any) -> Op:  # fmt: skip
        row = super().__new__(cls, symbol)
        row.name, row.forward, row.local_grads, row.maths = symbol, forward, grads, maths
        row.arity = fields.pop("arity", grads.__code__.co_argcount - 1)
        name = fields.get("name", symbol)  # a call such as tanh({0}) unless said otherwise:
        row.notation = f"{name}({', '.join(f'{{{i}}}' for i in range(row.arity))})"
        row.method, row.domain = name, (ALL,) * row.arity
        row.grad_notation = tuple(placeholders(text, row.arity) for text in maths[1:])
        vars(row).update(fields)  # what the row says beyond the defaults above
        return row

    def write(self, *operands: str) -> str:
        """The op applied to operand texts: "tanh(x)", "x * w", "-x", "x**2"."""
        if not self.notation.startswith(self.name + "("):  # an operator: bracket compound parts
            operands = tuple(map(operand, operands))
        return self.notation.format(*operands)


def operand(text: str) -> str:
    """A name or formula as an operand: bracketed unless it is one word (x1, layers.0.b)."""
    return text if re.fullmatch(r"[\w.#]+", text) else f"({text})"


def placeholders(text: str, arity: int) -> str:
    """maths text with the inputs' letters (a, b, ... as whole letters) as {0}, {1}, ...:
    tanh keeps its a, b² is {1}; "" for a derivative written only as ∂f/∂a."""
    text = text.replace("{", "{{").replace("}", "}}")

    def placeholder(letter: re.Match[str]) -> str:
        around = text[letter.start() - 1 : letter.start()] + text[letter.end() : letter.end() + 1]
        word = any(c.isalpha() or c.isdecimal() or c == "_" for c in around)  # tanh, a1
        return letter[0] if word else f"{{{ord(letter[0]) - ord('a')}}}"

    return "" if text.startswith("∂") else re.sub(f"[{LETTERS[:arity]}]", placeholder, text)


@dataclass
class OutsideDomain(Exception):
    """Raised by a forward function; the engine turns it into a named error for the user."""

    error: type[Exception]  # the type the user sees: ValueError, ZeroDivisionError, ...
    operand: int  # which input of the op (0, 1, ...)
    value: float  # the offending number
    index: int | None  # its place in the batch, or None for a single number
    requirement: str  # what the op needs, and how to fix the input


def require(ok: Any, value: Any, operand: int, requirement: str, error: type = ValueError) -> bool:
    """True if `ok` (a bool, or a boolean array for a batch) holds everywhere; else raise
    OutsideDomain, naming the first offending example."""
    batch = isinstance(ok, np.ndarray)
    if not (ok.all() if batch else ok):
        index = int(np.argmin(ok)) if batch else None
        value = float(value[index]) if batch and isinstance(value, np.ndarray) else value
        raise OutsideDomain(error, operand, value, index, requirement)
    return True


def each(name: str) -> Callable[[Any], Any]:
    """math.<name> on a single number, numpy.<name> on a batch."""
    on_float, on_batch = getattr(math, name), getattr(np, name)
    return lambda x: on_float(x) if isinstance(x, float) else on_batch(x)


# --- forward functions that need more than one line ---------------------------------------


def _div(a: Any, b: Any) -> Any:
    """a / b, for b != 0"""
    return require(b != 0, b, 1, "a / b needs a non-zero divisor", ZeroDivisionError) and a / b


def _pow(a: Any, b: Any) -> Any:
    """a ** b with a Value exponent: needs a > 0, because ∂out/∂b = a**b · log(a)"""
    needs = "Value ** Value needs a positive base; for a constant exponent use x ** 2"
    return require(a > 0, a, 0, needs) and a**b


def guarded(name: str, ok: Callable[[Any], Any], needs: str, error: type = ValueError) -> Function:
    """math.<name> or numpy.<name> for inputs where ok(input) holds, else an OutsideDomain."""
    compute = each(name)
    return lambda a: require(ok(a), a, 0, needs, error) and compute(a)


def _not_above(limit: float) -> Callable[[Any], Any]:
    """a <= limit, on a float or a batch; nan passes (it stays nan)"""
    return lambda a: ~(a > limit) if isinstance(a, np.ndarray) else not a > limit


_exp = guarded(
    "exp", _not_above(EXP_MAX), f"exp overflows a float above {EXP_MAX:.2f}", OverflowError
)
_log = guarded("log", lambda a: a > 0, "log needs a positive number; clamp it or add an epsilon")
_sqrt = guarded("sqrt", lambda a: a >= 0, "sqrt needs a number >= 0")


def _sigmoid(a: Any) -> Any:
    """1 / (1 + e**-a), computed from e**-|a| so that it never overflows"""
    e = math.exp(-abs(a)) if isinstance(a, float) else np.exp(-np.abs(a))
    top = (1.0 if a >= 0 else e) if isinstance(a, float) else np.where(a >= 0, 1.0, e)
    return top / (1.0 + e)


def _softplus(a: Any) -> Any:
    """log(1 + e**a), computed as max(a, 0) + log(1 + e**-|a|) so that it never overflows"""
    if isinstance(a, float):
        return max(a, 0.0) + math.log1p(math.exp(-abs(a)))
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def _relu(a: Any) -> Any:
    """max(a, 0)"""
    return (0.0 if a <= 0 else a) if isinstance(a, float) else np.maximum(a, 0.0)  # nan stays nan


def elementwise(forward: Function) -> Function:
    """forward_each of a row that works number by number: forward once on the stacked batches
    (None unless every node has one batch input of the same size)."""

    def forward_each(inputs: list[list[Any]]) -> Any:
        block = np.array([data for (data,) in inputs])
        return forward(block) if block.ndim == 2 and block.dtype == FLOAT else None

    return forward_each


def _reduce(method: str) -> Callable[[Any], Any]:
    """sum or mean over a batch, as one number; a single number is its own sum and mean (the
    ufunc called from here, so that NumPy's overflow warning is the engine's to replace)"""
    n = (lambda a: a.size) if method == "mean" else (lambda a: 1)
    return lambda a: float(np.add.reduce(a)) / n(a) if isinstance(a, np.ndarray) else a


# --- the table -----------------------------------------------------------------------------
# Each row: its symbol; forward(inputs...); local_grads(inputs..., out) giving (∂out/∂a,
# ∂out/∂b, ...); its maths as text (the forward, then each local derivative); then what
# differs from the defaults: the name, how it is written, the Value method, domain, kinks, init.
# fmt: off
ADD = Op("+", lambda a, b: a + b, lambda a, b, out: (1.0, 1.0), ("a + b", "1", "1"),
         name="add", notation="{0} + {1}", method="__add__")
SUB = Op("-", lambda a, b: a - b, lambda a, b, out: (1.0, -1.0), ("a - b", "1", "-1"),
         name="sub", notation="{0} - {1}", method="__sub__")
MUL = Op("*", lambda a, b: a * b, lambda a, b, out: (b, a), ("a · b", "b", "a"),
         name="mul", notation="{0} * {1}", method="__mul__")
DIV = Op("/", _div, lambda a, b, out: (1.0 / b, -out / b), ("a / b", "1 / b", "-a / b²"),
         name="div", notation="{0} / {1}", method="__truediv__", kinks=(0.0,))
POW = Op("**", _pow, lambda a, b, out: (b * a ** (b - 1), out * _use(LOG, a)),
         ("a^b", "b · a^(b - 1)", "a^b · ln(a)"),  # for a > 0
         name="pow", notation="{0} ** {1}", method="__pow__", domain=(POSITIVE, ALL))
NEG = Op("neg", lambda a: -a, lambda a, out: (-1.0,), ("-a", "-1"),
         notation="-{0}", method="__neg__")
ABS = Op("abs", abs, lambda a, out: (step(a) - step(-_raw(a)),), ("|a|", "1 if a > 0, -1 if a < 0"),
         method="__abs__", kinks=(0.0,))
EXP = Op("exp", _exp, lambda a, out: (out,), ("e^a", "e^a"), domain=((-math.inf, EXP_MAX),))
LOG: Op = Op("log", _log, lambda a, out: (1.0 / a,), ("ln(a)", "1 / a"), domain=(POSITIVE,))
SQRT = Op("sqrt", _sqrt, lambda a, out: (0.5 / out,), ("√a", "1 / (2·√a)"), domain=(POSITIVE,))
TANH = Op("tanh", each("tanh"), lambda a, out: (1.0 - out * out,), ("tanh(a)", "1 - tanh(a)²"),
          init="xavier")
SIGMOID = Op("sigmoid", _sigmoid, lambda a, out: (out * (1.0 - out),),
             ("σ(a) = 1 / (1 + e^-a)", "σ(a) · (1 - σ(a))"), init="xavier")
SOFTPLUS = Op("softplus", _softplus, lambda a, out: (_use(SIGMOID, a),), ("ln(1 + e^a)", "σ(a)"),
              init="he")
RELU = Op("relu", _relu, lambda a, out: (step(a),), ("max(a, 0)", "1 if a > 0, else 0"),
          kinks=(0.0,), init="he")
SOFTSIGN = Op("softsign", lambda a: a / (1.0 + abs(a)), lambda a, out: ((1.0 + abs(a)) ** -2,),
              ("a / (1 + |a|)", "1 / (1 + |a|)²"), kinks=(0.0,), init="xavier")  # f'' jumps at 0
SIN = Op("sin", each("sin"), lambda a, out: (_use(COS, a),), ("sin(a)", "cos(a)"))
COS: Op = Op("cos", each("cos"), lambda a, out: (-_use(SIN, a),), ("cos(a)", "-sin(a)"))
SUM = Op("sum", _reduce("sum"), lambda a, out: (ones_like(a),), ("Σᵢ aᵢ", "1"), reduces=True)
MEAN = Op("mean", _reduce("mean"), lambda a, out: (ones_like(a) / batch_size(a),),
          ("(1/n) Σᵢ aᵢ", "1/n"), reduces=True)
# fmt: on
for _row in (NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS, RELU, SOFTSIGN, SIN, COS):
    _row.forward_each = elementwise(_row.forward)

ROWS = (ADD, SUB, MUL, DIV, POW, NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS, SOFTSIGN, RELU,
        SIN, COS)  # fmt: skip
OPS: dict[str, Op] = {row.name: row for row in (*ROWS, SUM, MEAN)}
"""Every fixed row by name. The families below make their rows on demand, from a constant."""


@lru_cache(maxsize=1024)
def power(n: float) -> Op:
    """The row for x ** n with a constant n: d/dx x**n = n · x**(n - 1)."""

    def forward(a: Any) -> Any:
        require(n == int(n) or a >= 0, a, 0, f"a negative number has no power {n:g}; use an int")
        require(n >= 0 or a != 0, a, 0, f"0 has no negative power {n:g}", ZeroDivisionError)
        return a**n

    domain, kinks = ((POSITIVE,), ()) if n != int(n) else ((ALL,), (0.0,) if n < 0 else ())
    grads = lambda a, out: (n * a ** (n - 1) if n else 0.0 * ones_like(a),)  # noqa: E731
    maths = (f"a^{n:g}", f"{n:g} · a^{n - 1:g}")
    return Op(f"**{n:g}", forward, grads, maths, name="power", notation=f"{{0}}**{n:g}",
              method="", domain=domain, kinks=kinks, params=(n,))  # fmt: skip


@lru_cache(maxsize=64)
def leaky_relu(slope: float = 0.01) -> Op:
    """The row for leaky_relu: a for a > 0, else slope · a; its derivative is 1 or slope."""
    grads = lambda a, out: (step(a) * (1.0 - slope) + slope,)  # noqa: E731
    forward = lambda a: a * (step(a) * (1.0 - slope) + slope)  # noqa: E731
    maths = (f"a if a > 0, else {slope:g} · a", f"1 if a > 0, else {slope:g}")
    return Op(f"leaky_relu({slope:g})", forward, grads, maths, name="leaky_relu",
              notation=f"leaky_relu({{0}}, {slope:g})", kinks=(0.0,), init="he",
              params=(slope,), forward_each=elementwise(forward))  # fmt: skip


@lru_cache(maxsize=256)
def weighted_sum(n: int) -> Op:
    """The row for a neuron's weighted sum b + w1·x1 + ... + wn·xn, inputs w1..wn, x1..xn, b:
    ∂out/∂wi = xi, ∂out/∂xi = wi, ∂out/∂b = 1. On a batch, forward and local derivatives are a
    few NumPy calls for the whole row; the derivatives come back as one array, a row per input."""

    def forward(*inputs: Any) -> Any:
        if len(inputs) != 2 * n + 1:  # as Python says for the other rows
            raise TypeError(f"weighted_sum of {n} takes {2 * n + 1} inputs, got {len(inputs)}")
        ws, xs, b = inputs[:n], inputs[n:-1], inputs[-1]
        if xs[0].__class__ is not np.ndarray and _numbers(inputs):  # b + w1·x1 + w2·x2 + ...
            return sum(map(operator.mul, ws, xs), b)
        W, X = _stack(ws), _stack(xs)
        if len({W.shape[1:], X.shape[1:], getattr(b, "shape", ())} - {()}) > 1:  # (record need not)
            raise ValueError("batches of different sizes")
        return b + (W @ X if W.ndim == 1 else X @ W if X.ndim == 1 else np.einsum("ij,ij->j", W, X))

    def grads(*inputs: Any) -> Any:  # the inputs, then out
        if inputs[-1].__class__ is not np.ndarray:  # numbers, or Values (for grad of grad)
            return (*inputs[n:-2], *inputs[:n], 1.0)
        stacked = np.empty((2 * n + 1, inputs[-1].size))  # a row per input
        stacked[:n] = _stack(inputs[n:-2]).reshape(n, -1)  # ∂out/∂wi = xi (a number: every
        stacked[n:-1] = _stack(inputs[:n]).reshape(n, -1)  # column); ∂out/∂xi = wi
        stacked[-1] = 1.0  # ∂out/∂b
        return stacked

    def matrices(inputs: list[list[Any]]) -> tuple[Any, Any]:  # W (neurons, n), X (n, batch)
        return np.array([each[:n] for each in inputs]), np.array(inputs[0][n:-1])

    def forward_each(inputs: list[list[Any]]) -> Any:  # neurons that see the same inputs x:
        xs = inputs[0][n:-1]  # one matrix product, W (neurons, n) @ X (n, batch size) + b
        if not all(each[n:-1] == xs for each in inputs[1:]):  # (the same arrays are equal at
            return None  # once; other batches of 2+ examples raise ValueError)
        (W, X), b = matrices(inputs), np.array([each[-1] for each in inputs])
        if (W.ndim, X.ndim, b.ndim) != (2, 2, 1) or {W.dtype, X.dtype, b.dtype} != {FLOAT}:
            return None  # w and b numbers, x batches of one size, else one node at a time
        if X.shape[1] < 2:  # a batch of one: equal to a number in the test above, so
            return None  # one node at a time (the test tells only 2+ examples apart)
        return W @ X + b[:, None]

    def grads_each(inputs: list[list[Any]]) -> Any:  # the neurons forward_each summed
        W, X = matrices(inputs)
        if W.ndim != 2 or X.ndim != 2:
            return None
        # ∂out/∂wi = xi, the same for every neuron; ∂out/∂xi = wi, the same for every example;
        # ∂out/∂b = 1: small arrays that broadcast, never one (neurons, inputs, batch) block
        return [X[None], W[:, :, None], np.ones((1, 1, 1))]

    terms = " + ".join(f"{{{i}}} * {{{n + i}}}" for i in range(n))
    maths = ("b + Σᵢ wᵢ·xᵢ", *(f"{v}{i + 1}" for v in "xw" for i in range(n)), "1")  # ∂/∂wi = xi
    rules = (*(f"{{{n + i}}}" for i in range(n)), *(f"{{{i}}}" for i in range(n)), "1")
    return Op("Σ w·x + b", forward, grads, maths, name="weighted_sum", arity=2 * n + 1,
              notation=f"{terms} + {{{2 * n}}}", method="", params=(n,), checks_batches=True,
              grad_notation=rules, short="z", forward_each=forward_each,
              local_grads_each=grads_each)  # fmt: skip


def _numbers(values: tuple[Any, ...]) -> bool:
    """Single numbers, no batch among them? Their sum says so at once (a batch makes one)."""
    try:
        return sum(values).__class__ is not np.ndarray
    except (ArithmeticError, ValueError, RuntimeWarning):  # batches of different sizes, or
        # an overflow of the sum alone (NumPy's raise or warning: the batch path says)
        return False


def _stack(values: tuple[Any, ...]) -> Any:
    """Numbers as an array (n,), batches as an array (n, batch size); a number among batches
    stands for every example."""
    try:
        return np.array(values)
    except ValueError:  # numbers and batches mixed; batches of different sizes are refused
        if len({len(v) for v in values if isinstance(v, np.ndarray)}) > 1:
            raise
        return np.array(np.broadcast_arrays(*values))


CALLS: dict[str, Callable[..., Op]] = {"leaky_relu": leaky_relu}
"""The families written as a call, such as leaky_relu(x, 0.1): a Value method and a function
of formulas, like the rows written as a call (tanh). (x ** 3 is the operator `**`.)"""
EXAMPLES = (power(2.0), power(3.0), power(-1.0), power(0.5), power(-1.5), leaky_relu(0.1),
            weighted_sum(1), weighted_sum(3))  # fmt: skip
"""A few rows of each family, for tests that go through every row."""


# --- helpers for local derivatives: each works on a float, a batch or a Value --------------


def _raw(x: Any) -> Any:
    """The float or array inside x (x itself when it is not a Value)."""
    return x if isinstance(x, (float, int, np.ndarray)) else x.data


def step(x: Any) -> Any:
    """1 where x > 0, else 0: a constant, even for a Value (the derivative of relu)."""
    x = x if x.__class__ is np.ndarray else _raw(x)  # (relu on a batch: no call)
    return (x > 0).astype(float) if isinstance(x, np.ndarray) else float(x > 0)


def ones_like(x: Any) -> Any:
    """1.0 for a single number, an array of ones for a batch."""
    return np.ones_like(_raw(x)) if isinstance(_raw(x), np.ndarray) else 1.0


def batch_size(x: Any) -> int:
    """How many examples x holds (1 for a single number)."""
    return _raw(x).size if isinstance(_raw(x), np.ndarray) else 1


def _use(row: Op, x: Any) -> Any:
    """row's forward on a float or a batch; on a Value, the row applied as a Value method."""
    return (
        row.forward(float(x) if isinstance(x, int) else x)
        if x is _raw(x)
        else getattr(x, row.method)()
    )
