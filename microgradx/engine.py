"""`Value`: a number that remembers how it was computed; `backward()`: the chain rule, once.

Every arithmetic step on Values adds one node to a graph. `backward()` visits that graph once,
from the output back to the inputs, and for every edge adds

    parent.grad += local_grad * node.grad        (local_grad = ∂node/∂parent)

The local derivatives come from the op table in `ops.py`; nothing here knows which op it is.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from contextlib import ContextDecorator
from typing import Any

import numpy as np

from microgradx import checks, ops
from microgradx.ops import Op


def _unary(op: Op) -> Callable[[Value], Value]:
    def method(self: Value) -> Value:
        return record(op, (self,))

    method.__doc__ = f"{op.name}(self): the row {op.name!r} of the op table (microgradx.ops)"
    return method


def _binary(op: Op, reflected: bool = False) -> Callable[[Value, Any], Value]:
    def method(self: Value, other: Any) -> Value:
        if not isinstance(other, Value):
            try:
                other = Value(other)
            except TypeError:
                return NotImplemented  # type: ignore[no-any-return]  # Python names the op
        return record(op, (other, self) if reflected else (self, other))

    method.__doc__ = f"{'other ' + op + ' self' if reflected else 'self ' + op + ' other'}"
    return method


def _compare(test: Callable[[Any, Any], Any]) -> Callable[[Value, Any], Any]:
    """Comparisons look at the data (a bool, or a boolean array) and record nothing."""

    def compare(self: Value, other: Any) -> Any:
        result = test(self.data, other.data if isinstance(other, Value) else other)
        return result if isinstance(result, np.ndarray) else bool(result)

    return compare


class Value:
    """A number (or a batch of numbers) in a computation graph, with its gradient."""

    # Two slots hold the inputs instead of a tuple: one garbage-collected object per node
    # rather than two, which halves the work Python's cycle collector does on a big graph.
    __slots__ = ("__weakref__", "_a", "_b", "data", "grad", "label", "op")
    __array_ufunc__ = None  # so that `ndarray * Value` reaches Value.__rmul__

    def __init__(self, data: Any, label: str = "") -> None:
        self.data: Any = checks.as_data(data)  # a float, or a 1-D array: one number per example
        self.grad: Any = 0.0
        self.label = checks.as_label(label)
        self.op: Op | None = None  # the row that made this node; None for an input
        self._a: Value | None = None  # first input
        self._b: Any = None  # second input; for three or more, a tuple of all but the first

    @property
    def parents(self) -> tuple[Value, ...]:
        """The op's inputs, in order; () for an input node."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        return (a, *b) if b.__class__ is tuple else (a, b)  # type: ignore[arg-type,return-value]

    def __repr__(self) -> str:
        text = f"Value(data={checks.show(self.data)}, grad={checks.show(self.grad)}"
        text += f", label={self.label!r}" if self.label else ""
        return text + (f", op={str(self.op)!r})" if self.op is not None else ")")

    # Each operator and method is one row of the op table applied to its operands.
    __add__, __radd__ = _binary(ops.ADD), _binary(ops.ADD, reflected=True)
    __sub__, __rsub__ = _binary(ops.SUB), _binary(ops.SUB, reflected=True)
    __mul__, __rmul__ = _binary(ops.MUL), _binary(ops.MUL, reflected=True)
    __truediv__, __rtruediv__ = _binary(ops.DIV), _binary(ops.DIV, reflected=True)
    __rpow__ = _binary(ops.POW, reflected=True)
    __neg__, __abs__ = _unary(ops.NEG), _unary(ops.ABS)
    exp, log, sqrt = _unary(ops.EXP), _unary(ops.LOG), _unary(ops.SQRT)
    tanh, sigmoid, relu = _unary(ops.TANH), _unary(ops.SIGMOID), _unary(ops.RELU)
    softplus, sin, cos = _unary(ops.SOFTPLUS), _unary(ops.SIN), _unary(ops.COS)
    sum, mean = _unary(ops.SUM), _unary(ops.MEAN)  # a batch reduced to one number

    def __pow__(self, exponent: Any) -> Value:
        if isinstance(exponent, Value):
            return apply(ops.POW, self, exponent)
        return apply(ops.power(checks.finite_number("an exponent", exponent)), self)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        return apply(ops.leaky_relu(checks.finite_number("a slope", slope)), self)

    __lt__, __le__ = _compare(operator.lt), _compare(operator.le)
    __gt__, __ge__ = _compare(operator.gt), _compare(operator.ge)

    def item(self) -> float:
        """The data as a plain float."""
        if isinstance(self.data, np.ndarray):
            if self.data.size == 1:
                return float(self.data[0])
            raise checks.not_reduced(self, "item()")
        return float(self.data)

    def detach(self) -> Value:
        """The same data as a new input node: gradients stop here."""
        return Value(self.data, self.label)

    def backward(self) -> None:
        """Fill in `.grad` on every node this one depends on: d(self)/d(node).

        Inputs accumulate (a second call adds the same amount again); intermediate nodes get
        fresh gradients on every call.
        """
        if isinstance(self.data, np.ndarray):
            raise checks.not_reduced(self, "backward()")
        grads = backpropagate(self)
        checks.finite_gradients(self, grads)  # before anything is stored: all or nothing
        for node, grad in grads.items():
            node.grad = node.grad + grad if node.op is None else grad


