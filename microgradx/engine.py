"""`Value`: a number that remembers how it was computed; `backward()`: the chain rule, once.

Every arithmetic step on Values adds one node to a graph. `backward()` visits that graph once,
from the output back to the inputs, and for every edge adds

    parent.grad += local_grad * node.grad        (local_grad = ∂node/∂parent)

The local derivatives come from the op table in `ops.py`; nothing here knows which op it is.
Every node also records the scope it was made in (a neuron, a layer, a loss), so that pictures
can group nodes by what the code was doing, never by their labels.
"""

from __future__ import annotations

import itertools
import operator
import threading
from collections.abc import Callable
from contextlib import ContextDecorator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from microgradx import checks, ops
from microgradx.ops import Op

# --- Value's methods and operators are made from the op table -----------------------------


def _unary(op: Op) -> Callable[[Value], Value]:
    def method(self: Value) -> Value:
        return record(op, (self,))

    method.__doc__ = f"{op.write('self')} = {op.maths[0]}: the op table's row {op.name!r}"
    return method


def _binary(op: Op, reflected: bool = False) -> Callable[[Value, Any], Value]:
    def method(self: Value, other: Any) -> Value:
        if not isinstance(other, Value):
            try:
                other = Value(other)
            except TypeError:
                return NotImplemented  # type: ignore[no-any-return]  # Python names the op
        return record(op, (other, self) if reflected else (self, other))

    method.__doc__ = op.write("other", "self") if reflected else op.write("self", "other")
    return method


def _family(make: Callable[..., Op]) -> Callable[..., Value]:
    def method(self: Value, *constants: Any) -> Value:
        return apply(make(*[checks.finite_number("a constant", c) for c in constants]), self)

    method.__doc__ = make.__doc__
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
    __slots__ = ("__weakref__", "_a", "_b", "data", "grad", "label", "op", "scope")
    __array_ufunc__ = None  # so that `ndarray * Value` reaches Value.__rmul__
    data: Any  # a float, or a 1-D array: one number per example
    grad: Any  # d(output)/d(this node), filled in by backward(); same shape as data
    label: str  # a name for pictures and error messages ("" for none)
    op: Op | None  # the row of the op table that made this node; None for an input
    scope: Scope | None  # the scope (neuron, layer, loss) open when the node was made
    _a: Value | None  # first input
    _b: Any  # second input; for three or more, a tuple of all but the first

    def __init__(self, data: Any, label: str = "") -> None:
        _fill(self, checks.as_data(data), checks.as_label(label), None, ())

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

    def __pow__(self, exponent: Any) -> Value:
        """self ** exponent: the row x ** n for a number n, the row pow for a Value."""
        if isinstance(exponent, Value):
            return apply(ops.POW, self, exponent)
        return apply(ops.power(checks.finite_number("an exponent", exponent)), self)

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

    if TYPE_CHECKING:  # what type checkers see of the methods made from the op table below
        __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _binary(ops.ADD)
        __truediv__ = __rtruediv__ = __rpow__ = _binary(ops.ADD)
        __neg__ = __abs__ = _unary(ops.NEG)
        __lt__ = __le__ = __gt__ = __ge__ = _compare(operator.lt)

        def __getattr__(self, name: str) -> Callable[..., Value]: ...  # x.tanh(), x.relu(), ...


def _fill(node: Value, data: Any, label: str, op: Op | None, parents: tuple[Value, ...]) -> None:
    """The one place a node's fields are set (a new field on Value goes here)."""
    node.data, node.grad, node.label, node.scope = data, 0.0, label, _thread.scope
    if op is None or _thread.paused:  # an input, or inside no_grad(): no graph
        node.op = node._a = node._b = None
    else:
        node.op, node._a = op, parents[0]
        node._b = None if len(parents) == 1 else parents[1] if len(parents) == 2 else parents[1:]


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
    except ops.OutsideDomain as problem:
        raise checks.outside_domain(op, parents, problem) from None
    except (ArithmeticError, ValueError) as error:  # "math domain error", batch sizes, ...
        raise checks.forward_failed(op, parents, error) from None
    if data.__class__ is float:
        if data - data != 0.0:  # inf or nan: an overflow, unless an input was already so
            checks.finite_result(op, parents, data)
    elif len(parents) > 1:
        checks.same_batch_size(op, parents)
    node = _new(Value)
    _fill(node, data, "", op, parents)
    return node


