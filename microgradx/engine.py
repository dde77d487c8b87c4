"""`Value`: a number that remembers how it was computed; `backward()`: the chain rule, once.

Every arithmetic step on Values adds one node to a graph. `backward()` visits that graph once,
from the output back to the inputs, and for every edge adds

    parent.grad += local_grad * node.grad        (local_grad = ∂node/∂parent)

The local derivatives come from the op table in `ops.py`; nothing here knows which op it is.
Nodes that a layer records together (`record_each`: its weighted sums) go back together, when
the walk reaches the last of them: the same products and sums, by matrix products.
Every node also records the scope it was made in (a neuron, a layer, a loss), so that pictures
can group nodes by what the code was doing, never by their labels.
"""

from __future__ import annotations

import inspect
import itertools
import math
import operator
import threading
import warnings
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from microgradx import errors, ops
from microgradx.ops import Op

# --- Value's methods and operators are made from the op table (see the loop below Value) ---


def _unary(op: Op) -> Callable[[Value], Value]:
    """x.tanh(): the row applied to x."""

    def method(self: Value) -> Value:
        return record(op, (self,))

    method.__doc__ = f"{op.maths[0]}: the row {op.name!r} of the op table"
    return method


def _family(make: Callable[..., Op]) -> Callable[..., Value]:
    """x.leaky_relu(0.1) or x.leaky_relu(slope=0.1): the family makes its row from the
    constant, then applies it to x."""
    names = list(inspect.signature(make).parameters)  # the constants' names: slope

    def method(self: Value, *constants: Any, **named: Any) -> Value:
        named.update(zip(names, constants))  # by position or by name, in the family's order
        numbers = [errors.finite_number(f"a {n}", named.pop(n)) for n in names if n in named]
        return record(make(*numbers, **named), (self,))  # a name left over: Python's error

    method.__doc__ = make.__doc__
    return method


def _binary(op: Op, reflected: bool = False) -> Callable[[Value, Any], Value]:
    """self + other, or other + self when reflected (2 * x calls x.__rmul__(2))."""

    def method(self: Value, other: Any) -> Value:
        if not isinstance(other, Value):
            try:
                other = Value(other)
            except TypeError:
                return NotImplemented  # type: ignore[no-any-return]  # Python names the op
        return record(op, (other, self) if reflected else (self, other))

    return method


def _compare(test: Callable[[Any, Any], Any]) -> Callable[[Value, Any], Any]:
    """Comparisons look at the data (a bool, or a boolean array) and record nothing."""

    def compare(self: Value, other: Any) -> Any:
        result = test(self.data, other.data if isinstance(other, Value) else other)
        return result if isinstance(result, np.ndarray) else bool(result)

    return compare


class Unreached(float):
    """0.0, the gradient of a node that no backward() has reached since it was made or its
    gradient zeroed (PyTorch's None). Arithmetic on it gives plain floats; optimizers skip it."""


UNREACHED = Unreached()


