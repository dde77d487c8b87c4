"""Pictures of the weighted-sum row and the local-derivative rules in the step captions.

A neuron's weighted sum b + w1·x1 + ... + wn·xn is one node: its captions name, for each
weight, the input it multiplies (and for each input, its weight), and its picture labels every
one of its 2n+1 arrows. The rules of the other rows come from their maths in the op table.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from conftest import need

from microgradx import Value, custom_op, losses, nn, ops, viz, weighted_sum
from microgradx.viz.scene import Scene, number
from microgradx.viz.steps import local_rule

SYMBOL = "Σ w·x + b"


def one_example(expanded: bool = False) -> tuple[nn.MLP, Value]:
    model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0, expanded=expanded)
    out = model([0.4155, -0.7])
    assert isinstance(out, Value)
    return model, (out - 1.0) ** 2


def partner(node: Value, i: int) -> Value | None:
    """What the weighted sum's input i is multiplied by: wi's xi, xi's wi; None for b."""
    n = int(node.op.params[0]) if node.op is not None else 0
    if i == 2 * n:
        return None
    return node.parents[i + n] if i < n else node.parents[i - n]


def test_each_weight_names_the_input_it_multiplies_in_a_real_model() -> None:
    model, loss = one_example()
    scene = Scene(loss)
    names = scene.names
    layer_inputs = [[f"x{j + 1}" for j in range(2)]]  # what each layer's neurons read, by name
    for layer in model.layers[:-1]:
        layer_inputs.append([neuron.name for neuron in layer.neurons])
    checked = 0
    for step in viz.backprop_steps(loss):
        if step.kind != "backward" or step.node.op is None or step.node.op.name != "weighted_sum":
            continue
        z, n = names[step.node], int(step.node.op.params[0])
        lines = step.caption.split("\n")
        assert len(lines) == 2 * n + 1 == len(step.contributions)
        for i, (edge, line) in enumerate(zip(step.contributions, lines)):
            p = names[edge.parent]
            other = partner(step.node, i)
            rule = "1" if other is None else names[other]
            assert line.startswith(f"{p}.grad += ∂{z}/∂{p} × {z}.grad = {rule} × {z}.grad = ")
            local = 1.0 if other is None else other.data  # ∂z/∂wi = xi, ∂z/∂xi = wi, ∂z/∂b = 1
            assert edge.local_grad == local
            assert f" = {number(local)} × {number(edge.upstream)} = " in line
        # and by the model's own structure: weight j of a neuron in layer L multiplies the
        # layer's input j (x1, x2 for the first layer, the previous layer's neurons after it)
        for i, parent in enumerate(step.node.parents[:n]):
            label = parent.label
            match = re.fullmatch(r"layers\.(\d+)\.neurons\.(\d+)\.w(\d+)", label)
            assert match is not None, label
            number_of_layer, j = int(match[1]), int(match[3]) - 1
            assert j == i and f"{names[parent]}.grad += ∂{z}/∂{names[parent]}" in lines[i]
            assert f"= {layer_inputs[number_of_layer][j]} × {z}.grad =" in lines[i]
            assert f"= {names[parent]} × {z}.grad =" in lines[n + i]  # and back: xj's rule is wj
        bias = step.node.parents[-1]
        assert bias.label.endswith(".b") and bias.label[:-2] == step.node.parents[0].label[:-3]
        assert lines[-1].startswith(f"{names[bias]}.grad += ∂{z}/∂{names[bias]} × {z}.grad = 1 ×")
        checked += 1
    assert checked == 9  # every neuron of the model


def test_weighted_sum_captions_on_a_batch_sum_over_the_examples() -> None:
    neuron = nn.Neuron(2, "tanh", seed=1)
    X = np.array([[0.4155, -0.7], [1.0, 2.0], [0.1, 0.2]])
    loss = losses.mse(neuron(X), np.array([1.0, 0.0, 1.0]))
    step = next(s for s in viz.backprop_steps(loss) if s.node.op == SYMBOL)
    w1, w2, x1, x2, b = step.caption.split("\n")
    w = neuron.w[0].data
    assert w1.startswith("w1.grad += Σ over the batch of ∂z1/∂w1 × z1.grad = Σ x1 × z1.grad = ")
    assert f", summed = {number(step.contributions[0].contribution)}" in w1
    assert w2.startswith("w2.grad += Σ over the batch of ∂z1/∂w2 × z1.grad = Σ x2 × z1.grad")
    # an input's local derivative is its weight, the same number for every example
    assert x1.startswith(f"x1.grad += ∂z1/∂x1 × z1.grad = w1 × z1.grad = batch of 3, all {w:#.4g}")
    assert x2.startswith("x2.grad += ∂z1/∂x2 × z1.grad = w2 × z1.grad = batch of 3, all ")
    assert b.startswith("b.grad += Σ over the batch of ∂z1/∂b × z1.grad = Σ 1 × z1.grad = ")
    assert "batch of 3, all 1.000 × batch of 3, mean" in b