def apply(op: Op, *operands: Any) -> Value:
    """Compute one row of the op table on Values (or numbers) and record the result."""
    return record(op, tuple(x if isinstance(x, Value) else Value(x) for x in operands))


def record(op: Op, parents: tuple[Value, ...]) -> Value:
    """Run op's forward on the parents' data and add the result to the graph as a new node."""
    try:
        if len(parents) == 2:  # the common cases first, without building an argument list
            data = op.forward(parents[0].data, parents[1].data)
        elif len(parents) == 1:
            data = op.forward(parents[0].data)
        else:
            data = op.forward(*[parent.data for parent in parents])
    except checks.OutsideDomain as problem:
        raise checks.outside_domain(op, parents, problem) from None
    except (ArithmeticError, ValueError) as error:  # "math domain error", batch sizes, ...
        raise checks.forward_failed(op, parents, error) from None
    if data.__class__ is float:
        if data - data != 0.0:  # inf or nan: an overflow, unless an input was already so
            checks.finite_result(op, parents, data)
    elif len(parents) > 1:
        checks.same_batch_size(op, parents)
    node = _new(Value)
    node.data, node.grad, node.label = data, 0.0, ""
    if _thread.paused:  # inside no_grad(): no graph
        node.op = node._a = node._b = None
    else:
        node.op, node._a = op, parents[0]
        node._b = None if len(parents) == 1 else parents[1] if len(parents) == 2 else parents[1:]
    return node


_new = object.__new__


def backpropagate(root: Value, create_graph: bool = False, on_edge: Any = None) -> dict[Value, Any]:
    """The chain rule: d(root)/d(node) for every node root depends on, in one backward walk.

    With create_graph, local derivatives are computed on the Values themselves, so every
    gradient is a Value in a new graph and can be differentiated again. `on_edge(node,
    upstream, parent, local_grad, contribution, grad_after)` is called for every edge walked.
    """
    grads: dict[Value, Any] = {root: 1.0}
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        for node in reversed(topological_order(root)):
            op = node.op
            if op is None:
                continue
            upstream = grads[node]
            parents = node.parents
            try:
                if create_graph:
                    local_grads = op.local_grads(*parents, node)
                elif len(parents) == 2:
                    local_grads = op.local_grads(parents[0].data, parents[1].data, node.data)
                else:
                    local_grads = op.local_grads(*[parent.data for parent in parents], node.data)
                for parent, local_grad in zip(parents, local_grads):
                    contribution = local_grad * upstream
                    if contribution.__class__ is not float and parent.data.__class__ is float:
                        contribution = _batch_total(contribution)  # a float met a batch
                    before = grads.get(parent)
                    grads[parent] = contribution if before is None else before + contribution
                    if on_edge is not None:
                        on_edge(node, upstream, parent, local_grad, contribution, grads[parent])
            except ArithmeticError as error:
                raise checks.not_finite_backward(node, error) from None
    return grads


def topological_order(root: Value) -> list[Value]:
    """Every node that root depends on, each after its parents, root last. No recursion."""
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]  # (node, are its parents in order yet?)
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            for parent in reversed(node.parents):
                if parent not in visited:
                    stack.append((parent, False))
    return order


# --- no_grad: a per-thread switch ----------------------------------------------------------


class _Recording(threading.local):
    def __init__(self) -> None:
        self.paused = False  # this thread's switch
        self.saved: list[bool] = []  # its value before each `with` that is still open


_thread = _Recording()


class no_grad(ContextDecorator):
    """Inside `with no_grad():` (or a function decorated with `@no_grad()`) this thread builds
    no graph: every result is a plain input node. Other threads keep recording."""

    pause = True

    def __enter__(self) -> None:
        _thread.saved.append(_thread.paused)
        _thread.paused = self.pause

    def __exit__(self, *exc: object) -> None:
        _thread.paused = _thread.saved.pop()


class enable_grad(no_grad):
    """Record a graph again, even inside no_grad() (grad() uses this)."""

    pause = False


# --- helpers ------------------------------------------------------------------------------


def _batch_total(contribution: Any) -> Any:
    """A float node that met a batch gets the sum of the per-example gradients."""
    if isinstance(contribution, Value):
        return contribution.sum() if isinstance(contribution.data, np.ndarray) else contribution
    return float(contribution.sum())