class Value:
    """A number (or a batch of numbers) in a computation graph, with its gradient."""

    # Two slots hold one or two inputs instead of a tuple: one garbage-collected object per
    # node rather than two, which halves the work Python's cycle collector does on a big
    # graph. A row of three or more inputs (a weighted sum) keeps its tuple in the second,
    # and the first then holds the Mark record_each leaves on nodes it made together (or
    # None): no ninth slot, which would make every node bigger.
    __slots__ = ("__weakref__", "_a", "_b", "data", "grad", "label", "op", "scope")
    __array_ufunc__ = None  # so that `ndarray * Value` reaches Value.__rmul__

    def __init__(self, data: Any, _children: Any = (), _op: str = "", label: str = "",
                 op: Op | None = None, parents: tuple[Value, ...] = ()) -> None:  # fmt: skip
        """A number, or a batch (a 1-D array). _children and _op are the lecture's spelling,
        left empty: a result is recorded by computing it. The engine also passes the row that
        made the node and its inputs: this is the one place a node is built."""
        paused, self.scope = recording.now  # the Scope (neuron, layer, loss) it is made in
        if op is None:  # an input: check what it holds
            if _children or _op:
                raise errors.built_by_hand(_children, _op)
            data = errors.as_data(data, label)
        elif paused:  # inside no_grad(): no graph, every result is an input
            op, parents = None, ()
        self.data: Any = data  # a float, or a 1-D array: one number per example
        self.grad: Any = UNREACHED  # d(output)/d(this node), filled in by backward()
        self.label: str = label  # a name for pictures and error messages ("" for none)
        self.op: Op | None = op  # the row of the op table that made it; None for an input
        self._a: Any = parents[0] if 0 < len(parents) < 3 else None  # its first input (or Mark)
        self._b: Any = parents[1] if len(parents) == 2 else parents if len(parents) > 2 else None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The op's inputs, in order; () for an input node."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        return b if b.__class__ is tuple else (a, b)  # (a row of three or more: all of them)

    @property
    def _prev(self) -> set[Value]:
        """The lecture's name for the inputs: parents as a set (no order, no repeats)."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """The lecture's name for the op: its symbol ("+", "**2", "tanh"); "" for an input."""
        return "" if self.op is None else str(self.op)

    def __repr__(self) -> str:
        text = f"Value(data={errors.show(self.data)}, grad={errors.show(self.grad)}"
        text += f", label={self.label!r}" if self.label else ""
        return text + (f", op={str(self.op)!r})" if self.op is not None else ")")

    def __pow__(self, exponent: Any) -> Value:
        """self ** exponent: the row x ** n for a number n, the row pow for a Value."""
        if isinstance(exponent, Value):
            return record(ops.POW, (self, exponent))
        return record(ops.power(errors.finite_number("an exponent", exponent)), (self,))

    def item(self) -> float:
        """The data as a plain float."""
        if isinstance(self.data, np.ndarray) and self.data.size != 1:
            raise errors.not_reduced(self, "item()")
        return float(self.data[0] if isinstance(self.data, np.ndarray) else self.data)

    def detach(self) -> Value:
        """The same data as a new input node: gradients stop here."""
        return Value(self.data, label=self.label)

    def backward(self) -> None:
        """Fill in `.grad` on every node this one depends on: d(self)/d(node).

        Inputs accumulate (a second call adds the same amount again); intermediate nodes get
        fresh gradients on every call.
        """
        if isinstance(self.data, np.ndarray):
            raise errors.not_reduced(self, "backward()")
        grads = backpropagate(self)
        errors.finite_gradients(self, grads)  # before anything is stored: all or nothing
        for node, grad in grads.items():
            node.grad = node.grad + grad if node.op is None else grad

    def _backward(self, explain: bool = False) -> None:
        """Backpropagation by hand, one node at a time (the lecture's manual steps): for each
        input, parent.grad += ∂self/∂parent × self.grad, the local derivative from the op
        table, the step from the backward walk; an input does nothing. explain: print each."""
        edges: list[Edge] = []
        backpropagate(self, on_edge=edges.append, order=(self,), upstream=self.grad)
        for i, edge in enumerate(edges):
            edge.parent.grad = edge.parent.grad + edge.contribution  # += (an array: a copy)
            if explain:
                print(_in_words(edge, i))

    if TYPE_CHECKING:  # what type checkers see of the methods made from the op table below
        __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _binary(ops.ADD)
        __truediv__ = __rtruediv__ = __rpow__ = _binary(ops.ADD)
        __neg__ = __abs__ = _unary(ops.NEG)
        __lt__ = __le__ = __gt__ = __ge__ = _compare(operator.lt)

        def __getattr__(self, name: str) -> Callable[..., Value]: ...  # x.tanh(), x.relu(), ...


