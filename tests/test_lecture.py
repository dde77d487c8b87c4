"""Coming from the lecture: the names a learner's own code reads on a Value (`_prev`, `_op`,
`_backward()`, the `Value(data, _children, _op, label)` constructor), `viz.draw_dot`, and a
tanh network that the lecture's hand-written training loop trains.

The oracle for a hand-run backpropagation is `backward()`, over graphs Hypothesis draws from
the whole op table; the order of the hand-run steps comes from `_prev` alone, found here as a
learner would find it, not from the engine's own topological order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, custom_op, nn, viz
from microgradx.engine import topological_order
from microgradx.functional import apply
from microgradx.testing import strategies


def inputs_first(root: Value) -> list[Value]:
    """Every node behind root, each after all of its inputs: found from _prev alone."""
    order: list[Value] = []
    seen: set[Value] = set()

    def visit(node: Value) -> None:
        if node not in seen:
            seen.add(node)
            for parent in node._prev:
                visit(parent)
            order.append(node)

    visit(root)
    return order


def backprop_by_hand(root: Value) -> None:
    """The manual lesson: seed the output, then every node's own step, output first."""
    root.grad = 1.0
    for node in reversed(inputs_first(root)):
        node._backward()


def assert_same_grads(got: list[Any], expected: list[Any]) -> None:
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
        assert np.ndim(g) == np.ndim(e)  # a float stays a float, a batch a batch


def check_by_hand_equals_backward(root: Value) -> None:
    nodes = topological_order(root)
    for node in nodes:  # a learner zeroes the gradients first (an earlier graph's linger)
        node.grad = 0.0
    backprop_by_hand(root)
    by_hand = [node.grad for node in nodes]
    for node in nodes:
        node.grad = 0.0
    root.backward()
    assert_same_grads(by_hand, [node.grad for node in nodes])


# --- _backward: one node's step, run by hand in reverse topological order ----------------


@given(strategies.expressions(n_inputs=3, max_depth=6))
def test_backprop_by_hand_equals_backward_on_random_graphs(
    expression: tuple[strategies.Expression, list[Any]],
) -> None:
    f, numbers = expression
    check_by_hand_equals_backward(f(*map(Value, numbers)))


@given(strategies.expressions(n_inputs=3, max_depth=5, batch_size=4), st.booleans())
def test_backprop_by_hand_equals_backward_on_batches(
    expression: tuple[strategies.Expression, list[Any]], mean: bool
) -> None:
    f, numbers = expression
    out = f(*map(Value, numbers))
    check_by_hand_equals_backward(out.mean() if mean else out.sum())


@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.floats(-2, 2))
def test_a_custom_op_steps_by_hand(xs: list[float], bias: float) -> None:
    cube = custom_op("cube", lambda a: a**3, lambda a, out: 3 * a**2)
    ws = [Value(0.5 * i - 1.0, label=f"w{i}") for i in range(3)]
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = cube(sum((w * x for w, x in zip(ws, inputs)), Value(bias)).tanh())
    check_by_hand_equals_backward(out)


def test_a_neurons_weighted_sum_steps_by_hand() -> None:
    model = nn.MLP(3, [4, 1], activation="tanh", output_activation="tanh", seed=0)
    out = model([0.5, -1.0, 2.0])
    assert isinstance(out, Value)
    check_by_hand_equals_backward((out - 1.0) ** 2)
    batch = model(np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]))
    assert isinstance(batch, Value)
    check_by_hand_equals_backward(((batch - 1.0) ** 2).mean())


def test_backward_by_hand_adds_and_an_input_does_nothing() -> None:
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    o = x * w
    o._backward()  # o.grad is still 0: nothing to pass back yet
    assert (x.grad, w.grad) == (0.0, 0.0)
    o.grad = 0.5
    o._backward()
    assert (x.grad, w.grad) == (-1.5, 1.0)  # x.grad += w × o.grad; w.grad += x × o.grad
    o._backward()  # += as in the lecture: a second call adds again
    assert (x.grad, w.grad) == (-3.0, 2.0)
    x._backward()  # an input has nothing behind it
    assert (x.grad, w.grad, o.grad) == (-3.0, 2.0, 0.5)
    a = Value(3.0)
    square = a * a
    square.grad = 1.0
    square._backward()  # both of its inputs are a: two contributions
    assert a.grad == 6.0


