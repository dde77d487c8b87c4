"""Derivatives as functions (JAX style) and user-defined ops.

`grad(f)` is a new function that returns df/dx; because it works on Values too,
`grad(grad(f))` is the second derivative.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from microgradx import errors, ops
from microgradx.engine import Value, backpropagate, record, topological_order
from microgradx.errors import as_data
from microgradx.recording import enable_grad

_nesting = threading.local()  # how many grad() calls this thread is inside


def apply(op: ops.Op, *operands: Any) -> Value:
    """Compute one row of the op table on Values (or numbers) and record the result."""
    return record(op, tuple(x if isinstance(x, Value) else Value(x) for x in operands))


def recompute(root: Value) -> Value:
    """Run every node's forward again, inputs first, on its inputs' data as it is now (after a
    slider or an optimizer changed an input): the same nodes, new data. Gradients are left as
    they were; call backward() again (after zeroing the inputs' grads) for the new ones."""
    for node in topological_order(root, inputs=False):
        if node.op is not None:  # the row's forward, checked as when it was first recorded
            node.data = record(node.op, node.parents).data
    return root


def weighted_sum(ws: Iterable[Any], xs: Iterable[Any], b: Any = 0.0) -> Value:
    """b + w1·x1 + ... + wn·xn as one node of the graph (a neuron's pre-activation): its local
    derivatives are ∂/∂wi = xi, ∂/∂xi = wi and ∂/∂b = 1. Weights, inputs and b may be Values
    or numbers, single numbers or batches; `weighted_sum([w1, w2], [x1, x2], b)`."""
    for given in (ws, xs):  # a batch as rows: each input is a column
        if isinstance(given, np.ndarray) and given.ndim == 2:
            shape = f"for a batch of shape {given.shape} pass its columns, list(X.T)"
            raise ValueError(f"weighted_sum takes one 1-D weight and input per term: {shape}")
    if not isinstance(ws, Iterable) or not isinstance(xs, Iterable):
        got = f"{type(ws).__name__} and {type(xs).__name__}"
        raise TypeError(f"weighted_sum takes a list of weights and a list of inputs; got {got}")
    ws, xs = list(ws), list(xs)
    if not ws or len(ws) != len(xs):
        got = f"{len(ws)} weight(s) and {len(xs)} input(s)"
        raise ValueError(f"weighted_sum needs one weight per input, at least one; got {got}")
    n, operands = len(ws), [*ws, *xs, b]
    mixed = set(map(type, operands[:-1])) != {Value}  # (b, often 0.0, is looked at alone)
    for i in range(2 * n + 1) if mixed else (2 * n,):
        x = operands[i]
        try:  # a number becomes an input node
            operands[i] = x if isinstance(x, Value) else Value(x)
        except TypeError as error:
            role = f"weight {i + 1}" if i < n else f"input {i - n + 1}" if i < 2 * n else "b"
            raise TypeError(f"weighted_sum: {role}: {error}") from None
    return record(ops.weighted_sum(n), tuple(operands))


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The function that returns df/d(argument argnums): `grad(lambda x: x ** 3)(2.0) == 12.0`.

    Numbers in, numbers out (an array for a batched input, a tuple for several argnums).
    Inside another grad() call, or given Values, it returns Values, so it can be
    differentiated again.
    """
    with_value = value_and_grad(f, argnums)

    @functools.wraps(f)
    def gradient(*args: Any) -> Any:
        return with_value(*args)[1]

    return gradient


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The function that returns (f(...), df/d(argument argnums)), from one backward pass."""
    single = isinstance(argnums, (int, np.integer))
    given: tuple[Any, ...] = (argnums,) if single else tuple(argnums)  # type: ignore[arg-type]
    if not given or not all(
        isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in given
    ):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    positions = tuple(int(i) for i in given)

    @functools.wraps(f)
    def evaluate(*args: Any) -> tuple[Any, Any]:
        if not all(-len(args) <= i < len(args) for i in positions):
            raise ValueError(f"argnums={argnums!r}, but the function got {len(args)} argument(s)")
        depth: int = getattr(_nesting, "depth", 0)
        differentiable = depth > 0 or any(isinstance(args[i], Value) for i in positions)
        inputs = list(args)
        _nesting.depth = depth + 1
        try:
            with enable_grad():
                for i in positions:  # a fresh node for each: other paths to args[i] do not count
                    inputs[i] = _fresh(args[i], label=f"arg{i}")
                out = f(*inputs)
                grads = _gradients(out, differentiable)
        finally:
            _nesting.depth = depth
        found = [grads.get(inputs[i], 0.0 * ops.ones_like(inputs[i])) for i in positions]
        if differentiable:
            found = [g if isinstance(g, Value) else Value(g) for g in found]
        value = out if differentiable or not isinstance(out, Value) else out.data
        return value, found[0] if single else tuple(found)

    return evaluate


def _fresh(x: Any, label: str) -> Value:
    """A new node holding x: a leaf for a number, `x + 0` for a Value (so it stays connected)."""
    if isinstance(x, Value):
        node = x + 0.0
        node.label = x.label or label
        return node
    return Value(x, label=label)


def _gradients(out: Any, differentiable: bool) -> dict[Value, Any]:
    if not isinstance(out, Value):
        if isinstance(out, (int, float, np.integer, np.floating)):
            return {}  # a constant: every gradient is zero
        raise TypeError(f"grad needs a function that returns a Value, got {type(out).__name__}")
    if isinstance(out.data, np.ndarray):
        raise ValueError(
            f"grad needs a function that returns a single number, but it returned a batch of "
            f"{out.data.size}; reduce it with .mean() or .sum()"
        )
    grads = backpropagate(out, create_graph=differentiable)
    if not differentiable:
        errors.finite_gradients(out, grads)
    return grads


class CustomOp(ops.Op):
    """A row made by `custom_op`: call it on Values or numbers (`cube(x)`), or pass it wherever a
    row of the op table goes (apply, check_op, strategies). It lives only where you keep it:
    nothing looks rows up by name, so a built-in op added later never replaces it."""

    def __call__(self, *operands: Any) -> Value:
        if len(operands) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} input(s), got {len(operands)}")
        return apply(self, *operands)