for _row in ops.OPS.values():  # x.tanh(), x + y and 2 * x; a method written above wins
    if _row.method and _row.method not in vars(Value):
        setattr(Value, _row.method, _unary(_row) if _row.arity == 1 else _binary(_row))
    if _row.method.startswith("__") and _row.arity == 2:  # an operator: also 2 * x
        setattr(Value, "__r" + _row.method[2:], _binary(_row, reflected=True))
for _name, _make in ops.CALLS.items():  # a family written as a call: x.leaky_relu(0.1)
    setattr(Value, _name, _family(_make))
for _test in (operator.lt, operator.le, operator.gt, operator.ge):
    setattr(Value, f"__{_test.__name__}__", _compare(_test))


def record(op: Op, parents: tuple[Value, ...]) -> Value:
    """Run op's forward on the parents' data and add the result to the graph as a new node."""
    try:
        if len(parents) == 2:  # the common cases first, without building an argument list
            data = op.forward(parents[0].data, parents[1].data)
        elif len(parents) == 1:
            data = op.forward(parents[0].data)
        else:
            data = op.forward(*[parent.data for parent in parents])
        # inf or nan? For a batch, one sum of squares says if any example is (or is past 1e308)
        finite = data - data == 0.0 if data.__class__ is float else data.dot(data) < math.inf
    except (ops.OutsideDomain, ArithmeticError, ValueError) as error:  # log(-1), sizes, ...
        raise errors.forward_failed(op, parents, error) from None
    except RuntimeWarning:  # NumPy warned of an inf or nan, and warnings are errors here:
        with np.errstate(all="ignore"), warnings.catch_warnings():  # once more, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            return record(op, parents)
    if not finite or (data.__class__ is not float and _several_batches(op, parents)):
        errors.check_result(op, parents, data, finite)  # inf or nan made? batches of 1 and n?
    node = _new(Value)
    _build(node, data, (), "", "", op, parents)  # Value.__init__, without the class-call detour
    return node


def record_each(op: Op, inputs: Sequence[tuple[Value, ...]], scopes: Sequence[Any]) -> list[Value]:
    """[record(op, parents) for parents in inputs], node i in scopes[i] (a neuron's Scope):
    the same nodes, computed together where the row can (its forward_each: a layer's weighted
    sums as one matrix product, its activations as one NumPy call). Elsewhere, and wherever
    something is wrong (inf or nan, sizes), one at a time: record's checks and errors."""
    block = None
    if op.forward_each is not None and len(inputs) > 1:
        try:
            block = op.forward_each([[parent.data for parent in each] for each in inputs])
            if block is not None and not block.ravel().dot(block.ravel()) < math.inf:
                block = None  # an inf or nan: record finds it and names it
        except (ops.OutsideDomain, ArithmeticError, ValueError, RuntimeWarning):
            block = None  # record says what, one node at a time
    mark = Mark() if block is not None and op.local_grads_each is not None else None
    nodes = []
    for i, parents in enumerate(inputs):
        node = record(op, parents) if block is None else _new(Value)
        if block is not None:
            _build(node, block[i], (), "", "", op, parents)  # as record builds it
        node.scope = scopes[i]
        if mark is not None and node.op is not None:  # (not under no_grad: inputs then)
            node._a = mark  # backward takes these nodes together (3+ inputs: a free slot)
        nodes.append(node)
    return nodes


class Mark:
    """What record_each leaves on the nodes it made together (one Mark for all of them)."""

    __slots__ = ()


def _several_batches(op: Op, parents: tuple[Value, ...]) -> bool:
    """Do two or more inputs hold batches? (They must be of one size: NumPy would pair one
    example with n. A weighted sum checks its own.)"""
    if len(parents) == 2:
        return parents[0].data.__class__ is parents[1].data.__class__  # (one is a batch)
    return len(parents) > 2 and not op.checks_batches