def test_a_float_meeting_a_batch_gets_the_sum_by_hand() -> None:
    w = Value(0.5, label="w")
    xs = Value(np.array([1.0, 2.0, 3.0]), label="xs")
    y = w * xs
    y.grad = np.array([1.0, 10.0, 100.0])  # a batch's upstream gradient, one per example
    y._backward()
    assert w.grad == 321.0 and isinstance(w.grad, float)
    np.testing.assert_array_equal(xs.grad, [0.5, 5.0, 50.0])


def test_explain_says_each_step_in_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(7.0, label="b")
    xw = x * w
    xw.label = "x*w"
    n = xw + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.grad = 1.0
    o._backward(explain=True)
    n._backward(explain=True)
    xw._backward(explain=True)
    b._backward(explain=True)  # an input: says nothing
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5  # one line per edge: o→n, n→x*w, n→b, x*w→x, x*w→w
    assert lines[0].startswith("n.grad += ∂o/∂n × o.grad = (1 - tanh(n)²) × o.grad = ")
    assert lines[1].startswith("(x*w).grad += ∂n/∂(x*w) × n.grad = 1 × n.grad = 1.0 × ")
    assert lines[3].startswith(
        f"x.grad += ∂(x*w)/∂x × (x*w).grad = w × (x*w).grad = -3.0 × {xw.grad!r}"
    )
    for line, name, node in zip(lines, ["n", "(x*w)", "b", "x", "w"], [n, xw, b, x, w]):
        assert line.endswith(f", so {name}.grad = {node.grad!r}")  # the grad it now holds


def test_explain_names_a_batch_sum(capsys: pytest.CaptureFixture[str]) -> None:
    w = Value(0.5, label="w")
    y = w * Value(np.array([1.0, 2.0]), label="xs")
    y.grad = np.array([1.0, 1.0])
    y._backward(explain=True)
    first, second = capsys.readouterr().out.splitlines()  # an unlabelled node: its op's name
    assert second.startswith("xs.grad += ∂mul/∂xs × mul.grad = w × mul.grad = 0.5 × array(")
    assert "summed" not in second  # a batch input keeps one gradient per example
    assert first.startswith("w.grad += ∂mul/∂w × mul.grad = xs × mul.grad = array(")
    assert "summed over the batch = 3.0, so w.grad = 3.0" in first


# --- _prev and _op -------------------------------------------------------------------------


@pytest.mark.parametrize("row", strategies.table(), ids=str)
def test_every_row_has_prev_and_op(row: Any) -> None:
    operands = [Value(0.7 + 0.1 * i) for i in range(row.arity)]  # inside every row's domain
    node = apply(row, *operands)
    assert node._prev == set(operands) and isinstance(node._prev, set)
    assert node._op == row and type(node._op) is str and node._op != ""
    for operand in operands:
        assert operand._prev == set() and operand._op == ""


def test_op_symbols_are_the_ones_a_learner_reads() -> None:
    x, y = Value(2.0), Value(3.0)
    made = {
        "+": x + y,
        "-": x - y,
        "*": x * y,
        "/": x / y,
        "**2": x**2,
        "**-1": x**-1,
        "**": x**y,
        "tanh": x.tanh(),
        "exp": x.exp(),
        "relu": x.relu(),
        "neg": -x,
    }
    for symbol, node in made.items():
        assert node._op == symbol
    doubled = 2 * x
    assert doubled._op == "*" and x in doubled._prev and len(doubled._prev) == 2
    assert (x * x)._prev == {x}  # a set: the input once, however often it is used


# --- the constructor ------------------------------------------------------------------------


