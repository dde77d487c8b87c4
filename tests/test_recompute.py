"""recompute(root): new data on an existing graph, equal to a freshly built graph's."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from microgradx import Value, nn
from microgradx.engine import topological_order
from microgradx.functional import recompute
from microgradx.testing import strategies


def build(f: strategies.Expression, numbers: list[float]) -> tuple[Value, list[Value]]:
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(numbers)]
    return f(*inputs), inputs


@given(strategies.expressions(n_inputs=3), st.lists(st.floats(0.5, 1.5), min_size=3, max_size=3))
def test_recomputed_data_and_grads_equal_a_fresh_graphs(
    expression: tuple[strategies.Expression, list[float]], factors: list[float]
) -> None:
    f, wanted = expression
    try:  # the graph first built at other inputs (where every op must be defined too)
        root, inputs = build(f, [x * k for x, k in zip(wanted, factors)])
    except (ValueError, ArithmeticError):
        assume(False)
    nodes = topological_order(root)
    for node, x in zip(inputs, wanted):
        node.data = x
    assert recompute(root) is root
    fresh, _ = build(f, wanted)
    fresh_nodes = topological_order(fresh)
    assert topological_order(root) == nodes  # the same nodes, in the same order
    assert [n.data for n in nodes] == pytest.approx([n.data for n in fresh_nodes], abs=1e-12)
    root.backward()
    fresh.backward()
    assert [n.grad for n in nodes] == pytest.approx([n.grad for n in fresh_nodes], abs=1e-12)


def test_a_model_graph_follows_its_changed_weights() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    x = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
    y = model(x)
    for p in model.parameters():
        p.data += 0.25
    x[0].data = 2.0
    recompute(y)
    assert y.data == pytest.approx(model([2.0, -1.0]).data, abs=1e-12)


def test_an_input_outside_an_ops_domain_is_named() -> None:
    x = Value(2.0, label="x")
    y = x.log()
    x.data = -1.0
    with pytest.raises(ValueError, match="log"):
        recompute(y)