_new = object.__new__


class Edge(NamedTuple):
    """One edge of the backward walk: parent.grad += local_grad × upstream."""

    node: Value  # the node whose gradient flows back
    upstream: Any  # node's gradient: ∂root/∂node
    parent: Value  # one of node's inputs
    local_grad: Any  # ∂node/∂parent, from the op table
    contribution: Any  # local_grad × upstream: what this edge adds to parent's gradient
    grad_after: Any  # parent's gradient once it is added
    accumulated: bool  # parent already had a gradient from another path: the += is visible


def backpropagate(
    root: Value, create_graph: bool = False, on_edge: Callable[[Edge], object] | None = None
) -> dict[Value, Any]:
    """The chain rule: d(root)/d(node) for every node root depends on, in one backward walk.

    With create_graph, local derivatives are computed on the Values themselves, so every
    gradient is a Value in a new graph and can be differentiated again. `on_edge(edge)` is
    called with an `Edge` for every edge walked (the step-by-step pictures use it).
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
                        edge = (node, upstream, parent, local_grad, contribution, grads[parent])
                        on_edge(Edge(*edge, accumulated=before is not None))
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


for _row in ops.OPS.values():  # x.tanh(), x + y and 2 * x; a method written above wins
    if _row.method and _row.method not in vars(Value):
        setattr(Value, _row.method, _unary(_row) if _row.arity == 1 else _binary(_row))
    if _row.method and _row.arity == 2:
        setattr(Value, "__r" + _row.method[2:], _binary(_row, reflected=True))
for _name, _make in ops.FAMILIES.items():  # families written as a call: x.leaky_relu(0.1)
    if _name in ops.FUNCTIONS:
        setattr(Value, _name, _family(_make))
for _test in (operator.lt, operator.le, operator.gt, operator.ge):
    setattr(Value, f"__{_test.__name__}__", _compare(_test))


# --- no_grad and scopes: per-thread state ---------------------------------------------------


_scopes_made = itertools.count()


class Scope:
    """A named part of a computation: a neuron, a layer, a loss. Every node made while it is
    open points to it (`node.scope`), so pictures group nodes by structure, not by labels."""

    __slots__ = ("detail", "kind", "name", "number", "parent")

    def __init__(self, name: str, kind: str = "", parent: Scope | None = None) -> None:
        self.name, self.kind, self.parent = name, kind, parent
        self.detail = ""  # a short description for pictures: "relu neuron, 3 parameters"
        self.number = next(_scopes_made)  # scopes made earlier come first in pictures

    def path(self) -> list[Scope]:
        """This scope and the ones around it, outermost first."""
        found: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            found.append(scope)
            scope = scope.parent
        return found[::-1]

    def __repr__(self) -> str:
        return f"Scope({'/'.join(s.name for s in self.path())!r}, kind={self.kind!r})"


class _State(threading.local):
    def __init__(self) -> None:
        self.paused = False  # inside no_grad(): no graph
        self.saved: list[bool] = []  # the switch's value before each `with` still open
        self.scope: Scope | None = None  # the innermost open scope


_thread = _State()


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


class scope(ContextDecorator):
    """`with scope("loss", kind="loss"):` opens a new Scope inside the current one (or enters
    an existing Scope); every node made inside points to it. Modules and losses use this."""

    def __init__(self, name: str | Scope, kind: str = "") -> None:
        self.name, self.kind = name, kind
        self.outer: Scope | None = None

    def __enter__(self) -> Scope:
        self.outer = _thread.scope
        name = self.name
        _thread.scope = name if isinstance(name, Scope) else Scope(name, self.kind, self.outer)
        return _thread.scope

    def __exit__(self, *exc: object) -> None:
        _thread.scope = self.outer


def current_scope() -> Scope | None:
    """The innermost scope open in this thread (None outside every scope)."""
    return _thread.scope


# --- helpers ------------------------------------------------------------------------------


def _batch_total(contribution: Any) -> Any:
    """A float node that met a batch gets the sum of the per-example gradients."""
    if isinstance(contribution, Value):
        return contribution.sum() if isinstance(contribution.data, np.ndarray) else contribution
    return float(contribution.sum())
