"""A layer records its neurons' nodes together (engine.record_each, a row's forward_each): one
matrix product for the weighted sums, one NumPy call for the activations. The nodes must be
the ones the neurons record one by one: the same data, rows, inputs, scopes, labels and
gradients; where the row cannot (single numbers, mixed inputs) or something is wrong (inf,
nan), one at a time, with record's own errors. Backward takes such nodes together (matrix
products): every gradient must be the one the node-by-node walk gives, and no two nodes may
end up sharing a gradient array."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from microgradx import Value, engine, nn, no_grad, ops
from microgradx.engine import UNREACHED, backpropagate, record, record_each, topological_order
from microgradx.recording import Scope

ROWS_EACH = [row for row in ops.OPS.values() if row.forward_each is not None]
ROWS_EACH.append(ops.leaky_relu(0.1))


def columns(X: np.ndarray) -> list[Value]:
    return [Value(column, label=f"x{j + 1}") for j, column in enumerate(X.T)]


def one_by_one(layer: nn.Layer, inputs: list[Value]) -> list[Value]:
    """What the layer's neurons record when each is called alone (record, one node at a time)."""
    return [neuron.forward(inputs) for neuron in layer.neurons]


def leaf_grads(outputs: list[Value], leaves: list[Value]) -> list[Any]:
    for leaf in leaves:
        leaf.grad = 0.0
    total = sum(((k + 1.0) * out for k, out in enumerate(outputs)), Value(0.0))
    (total.sum() if isinstance(total.data, np.ndarray) else total).backward()
    return [leaf.grad for leaf in leaves]


