"""A layer records its neurons' nodes together (engine.record_each, a row's forward_each): one
matrix product for the weighted sums, one NumPy call for the activations. The nodes must be
the ones the neurons record one by one: the same data, rows, inputs, scopes, labels and
gradients; where the row cannot (single numbers, mixed inputs) or something is wrong (inf,
nan), one at a time, with record's own errors. Backward adds gradients in place: no two
nodes may end up sharing a gradient array."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from microgradx import Value, nn, no_grad, ops
from microgradx.engine import record, record_each, topological_order
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
    assert row.forward_each([[1.0, 2.0, x1, x2, 0.5], [3.0, 4.0, x2, x1, 0.0]]) is None
    assert row.forward_each([[1.0, 2.0, 1.0, 2.0, 0.5], [3.0, 4.0, 1.0, 2.0, 0.0]]) is None
    with pytest.raises(ValueError):  # a batch among the weights: record_each goes one at a time
        row.forward_each([[x1, 2.0, x1, x2, 0.5], [3.0, 4.0, x1, x2, 0.0]])


def test_record_each_with_inputs_it_cannot_take_together_records_them_one_at_a_time() -> None:
    row = ops.weighted_sum(2)
    w = [Value(float(i)) for i in range(4)]
    x1, x2, x3 = Value(np.arange(3.0)), Value(np.ones(3)), Value(2.0)
    b = Value(0.5)
    groups = [(w[0], w[1], x1, x2, b), (w[2], w[3], x2, x3, b)]  # not the same inputs
    scopes = [Scope("a", "neuron"), Scope("b", "neuron")]
    nodes = record_each(row, groups, scopes)
    for node, parents, where in zip(nodes, groups, scopes):
        alone = record(row, parents)
        assert np.array_equal(node.data, alone.data) and node.parents == parents
        assert node.scope is where


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
    """Backward adds into arrays in place: each must be its own (a second backward adds the
    leaves' gradients again and leaves intermediate ones as they were)."""
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