@pytest.mark.parametrize(
    ("row", "rules"),
    [
        (ops.ADD, ["1", "1"]),
        (ops.SUB, ["1", "-1"]),
        (ops.MUL, ["q", "p"]),
        (ops.DIV, ["1 / q", "-p / q²"]),
        (ops.POW, ["q · p^(q - 1)", "p^q · ln(p)"]),
        (ops.TANH, ["1 - tanh(p)²"]),  # the a of tanh is not an input
        (ops.SIGMOID, ["σ(p) · (1 - σ(p))"]),
        (ops.EXP, ["e^p"]),
        (ops.ABS, ["1 if p > 0, -1 if p < 0"]),
        (ops.MEAN, ["1/n"]),
        (ops.power(3.0), ["3 · p^2"]),
        (ops.leaky_relu(0.1), ["1 if p > 0, else 0.1"]),
        (ops.weighted_sum(2), ["x1", "x2", "w1", "w2", "1"]),  # its maths' letters are not inputs
    ],
)
def test_rules_are_the_rows_maths_with_the_operands_names(row: ops.Op, rules: list[str]) -> None:
    names = ["p", "q"] if row.arity <= 2 else ["w1", "w2", "x1", "x2", "b"]
    inputs = [Value(1.5, label=name) for name in names[: row.arity]]
    node = Value(0.0, op=row, parents=tuple(inputs))
    labels = {value: value.label for value in inputs}
    assert [local_rule(node, i, labels) for i in range(row.arity)] == rules


def test_every_rows_rule_names_only_its_operands() -> None:
    """No placeholder letter a or b is left standing alone in any row's rule."""
    for row in (*ops.OPS.values(), *ops.EXAMPLES):
        inputs = [Value(2.0, label=f"in{i}") for i in range(row.arity)]
        node = Value(0.0, op=row, parents=tuple(inputs))
        for i in range(row.arity):
            rule = local_rule(node, i, {v: v.label for v in inputs})
            assert rule, row
            assert not re.search(r"(?<![A-Za-z])[ab](?![A-Za-z0-9_])", rule), (row, rule)


def test_compound_names_are_bracketed_once_and_rules_before_a_product() -> None:
    u, v = Value(2.0, label="x + y"), Value(3.0, label="u")
    captions = [s.caption for s in viz.backprop_steps((u * v).tanh())]
    assert "∂tanh1/∂mul1 × tanh1.grad = (1 - tanh(mul1)²) × tanh1.grad = " in captions[1]
    assert "u.grad += ∂mul1/∂u × mul1.grad = (x + y) × mul1.grad = " in captions[2]
    z = Value(2.0, label="z") / Value(4.0, label="x + y")
    (_, step) = viz.backprop_steps(z)
    assert "= (-z / (x + y)²) × div1.grad = " in step.caption


def test_custom_ops_caption_with_their_maths_or_without_a_rule() -> None:
    cube = custom_op("cube", lambda a: a**3, lambda a, out: 3 * a**2)
    x = Value(2.0, label="x")
    (_, step) = viz.backprop_steps(cube(x))
    assert step.caption == "x.grad += ∂cube1/∂x × cube1.grad = 12.00 × 1.000 = 12.00"
    described = custom_op(
        "lerp",
        lambda a, b, c: a + c * (b - a),
        lambda a, b, c, out: 1 - c,
        lambda a, b, c, out: c,
        lambda a, b, c, out: b - a,
        maths=("a + c · (b - a)", "1 - c", "c", "b - a"),
    )
    p, q, t = Value(1.0, label="p"), Value(3.0, label="q"), Value(0.25, label="t")
    (_, step) = viz.backprop_steps(described(p, q, t))
    assert step.caption.split("\n") == [
        "p.grad += ∂lerp1/∂p × lerp1.grad = (1 - t) × lerp1.grad = (1 - 0.2500) × 1.000"
        " = 0.7500 × 1.000 = 0.7500",
        "q.grad += ∂lerp1/∂q × lerp1.grad = t × lerp1.grad = 0.2500 × 1.000 = 0.2500",
        "t.grad += ∂lerp1/∂t × lerp1.grad = (q - p) × lerp1.grad = (3.000 - 1.000) × 1.000"
        " = 2.000 × 1.000 = 2.000",
    ]
    forward_only = custom_op("twice", lambda a: 2 * a, lambda a, out: 2.0, maths=("2·a",))
    (_, step) = viz.backprop_steps(forward_only(x))
    assert step.caption == "x.grad += ∂twice1/∂x × twice1.grad = 2.000 × 1.000 = 2.000"