_new, _build = object.__new__, Value.__init__
# record checks every result and names the op and the example: NumPy's warning of the same
# overflow (in an op's forward, or in the check) would only come first and say less
warnings.filterwarnings("ignore", ".* encountered", RuntimeWarning, r"microgradx\.(ops|engine)")


Edge = namedtuple("Edge", "node upstream parent local_grad contribution grad_after accumulated")
"""One edge of the backward walk: parent's gradient += local_grad (∂node/∂parent) × upstream
(∂root/∂node) = contribution, making grad_after; accumulated: parent had a gradient already."""


def backpropagate(
    root: Value,
    create_graph: bool = False,
    on_edge: Callable[[Edge], object] | None = None,
    order: Sequence[Value] | None = None,
    upstream: Any = 1.0,
) -> dict[Value, Any]:
    """The chain rule: d(root)/d(node) for every node root depends on, in one backward walk.

    With create_graph, local derivatives are computed on the Values themselves, so every
    gradient is a Value in a new graph and can be differentiated again. `on_edge(edge)` is
    called with an `Edge` for every edge walked (the step-by-step pictures use it). `order`
    chooses the walk: root first, every node after all the nodes that use it (the pictures
    finish a neuron before the next); by default the reverse of topological_order(root).
    upstream: the gradient root starts with (1.0: ∂root/∂root; _backward passes root.grad).
    """
    grads: dict[Value, Any] = {root: upstream}
    marked: list[Value] = []  # nodes record_each made together, which go back together
    walk: Any = topological_order(root, False, marked)[::-1] if order is None else order
    if on_edge is None and not create_graph:
        walk = walk if order is None else list(order)  # (read twice: an iterator would not do)
        groups = _groups(marked[::-1] if order is None else walk)
        walk = _taking_groups(walk, groups, grads) if groups else walk
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        for node in walk:
            try:
                if (op := node.op) is None:
                    if node.__class__ is not Together:
                        continue  # an input root: nothing to pass back
                    node, parents, contributions, _ = node  # a group's, summed already
                    walked, stacked, upstream = contributions, True, None
                else:
                    upstream, parents, stacked = grads[node], node.parents, False
                    if create_graph:
                        local_grads = op.local_grads(*parents, node)
                    elif len(parents) == 2:
                        local_grads = op.local_grads(parents[0].data, parents[1].data, node.data)
                    elif len(parents) == 1:
                        local_grads = op.local_grads(parents[0].data, node.data)
                    else:  # n inputs: the row may send one array, a row per input
                        datas = [parent.data for parent in parents]
                        local_grads = op.local_grads(*datas, node.data)
                        stacked = local_grads.__class__ is np.ndarray
                    contributions = _rows(local_grads * upstream, parents) if stacked else parents
                    # a stacked row's own rows are read only by on_edge (no array view per edge)
                    walked = contributions if stacked and on_edge is None else local_grads
                for parent, local_grad, contribution in zip(parents, walked, contributions):
                    if not stacked:  # (a stacked row's contributions are computed at once)
                        contribution = local_grad * upstream
                        if contribution.__class__ is not float and parent.data.__class__ is float:
                            contribution = _batch_total(contribution)  # a float met a batch
                    before = grads.get(parent)
                    after = contribution if before is None else before + contribution
                    grads[parent] = after
                    if on_edge is not None:
                        edge = (node, upstream, parent, local_grad, contribution, after)
                        on_edge(Edge(*edge, accumulated=before is not None))
            except ArithmeticError as error:
                raise errors.not_finite_backward(node, error) from None
    return grads


Together = namedtuple("Together", "node parents contributions op")
"""A group in the walk, at its last member: the group's inputs and their contributions (its
op is None, so the walk's common path asks nothing more of a node)."""
Group = namedtuple("Group", "members own shared parents")
"""Nodes that one record_each made and backward takes together (a layer's weighted sums):
the members in the walk's order; the input positions where each member has a number of its
own (its weights) and those where one input is shared by all (the layer's x); the inputs:
the own ones position by position, then the shared ones."""