def custom_op(
    name: str,
    forward: Callable[..., Any],
    *local_grads: Callable[..., Any],
    domain: tuple[ops.Interval, ...] | None = None,
    kinks: tuple[float, ...] = (),
    maths: tuple[str, ...] = (),
) -> CustomOp:
    """A new op from its forward function and one local derivative per input.

    Each local derivative takes the inputs and the output, with ordinary arithmetic:
    `cube = custom_op("cube", lambda a: a ** 3, lambda a, out: 3 * a ** 2)`, then `cube(x)`.
    `domain` (an open interval per input) and `kinks` (where the first or second derivative
    jumps) guide gradient checks; `maths` gives the forward and each derivative as text.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"custom_op: the name must be a word such as 'cube', got {name!r}")
    arity = len(local_grads)
    if arity == 0:
        raise TypeError(f"custom_op {name!r}: give one local derivative per input (at least one)")
    if domain is not None and len(domain) != arity:
        raise ValueError(f"custom_op {name!r}: give one (low, high) domain per input ({arity})")
    for i, function in enumerate((forward, *local_grads)):
        wanted = arity if i == 0 else arity + 1
        what = "forward" if i == 0 else f"local derivative {i}"
        try:
            inspect.signature(function).bind(*range(wanted))
        except TypeError:
            raise TypeError(
                f"custom_op {name!r}: {what} must take {wanted} argument(s) "
                f"({'the inputs' if i == 0 else 'the inputs, then out'}); "
                f"give one local derivative per input"
            ) from None
        except ValueError:  # a builtin without a signature: trust it
            pass
    letters = [chr(ord("a") + i) for i in range(arity)]  # a, b, ...: the inputs in `maths`
    return CustomOp(
        name,
        lambda *inputs: _one_per_example(name, inputs, as_data(forward(*inputs))),
        lambda *inputs_and_out: tuple(g(*inputs_and_out) for g in local_grads),
        maths or (f"{name}({', '.join(letters)})", *(f"∂{name}/∂{x}" for x in letters)),
        arity=arity,
        domain=domain or (ops.ALL,) * arity,
        kinks=kinks,
        method="",
    )


def _one_per_example(name: str, inputs: tuple[Any, ...], out: Any) -> Any:
    """A custom op's result: a batch only of the size of its input batches (or a number)."""
    sizes = {x.size for x in inputs if isinstance(x, np.ndarray)}
    if isinstance(out, np.ndarray) and sizes != {out.size}:
        given = f"batches of {' and '.join(map(str, sorted(sizes)))}" if sizes else "numbers"
        raise ValueError(
            f"custom_op {name!r}: forward gave {out.size} numbers for {given}; give one number "
            "per example (or one number for the whole batch)"
        )
    return out