def test_the_lectures_constructor_makes_an_input() -> None:
    for made in (
        Value(2.0, (), "", "a"),
        Value(2.0, _children=(), _op="", label="a"),
        Value(2.0, label="a"),
        Value(2.0, set(), label="a"),
    ):
        assert (made.data, made.grad, made.label, made.op) == (2.0, 0.0, "a", None)
        assert made._prev == set() and made._op == ""
    assert Value(2.0, label="a").detach().label == "a"


def test_a_result_built_by_hand_is_refused_with_the_way_to_compute_it() -> None:
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(TypeError, match=r"_op='\+'\) builds a result by hand.*a \* b.*custom_op"):
        Value(5.0, (a, b), "+")
    with pytest.raises(TypeError, match="by hand"):
        Value(1.0, _op="tanh")
    with pytest.raises(TypeError, match="by hand"):
        Value(6.0, _children={a, b})
    with pytest.raises(TypeError, match=r"second argument is _children.*label='x'"):
        Value(2.0, "x")  # a label by position, as microgradx once took it


# --- draw_dot --------------------------------------------------------------------------------


def test_draw_dot_is_draw_by_the_lectures_name() -> None:
    from microgradx.viz import draw_dot

    assert draw_dot is viz.draw and "draw_dot" in viz.__all__
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    o = (x * w).tanh()
    o.label = "o"
    o.backward()
    assert draw_dot(o).source == viz.draw(o).source


def test_a_learners_own_picture_from_prev_and_op_shows_every_edge() -> None:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    o = (x * w + b).tanh()
    o.backward()
    nodes, edges = set(), set()  # what a learner's own drawing code collects
    stack = [o]
    while stack:
        node = stack.pop()
        if node not in nodes:
            nodes.add(node)
            edges |= {(parent, node) for parent in node._prev}
            stack.extend(node._prev)
    assert nodes == set(topological_order(o))
    assert edges == {(p, n) for n in nodes for p in n.parents}
    boxes = {f"{n.label} | data {n.data:.4f} | grad {n.grad:.4f}" for n in nodes}
    assert {"x | data 2.0000 | grad -1.5000", "w | data -3.0000 | grad 1.0000"} <= boxes
    assert sorted(n._op for n in nodes if n._op) == ["*", "+", "tanh"]


# --- a lecture-style network trained by the lecture's loop ---------------------------------


def lecture_style(seed: int) -> nn.MLP:
    """The lecture's network: tanh in every layer, the output too, weights drawn from U(-1, 1)."""
    return nn.MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", init="uniform",
                  seed=seed)  # fmt: skip


def train_by_hand(model: nn.MLP, steps: int, lr: float, by_hand: bool = False) -> list[float]:
    """Four examples, squared errors summed, plain gradient descent written out."""
    examples = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    targets = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(steps):
        predictions = [model(x) for x in examples]
        loss = sum((p - t) ** 2 for p, t in zip(predictions, targets))
        assert isinstance(loss, Value)
        for p in model.parameters():
            p.grad = 0.0
        backprop_by_hand(loss) if by_hand else loss.backward()
        for p in model.parameters():
            p.data += -lr * p.grad
        losses.append(loss.data)
    return losses


def test_the_lecture_style_network_is_tanh_with_uniform_weights() -> None:
    model = lecture_style(0)
    assert [layer.activation for layer in model.layers] == ["tanh", "tanh", "tanh"]
    assert all(-1 <= p.data <= 1 for p in model.parameters())
    assert len(model.parameters()) == 41  # as the lecture counts: 16 + 20 + 5


@pytest.mark.parametrize("seed", range(10))
def test_the_lectures_loop_trains_the_lecture_style_network(seed: int) -> None:
    losses = train_by_hand(lecture_style(seed), steps=50, lr=0.05)
    assert losses[-1] < 0.05 < losses[0]


def test_the_loop_with_backprop_by_hand_follows_backward_exactly_enough() -> None:
    with_backward = train_by_hand(lecture_style(1), steps=10, lr=0.05)
    with_steps = train_by_hand(lecture_style(1), steps=10, lr=0.05, by_hand=True)
    np.testing.assert_allclose(with_steps, with_backward, rtol=1e-9)