def _groups(walk: list[Value]) -> dict[int, Group]:
    """The groups in a walk: two or more nodes with one mark, whose every input is shared by
    all of them or is an input node holding a number (its weights: at least one input that
    not all of them share), so none of their inputs comes in the walk before the last of
    them, and each gets its gradient then."""
    found: dict[int, list[Value]] = {}
    for node in walk:
        if node._a.__class__ is Mark:  # (record_each marks no node made under no_grad)
            found.setdefault(id(node._a), []).append(node)
    groups = {}
    for key, members in found.items():
        if len(members) > 1:
            columns = list(zip(*[member.parents for member in members]))
            shared = [i for i, c in enumerate(columns) if c[0] is c[1] and c.count(c[0]) == len(c)]
            own = sorted(set(range(len(columns))).difference(shared))
            mine = list(itertools.chain.from_iterable(columns[i] for i in own))
            computed = [p for p in mine if p.op is not None]  # (comprehensions: faster here)
            if not computed and {p.data.__class__ for p in mine} == {float}:
                groups[key] = Group(members, own, shared, mine + [columns[i][0] for i in shared])
    return groups


def _taking_groups(walk: list[Value], groups: dict[int, Group], grads: dict[Value, Any]) -> Any:
    """The walk, each group taken when its last member comes: (that member, the group's
    inputs, their contributions); its members one at a time where they cannot go together."""
    for node in walk:
        group = groups.get(id(node._a)) if node._a.__class__ is Mark else None
        if group is None:
            yield node
        elif node is group.members[-1]:
            together = _together(group, grads)
            yield from group.members if together is None else [together]


def _together(group: Group, grads: dict[Value, Any]) -> Together | None:
    """A group's inputs, each with its contribution: the row's local derivatives of every
    member at once (local_grads_each) times each member's upstream; summed over the batch for
    an own input holding a number; an input all members share gets the sum of theirs. None
    where the row cannot or a number is not finite (then the members go one at a time, and
    an error names the node)."""
    members, own, shared, parents = group
    op = members[0].op
    assert op is not None and op.local_grads_each is not None
    try:
        upstreams = np.array([grads[member] for member in members])  # (members, batch size)
        blocks = op.local_grads_each([[p.data for p in m.parents] for m in members])
        if blocks is None or upstreams.ndim != 2:
            return None
        sums = upstreams.sum(axis=1)[:, None], upstreams.sum(axis=0)  # (of each, of all)
        summed = [_summed(block, upstreams, *sums) for block in blocks]
        mine = np.concatenate([each for each, _ in summed], axis=1)[:, own]  # (members, own)
        ours = np.concatenate([all_ for _, all_ in summed])[shared]  # (shared, batch size)
        if not (np.isfinite(mine).all() and np.isfinite(ours).all()):
            return None  # (matrix products do not raise; the others do, caught below)
        contributions: list[Any] = mine.T.ravel().tolist()  # position by position
        for total, parent in zip(ours, parents[len(contributions) :]):
            contributions.append(float(total.sum()) if parent.data.__class__ is float else total)
    except (FloatingPointError, ValueError):
        return None
    return Together(members[-1], parents, contributions, None)


def _summed(block: Any, upstreams: Any, of_each: Any, of_all: Any) -> tuple[Any, Any]:
    """One block of local derivatives (members or 1, inputs, batch size or 1) times the
    upstreams (members, batch size): summed over the batch (members, inputs), and summed over
    the members (inputs, batch size); by matrix products, never broadcast out in full.
    of_each, of_all: each member's upstream summed over the batch, and all members' summed."""
    k, _, size = block.shape
    if size == 1:  # the same for every example (∂z/∂x = w)
        over_batch = block[:, :, 0] * of_each
    elif k == 1:  # the same for every member (∂z/∂w = x)
        over_batch = upstreams @ block[0].T
    else:
        over_batch = np.matmul(block, upstreams[:, :, None])[:, :, 0]
    if k == 1:
        over_members = block[0] * of_all
    elif size == 1:
        over_members = block[:, :, 0].T @ upstreams
    else:
        over_members = np.einsum("kib,kb->ib", block, upstreams)
    return over_batch, over_members