@settings(max_examples=60, deadline=None)
@given(
    nin=st.integers(1, 5),
    nout=st.integers(1, 5),
    activation=st.sampled_from(nn.ACTIVATIONS),
    size=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    batch=st.booleans(),
)
def test_a_layer_records_the_nodes_its_neurons_record_one_by_one(
    nin: int, nout: int, activation: str, size: int, seed: int, batch: bool
) -> None:
    rng = np.random.default_rng(seed)
    layer = nn.Layer(nin, nout, activation=activation, rng=rng)
    layer.load_state_dict({name: float(rng.normal()) for name in layer.state_dict()})
    X = rng.normal(0, 2, (size, nin))
    inputs = (
        columns(X) if batch else [Value(float(x), label=f"x{j + 1}") for j, x in enumerate(X[0])]
    )

    together, alone = layer.forward(inputs), one_by_one(layer, inputs)

    assert len(together) == len(alone) == nout
    for a, b in zip(together, alone):
        assert type(a.data) is type(b.data)
        assert np.allclose(a.data, b.data, rtol=1e-12, atol=1e-12)
        assert (a.op, a.label, a.scope) == (b.op, b.label, b.scope)
        za, zb = (a.parents[0], b.parents[0]) if activation != "linear" else (a, b)
        assert za.op == zb.op == ops.weighted_sum(nin)
        assert za.parents == zb.parents  # the same Values: w1..wn, x1..xn, b
        assert za.scope is zb.scope and za.scope.kind == "neuron"
        assert np.allclose(za.data, zb.data, rtol=1e-12, atol=1e-12)
    leaves = [*layer.parameters(), *inputs]
    for ga, gb in zip(leaf_grads(together, leaves), leaf_grads(alone, leaves)):
        assert np.allclose(ga, gb, rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("row", ROWS_EACH, ids=str)
def test_an_elementwise_rows_forward_each_is_its_forward_on_each_batch(
    row: ops.Op, data: st.DataObject
) -> None:
    low, high = row.domain[0]
    low, high = max(low, -50.0), min(high, 50.0)
    k, size = data.draw(st.integers(2, 5)), data.draw(st.integers(1, 6))
    batch = arrays(np.float64, size, elements=st.floats(low, high, exclude_min=True))
    batches = [data.draw(batch) for _ in range(k)]
    block = row.forward_each([[b] for b in batches])
    assert block.shape == (k, size)
    for got, b in zip(block, batches):
        assert np.array_equal(got, row.forward(b), equal_nan=True)


def test_an_elementwise_row_cannot_take_numbers_or_mixed_batches_together() -> None:
    """record_each then records them one at a time (None), or NumPy's ValueError sends it there."""
    assert ops.RELU.forward_each([[1.0], [2.0]]) is None  # single numbers: one at a time
    for mixed in ([[np.ones(3)], [np.ones(4)]], [[np.ones(3)], [2.0]]):
        with pytest.raises(ValueError):
            ops.RELU.forward_each(mixed)


def test_a_weighted_sum_says_none_unless_numbers_weigh_one_shared_batch() -> None:
    row, x1, x2 = ops.weighted_sum(2), np.arange(3.0), np.ones(3)
    assert row.forward_each([[1.0, 2.0, x1, x2, 0.5], [3.0, 4.0, x1, x2, 0.0]]).shape == (2, 3)
    assert row.forward_each([[1.0, 2.0, 1.0, 2.0, 0.5], [3.0, 4.0, 1.0, 2.0, 0.0]]) is None
    one = np.ones(1)  # a batch of one equals a number 1.0, and other batches of one: one node
    assert row.forward_each([[1.0, 2.0, one, one, 0.5], [3.0, 4.0, 1.0, 1.0, 0.0]]) is None
    assert row.forward_each([[1.0, 2.0, one, one, 0.5], [3.0, 4.0, one, one, 0.0]]) is None
    for different in (
        [[1.0, 2.0, x1, x2, 0.5], [3.0, 4.0, x2, x1, 0.0]],  # not the same x
        [[x1, 2.0, x1, x2, 0.5], [3.0, 4.0, x1, x2, 0.0]],
    ):  # a batch as a weight
        with pytest.raises(ValueError):  # record_each then goes one node at a time
            row.forward_each(different)


@pytest.mark.parametrize("same_x", [False, True])
def test_record_each_with_inputs_it_cannot_take_together_records_them_one_at_a_time(
    same_x: bool,
) -> None:
    """Not the same inputs x; or x a batch of one example for one node and a number of the same
    value for the other (equal, but the second node holds a number, as record makes it)."""
    row = ops.weighted_sum(2)
    w = [Value(float(i)) for i in range(4)]
    x1, x2, x3 = Value(np.arange(3.0)), Value(np.ones(3)), Value(2.0)
    one, number, b = Value(np.array([1.0])), Value(1.0), Value(0.5)
    groups = [(w[0], w[1], x1, x2, b), (w[2], w[3], x2, x3, b)]
    if same_x:
        groups = [(w[0], w[1], one, one, b), (w[2], w[3], number, number, b)]
    scopes = [Scope("a", "neuron"), Scope("b", "neuron")]
    nodes = record_each(row, groups, scopes)
    for node, parents, where in zip(nodes, groups, scopes):
        alone = record(row, parents)
        assert type(node.data) is type(alone.data) and np.array_equal(node.data, alone.data)
        assert node.parents == parents and node.scope is where


def test_under_no_grad_record_each_makes_inputs() -> None:
    layer = nn.Layer(2, 3, rng=np.random.default_rng(0))
    with no_grad():
        outputs = layer.forward(np.ones((4, 2)))
    assert all(out.op is None and out.parents == () for out in outputs)
    assert all(isinstance(out.data, np.ndarray) and out.data.shape == (4,) for out in outputs)


@pytest.mark.parametrize(
    "weight, x, error, words",
    [
        (1e200, 1e200, OverflowError, "weighted_sum"),
        (1.0, np.nan, None, ""),  # nan in, nan out: no error, as one at a time
    ],
)
def test_a_layer_that_overflows_says_what_one_neuron_alone_says(
    weight: float, x: float, error: type[Exception] | None, words: str
) -> None:
    layer = nn.Layer(2, 3, activation="relu", rng=np.random.default_rng(0))
    layer.load_state_dict({name: weight for name in layer.state_dict()})
    X = np.full((4, 2), x)
    if error is None:
        out = layer.forward(X)
        alone = one_by_one(layer, columns(X))
        assert [np.isnan(o.data).all() for o in out] == [np.isnan(a.data).all() for a in alone]
        return
    with pytest.raises(error) as together:
        layer.forward(X)
    with pytest.raises(error) as alone_error:
        one_by_one(layer, columns(X))
    assert str(together.value) == str(alone_error.value)
    assert words in str(together.value)


@settings(max_examples=40, deadline=None)
@given(
    nouts=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    size=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_after_backward_no_two_nodes_share_a_gradient_array(
    nouts: list[int], size: int, seed: int
) -> None:
    """Gradients of a batch are arrays, some of them rows of one matrix product: each must be
    its own (a second backward adds the leaves' gradients again and leaves intermediate ones
    as they were)."""
    rng = np.random.default_rng(seed)
    model = nn.MLP(2, nouts, rng=rng)
    X = rng.normal(size=(size, 2))
    outputs = model(X)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    loss = sum((out * out for out in outputs), Value(0.0)).sum()
    loss.backward()
    arrays_ = [n.grad for n in topological_order(loss) if isinstance(n.grad, np.ndarray)]
    assert arrays_
    for a, b in itertools.combinations(arrays_, 2):
        assert not np.shares_memory(a, b)
    first = {id(n): np.copy(n.grad) for n in topological_order(loss)}
    loss.backward()
    for node in topological_order(loss):
        expected = 2 * first[id(node)] if node.op is None else first[id(node)]
        assert np.allclose(node.grad, expected, rtol=1e-12, atol=0)


# --- backward takes a layer's weighted sums together --------------------------------------


def walked_one_by_one(root: Value) -> dict[Value, Any]:
    """Every gradient as the walk gives it edge by edge (a callback turns groups off: the
    pictures see every edge with its own local derivative)."""
    return backpropagate(root, on_edge=lambda edge: None)


@settings(max_examples=60, deadline=None)
@given(
    nouts=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    activation=st.sampled_from(nn.ACTIVATIONS),
    size=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_backward_takes_a_layers_sums_together_and_gives_every_gradient_of_one_by_one(
    nouts: list[int], activation: str, size: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    model = nn.MLP(3, nouts, activation=activation, rng=rng)
    model.load_state_dict({name: float(rng.normal()) for name in model.state_dict()})
    out = model(rng.normal(0, 2, (size, 3)))
    outputs = out if isinstance(out, list) else [out]
    loss = sum(((k + 1.0) * o * o for k, o in enumerate(outputs)), Value(0.0)).mean()
    walk = list(reversed(topological_order(loss, inputs=False)))
    groups = engine._groups(walk)
    taken = sum(nout > 1 for nout in nouts[:-1]) + (nouts[-1] > 1)  # (a batch of one: none)
    assert len(groups) == (taken if size > 1 else 0)
    together, alone = backpropagate(loss), walked_one_by_one(loss)
    assert together.keys() == alone.keys()
    for node, grad in alone.items():
        assert type(together[node]) is type(grad)
        assert np.allclose(together[node], grad, rtol=1e-10, atol=1e-12), node


@settings(max_examples=60, deadline=None)
@given(
    members=st.integers(2, 5),
    inputs=st.integers(1, 4),
    size=st.integers(1, 5),
    each_member=st.booleans(),
    each_example=st.booleans(),
    seed=st.integers(0, 99),
)
def test_a_block_of_local_derivatives_is_summed_as_its_full_array_would_be(
    members: int, inputs: int, size: int, each_member: bool, each_example: bool, seed: int
) -> None:
    """Every shape a block may have (the same for all members, for all examples, or neither),
    against the block broadcast out in full and summed by einsum."""
    rng = np.random.default_rng(seed)
    block = rng.normal(size=(members if each_member else 1, inputs, size if each_example else 1))
    upstreams = rng.normal(size=(members, size))
    full = np.broadcast_to(block, (members, inputs, size))
    sums = upstreams.sum(axis=1)[:, None], upstreams.sum(axis=0)
    over_batch, over_members = engine._summed(block, upstreams, *sums)
    assert np.allclose(over_batch, np.einsum("kib,kb->ki", full, upstreams), rtol=1e-12)
    assert np.allclose(over_members, np.einsum("kib,kb->ib", full, upstreams), rtol=1e-12)


def test_a_group_whose_members_are_not_all_used_leaves_the_others_unreached() -> None:
    rng = np.random.default_rng(1)
    layer = nn.Layer(2, 3, activation="tanh", rng=rng)
    first, _, third = layer.forward(rng.normal(size=(4, 2)))
    loss = (first * third).sum()
    groups = engine._groups(list(reversed(topological_order(loss, inputs=False))))
    assert [len(group.members) for group in groups.values()] == [2]  # the first and third
    alone = walked_one_by_one(loss)
    layer.zero_grad()
    loss.backward()
    for name, p in layer.named_parameters():
        if ".1." in f".{name}":  # the second neuron: nothing reaches it
            assert p.grad is UNREACHED and p not in alone
        else:
            assert np.isclose(p.grad, alone[p], rtol=1e-12, atol=1e-15)


def test_nodes_whose_own_inputs_are_computed_are_not_taken_together() -> None:
    """Weights that are themselves results (v * 2) could be walked before the last member:
    such nodes go back one at a time."""
    row, x = ops.weighted_sum(1), Value(np.arange(3.0), label="x")
    v = [Value(1.5), Value(-0.5)]
    inputs = [(v[0] * 2.0, x, Value(0.1)), (v[1] * 2.0, x, Value(0.2))]
    nodes = record_each(row, inputs, [Scope("a"), Scope("b")])
    loss = (nodes[0] * nodes[1]).sum()
    assert engine._groups(list(reversed(topological_order(loss, inputs=False)))) == {}
    grads = backpropagate(loss)
    assert np.isclose(grads[v[0]], walked_one_by_one(loss)[v[0]], rtol=1e-12)
    expected = 2.0 * float((x.data * nodes[1].data).sum())  # ∂/∂v0 of Σ (2 v0 x + .1)·z1
    assert np.isclose(grads[v[0]], expected, rtol=1e-12)


def test_a_group_that_overflows_in_backward_says_what_one_node_at_a_time_says() -> None:
    layer = nn.Layer(1, 2, activation="linear", rng=np.random.default_rng(0))
    layer.load_state_dict({name: 1e300 if ".w" in name else 0.0 for name in layer.state_dict()})
    z1, z2 = layer.forward(np.full((3, 1), 1e-300))  # each about 1: finite
    loss = (z1 + z2).sum() * 1e300  # ∂loss/∂x = 1e300 · 1e300: not a float
    with pytest.raises(FloatingPointError) as together:
        loss.backward()
    with pytest.raises(FloatingPointError) as alone:
        walked_one_by_one(loss)
    assert str(together.value) == str(alone.value)
    assert "weighted_sum" in str(together.value)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 6), k=st.integers(1, 5), size=st.integers(1, 5), seed=st.integers(0, 99))
def test_a_weighted_sums_local_grads_each_are_its_local_grads_node_by_node(
    n: int, k: int, size: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    row, xs = ops.weighted_sum(n), [rng.normal(size=size) for _ in range(n)]
    inputs = [[*rng.normal(size=n).tolist(), *xs, float(rng.normal())] for _ in range(k)]
    blocks = row.local_grads_each(inputs)  # each broadcasts to (k, its inputs, size)
    assert all(b.ndim == 3 and b.shape[0] in (1, k) and b.shape[2] in (1, size) for b in blocks)
    stacked = np.concatenate([np.broadcast_to(b, (k, b.shape[1], size)) for b in blocks], 1)
    assert stacked.shape == (k, 2 * n + 1, size)
    for each, got in zip(inputs, stacked):
        assert np.array_equal(got, row.local_grads(*each, row.forward(*each)))


def test_under_no_grad_a_layers_outputs_are_inputs_with_no_parents_and_no_mark() -> None:
    """A target made under no_grad, then used in a loss: its nodes are inputs (a mark left on
    them would read as a parent, and backward along a given order would group them)."""
    model = nn.MLP(2, [3, 2], rng=np.random.default_rng(0))  # the last layer linear
    X = np.random.default_rng(1).normal(size=(4, 2))
    with no_grad():
        target = model(X)
    assert all(t.parents == () and t._prev == set() and t.op is None for t in target)
    loss = sum(((o - t) * (o - t) for o, t in zip(model(X), target)), Value(0.0)).mean()
    order = topological_order(loss)[::-1]  # a walk that holds the input nodes too
    assert backpropagate(loss, order=order).keys() == walked_one_by_one(loss).keys()


def test_an_order_given_as_an_iterator_is_walked_whole() -> None:
    model = nn.MLP(2, [3, 1], rng=np.random.default_rng(0))
    loss = model(np.ones((3, 2))).mean()
    expected = walked_one_by_one(loss)
    for order in (reversed(topological_order(loss)), iter(topological_order(loss)[::-1])):
        grads = backpropagate(loss, order=order)
        assert grads.keys() == expected.keys()


def test_a_weight_every_neuron_shares_whose_gradient_overflows_is_named() -> None:
    """Its gradient is the sum over the neurons and the batch: finite for each, not in all."""
    layer = nn.Layer(2, 2, activation="linear", seed=0)
    shared = layer.neurons[0].w[0]
    layer.neurons[1].w[0] = shared  # one weight in both neurons
    for neuron, b in zip(layer.neurons, (1.0, -1.0)):
        neuron.w[1].data, neuron.b.data = 0.0, b
    shared.data = 0.0
    o1, o2 = layer.forward(np.array([[1.0, 0.0], [1.0, 0.0]]))
    loss = (o1 * np.array([1e308, 0.0])).sum() + (o2 * np.array([0.0, 1e308])).sum()
    with pytest.raises(FloatingPointError, match=r"the gradient of 'neurons\.0\.w1' is inf"):
        loss.backward()