def test_a_weight_penalty_names_each_parameter_as_its_own_partner() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    penalty = losses.l2(model.parameters())
    (_, step) = viz.backprop_steps(penalty)
    lines = step.caption.split("\n")
    for parameter, line in zip(model.parameters(), lines):
        name = parameter.label
        assert line.startswith(f"{name}.grad += ∂z1/∂{name} × z1.grad = {name} × z1.grad = ")
    assert lines[-1].startswith("c1.grad += ∂z1/∂c1 × z1.grad = 1 × z1.grad = ")


def test_the_forward_step_writes_the_sum_out() -> None:
    x1, x2 = Value(0.5, label="x1"), Value(-1.5, label="x2")
    w1, w2, b = Value(2.0, label="w1"), Value(1.0, label="w2"), Value(0.25, label="b")
    z = weighted_sum([w1, w2], [x1, x2], b)
    captions = [s.caption for s in viz.backprop_steps(z, include_forward=True)]
    assert "z1 = w1 * x1 + w2 * x2 + b = 2.000 * 0.5000 + 1.000 * (-1.500) + 0.2500 = -0.2500" in (
        captions
    )


def test_made_up_names_never_take_a_labels_name() -> None:
    taken = Value(1.0, label="z1")
    z = weighted_sum([taken], [Value(2.0, label="x")])
    names = Scene(z * Value(3.0, label="mul1")).names
    assert names[taken] == "z1" and names[z] == "z2"
    assert sorted(names.values()) == sorted(set(names.values()))  # mul2, not a second mul1


def test_a_batch_the_same_for_every_example_says_so() -> None:
    assert number(np.array([0.25, 0.25, 0.25])) == "batch of 3, all 0.2500"
    assert number(np.array([1.0, 2.0])) == "batch of 2, mean 1.500"
    assert number(np.array([np.nan, np.nan])) == "batch of 2, mean nan"
    assert number(np.array([-0.0, -0.0])) == "batch of 2, all 0.000"


@pytest.mark.parametrize("batch", [False, True])
def test_the_weighted_sum_is_one_node_with_every_arrow_labelled(batch: bool) -> None:
    neuron = nn.Neuron(3, "tanh", seed=2)
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -1.0]]) if batch else [0.5, -1.0, 2.0]
    out = neuron(x)
    root = out.sum() if batch else out
    root.backward()
    dot = viz.to_dot(root, show_local_grads=True)
    assert dot.count(f'label="{SYMBOL}"') == 1
    # a symbol this long is drawn in an ellipse, not a circle as wide as it
    assert re.search(rf'shape=ellipse, [^\]]*label="{re.escape(SYMBOL)}"', dot)
    scene = Scene(root)
    z = next(node for node in scene.order if node.op == SYMBOL)
    labels = re.findall(r'-> o\d+ \[id="[^"]+", label="(∂z1/∂[^"]*)"\]', dot)
    expected = []
    for i, parent in enumerate(z.parents):
        other = partner(z, i)
        local = 1.0 if other is None else other.data
        if batch:  # the engine's row for this input: one number per example
            local = local * np.ones(2)
        expected.append(f"∂z1/∂{scene.names[parent]} = {number(local)}")
    assert labels[: len(expected)] == expected and len(expected) == 7
    if batch:
        assert "∂z1/∂x1 = batch of 2, all " in dot and "∂z1/∂b = batch of 2, all 1.000" in dot


def test_the_weighted_sum_draws_renders_and_collapses() -> None:
    need("dot")
    model, loss = one_example()
    loss.backward()
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=viz.to_dot(loss), capture_output=True, text=True, check=True
    ).stdout
    scene = Scene(loss)
    for node in scene.order:  # every arrow the player lights up is in the picture
        for edge in scene.edges_into(node):
            assert f'id="{edge}"' in svg
    assert svg.count(SYMBOL) == 9
    for collapse, boxes in (("neuron", 9), ("layer", 3)):
        dot = viz.to_dot(loss, collapse=collapse)
        assert SYMBOL not in dot and dot.count('style="filled,bold"') == boxes
        assert [g.name for g in Scene(loss, collapse).group_ids] == (
            [n.name for layer in model.layers for n in layer.neurons]
            if collapse == "neuron"
            else [layer.name for layer in model.layers]
        )


def test_one_node_per_neuron_makes_a_smaller_picture() -> None:
    sizes = {}
    for expanded in (False, True):
        _, loss = one_example(expanded)
        scene = Scene(loss)
        sizes[expanded] = sum(1 + (node.op is not None) for node in scene.order)
    # each neuron of n inputs: 2n - 1 ops and 2n - 1 results fewer (n products, n sums -> 1)
    assert sizes[True] - sizes[False] == 2 * sum(2 * n - 1 for n in [2] * 4 + [4] * 4 + [4])