def _in_words(edge: Edge, i: int) -> str:
    """Edge i of a node in numbers: w.grad += ∂o/∂w × o.grad = x × o.grad = 2.0 × 0.5 = 1.0"""
    (n, p), op = map(_called, (edge.node, edge.parent)), edge.node.op
    rule = "".join(op.grad_notation[i : i + 1]).format(*map(_called, edge.node.parents))
    rule = f" = ({rule}) × {n}.grad" if " " in rule else f" = {rule} × {n}.grad" if rule else ""
    summed = np.ndim(edge.contribution) < max(np.ndim(edge.local_grad), np.ndim(edge.upstream))
    numbers = f"{errors.show(edge.local_grad)} × {errors.show(edge.upstream)}"
    numbers += f"{' summed over the batch' * summed} = {errors.show(edge.contribution)}"
    after = f", so {p}.grad = {errors.show(edge.parent.grad)}"
    return f"{p}.grad += ∂{n}/∂{p} × {n}.grad{rule} = {numbers}{after}"


def _called(node: Value) -> str:
    """What _backward(explain=True) calls a node: its label (bracketed if it is a formula:
    (x1*w1).grad), else its op's name."""
    return ops.operand(node.label or (node.op.name if node.op is not None else "input"))


def topological_order(
    root: Value, inputs: bool = True, marked: list[Value] | None = None
) -> list[Value]:
    """Every node that root depends on, each after its parents, root last. No recursion.
    inputs=False leaves out the input nodes but the root (backward has nothing to do there).
    marked: a list that gets the nodes record_each marked to go back together, in this order."""
    order: list[Value] = []
    visited: set[Value] = set()
    stack = [(root, root.op is None)]  # (node, are its parents in the order yet?)
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            if node.op is None:  # an input (it has no parents): unless it is in already
                if node in visited:
                    continue
                visited.add(node)
            order.append(node)
            if node._a.__class__ is Mark and marked is not None:
                marked.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            for parent in reversed(node.parents):
                if (inputs or parent.op is not None) and parent not in visited:
                    stack.append((parent, parent.op is None))
    return order


def _rows(contributions: Any, parents: tuple[Value, ...]) -> list[Any]:
    """Each input's contribution from one array, a row per input (a weighted sum on a batch
    sends all of them in a few NumPy calls): a float input gets its row summed over the batch."""
    try:
        rows: list[Any] = np.add.reduce(contributions, axis=1).tolist()
    except FloatingPointError:  # an overflow, perhaps only in a batch input's sum (not used)
        with np.errstate(over="ignore", invalid="ignore"):
            rows = np.add.reduce(contributions, axis=1).tolist()
        if any(p.data.__class__ is float and r - r != 0.0 for p, r in zip(parents, rows)):
            raise
    for i, parent in enumerate(parents):
        if parent.data.__class__ is not float:
            rows[i] = contributions[i]
    return rows


def _batch_total(contribution: Any) -> Any:
    """A float node that met a batch gets the sum of the per-example gradients."""
    if isinstance(contribution, Value):
        return contribution.sum() if isinstance(contribution.data, np.ndarray) else contribution
    return float(contribution.sum())


# --- what this thread records: set by no_grad(), enable_grad() and scope() (recording.py) ---


class _Recording(threading.local):
    now: tuple[bool, Any] = (False, None)  # (inside no_grad(), so no graph?, the open Scope)

    def __init__(self) -> None:
        self.saved: list[tuple[bool, Any]] = []  # `now` before each no_grad() still open


recording = _Recording()
