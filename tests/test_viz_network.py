"""Pictures at network scale: the walk a learner can follow, a step per neuron or layer, a loss
as one box, captions with the rule in numbers, and player data that grows linearly."""

from __future__ import annotations

import html
import importlib
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import need
from hypothesis import given, settings
from hypothesis import strategies as st

from microgradx import Value, losses, nn, ops, viz
from microgradx.engine import backpropagate
from microgradx.recording import LAYER, NEURON
from microgradx.viz import layout
from microgradx.viz.player import frames, player_html
from microgradx.viz.scene import Scene, number, run_dot
from microgradx.viz.steps import rule_in_numbers, walk

widths = st.lists(st.integers(1, 4), min_size=1, max_size=3)


def network(nouts: list[int], expanded: bool, seed: int) -> tuple[nn.MLP, Value]:
    """An MLP on one example, with its loss (binary cross-entropy on a sigmoid output)."""
    model = nn.MLP(2, [*nouts, 1], output_activation="sigmoid", seed=seed, expanded=expanded)
    loss = losses.binary_cross_entropy(model([0.5, -1.5]), 1)
    return model, loss


def place(node: Value, kind: str) -> int | None:
    """The number of the scope of this kind the node was made in (None: outside one)."""
    scope = node.scope
    while scope is not None and scope.kind != kind:
        scope = scope.parent
    return None if scope is None else scope.number


@settings(max_examples=30, deadline=None)
@given(widths, st.booleans(), st.integers(0, 10**6))
def test_the_walk_finishes_a_neuron_before_the_next_layer_by_layer(
    nouts: list[int], expanded: bool, seed: int
) -> None:
    _, loss = network(nouts, expanded, seed)
    scene = Scene(loss, expand_loss=True)
    for forward in (False, True):
        order = walk(scene, forward)
        in_model = [n for n in order if place(n, LAYER) is not None]
        layers = [place(n, LAYER) for n in in_model]
        assert layers == sorted(layers, reverse=not forward)  # type: ignore[type-var]
        neurons = [place(n, NEURON) for n in in_model]
        runs = [k for i, k in enumerate(neurons) if i == 0 or neurons[i - 1] != k]
        assert len(runs) == len(set(runs))  # each neuron in one run: finished before the next
        seen: set[Value] = set()
        for node in order:  # a valid order: every node after its inputs (forward) ...
            if forward:
                assert all(p in seen for p in node.parents if p in order)
            seen.add(node)
        if not forward:  # ... or after every node that uses it (backward)
            for i, node in enumerate(order):
                assert not any(node in later.parents for later in order[i:])


@settings(max_examples=30, deadline=None)
@given(widths, st.booleans(), st.integers(0, 10**6))
def test_any_walk_the_pictures_choose_gives_backwards_gradients(
    nouts: list[int], expanded: bool, seed: int
) -> None:
    _, loss = network(nouts, expanded, seed)
    ours = backpropagate(loss, order=walk(Scene(loss, expand_loss=True)))
    engines = backpropagate(loss)
    assert ours.keys() == engines.keys()
    for node, grad in engines.items():
        assert ours[node] == pytest.approx(grad, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("collapse", [NEURON, LAYER])
def test_collapsed_steps_one_per_neuron_or_layer_and_end_at_backwards_gradients(
    collapse: str,
) -> None:
    model, loss = network([3, 2], expanded=False, seed=1)
    steps = viz.backprop_steps(loss, collapse=collapse)
    kinds = [s.kind for s in steps]
    groups = 3 + 2 + 1 if collapse == NEURON else 3
    assert kinds == ["seed"] + ["backward"] * (1 + groups)  # the loss, then each group once
    scene = Scene(loss, collapse)
    boxes = [scene.box(s.node) for s in steps[1:]]
    assert len(boxes) == len(set(boxes))
    last: dict[Value, Any] = {}
    for step in steps:
        for edge in step.contributions:
            last[edge.parent] = edge.grad_after
    loss.backward()
    for name, parameter in model.named_parameters():
        assert last[parameter] == pytest.approx(parameter.grad, rel=1e-12), name
    first = steps[2].caption.splitlines()  # the output neuron (or layer)
    assert first[0].startswith(f"layers.2{'.neurons.0' if collapse == NEURON else ''}")
    if collapse == NEURON:
        assert "out.grad = " in first[0] and "its parameters:" in first
        assert "its inputs:" in first


def test_a_loss_is_one_box_and_one_step_unless_expanded() -> None:
    _, loss = network([2], expanded=False, seed=0)
    dot = viz.to_dot(loss)
    assert "e-12" not in dot  # the guard's constants are inside the box
    assert dot.count("binary_cross_entropy") == 1 and "-mean(t·ln p + (1 - t)·ln(1 - p))" in dot
    expanded = viz.to_dot(loss, expand_loss=True)
    assert "-mean(t·ln p" not in expanded and "1.000e-12" in expanded  # its nodes, one by one
    steps = viz.backprop_steps(loss)
    head, through, inside = steps[1].caption.splitlines()
    assert head.startswith("binary_cross_entropy = -mean(t·ln p + (1 - t)·ln(1 - p)) = ")
    (prediction,) = {e.parent for e in steps[1].contributions if e.parent.scope is not loss.scope}
    loss.backward()  # what the prediction receives through the box: ∂loss/∂p
    assert through.endswith(f"= {number(prediction.grad)} × 1.000 = {number(prediction.grad)}")
    assert inside == "  (through 15 edges inside it: expand_loss=True shows each)"
    assert len(viz.backprop_steps(loss, expand_loss=True)) > len(steps) + 5
    # the guard's exactly-zero branch is inside the box: no "vanishing" flag
    assert "vanishing" not in viz.to_dot(loss, color="grad")
    with pytest.raises(TypeError, match="expand_loss must be True or False"):
        viz.to_dot(loss, expand_loss="yes")  # type: ignore[arg-type]


def test_every_loss_names_its_formula() -> None:
    p, t = Value(0.7), 1
    made = [
        losses.mse(p, 0.5),
        losses.binary_cross_entropy(p, t),
        losses.binary_cross_entropy_with_logits(p, t),
        losses.hinge(p, t),
        losses.cross_entropy([p, Value(0.1)], 0),
    ]
    for loss in made:
        (scope,) = set(Scene(loss).group.values())
        assert "mean(" in scope.detail and loss.scope is scope


def readable(text: str) -> str:
    """A caption's rule in numbers as Python (an independent reading of what it says)."""
    text = text.replace("²", "**2").replace("·", "*").replace("^", "**").replace(", else", " else")
    return text.replace("ln(", "math.log(").replace("√", "math.sqrt")


ROWS = [ops.TANH, ops.SIGMOID, ops.EXP, ops.LOG, ops.SQRT, ops.DIV, ops.POW, ops.power(3.0)]


@given(st.sampled_from(ROWS), st.floats(0.1, 3.0), st.floats(0.1, 3.0), st.booleans())
def test_the_rule_in_numbers_evaluates_to_the_local_derivative(
    row: ops.Op, a: float, b: float, negative: bool
) -> None:
    a = -a if negative and row in (ops.TANH, ops.SIGMOID, ops.DIV, ops.power(3.0)) else a
    x, y = Value(a, label="x"), Value(b, label="y")
    made = {ops.DIV: lambda: x / y, ops.POW: lambda: x**y, ops.power(3.0): lambda: x**3.0}
    out = made.get(row, lambda: getattr(x, row.name)())()
    locals_ = out.op.local_grads(*[p.data for p in out.parents], out.data)  # type: ignore[union-attr]
    for i, local in enumerate(locals_):
        text = rule_in_numbers(out, i)
        if not text:
            continue
        value = eval(readable(text), {"math": math})  # (our own caption's text)
        assert value == pytest.approx(local, rel=2e-3, abs=1e-3), text


def test_captions_write_the_rule_then_the_numbers_then_the_product() -> None:
    n = Value(0.8814, label="n")
    o = n.tanh()
    o.label = "o"
    (_, step) = viz.backprop_steps(o)
    assert step.caption.startswith("n.grad += ∂o/∂n × o.grad = (1 - tanh(n)²) × o.grad = ")
    assert f"(1 - {float(o.data):.4f}²) × 1.000 = " in step.caption
    m = Value(-0.5, label="m").tanh()  # a negative number in brackets
    assert "(1 - (-0.4621)²)" in viz.backprop_steps(m)[1].caption
    batch = Value(np.array([0.1, 0.2]), label="b").tanh().sum()  # no numbers for a batch
    (line,) = viz.backprop_steps(batch)[2].caption.splitlines()
    assert line.endswith(
        "= (1 - tanh(b)²) × tanh1.grad = batch of 2, mean 0.9756 × batch of 2, all 1.000"
        " = batch of 2, mean 0.9756"
    )


def test_the_error_for_too_many_boxes_suggests_what_fits() -> None:
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = losses.mse(model([0.5, -1.0]), 1.0)
    with pytest.raises(ValueError, match="max_nodes=20") as error:
        viz.to_dot(loss, max_nodes=20)
    assert "collapse='layer' (6 boxes)" in str(error.value)
    assert "collapse='neuron'" not in str(error.value)  # 35 boxes: more than 20
    with pytest.raises(ValueError) as error:
        viz.to_dot(loss, max_nodes=40)
    assert "collapse='neuron' (36 boxes) or collapse='layer' (6 boxes)" in str(error.value)
    viz.to_dot(loss, max_nodes=40, collapse="neuron")


def chain(n: int) -> Value:
    y = Value(0.5, label="x")
    for _ in range(n):
        y = y * 1.0001
    return y


def test_the_players_data_grows_linearly() -> None:
    need("dot")
    small, large = (len(player_html(chain(n), max_nodes=10**4)) for n in (300, 1200))
    assert large < 4.6 * small  # four times the nodes: about four times the size, not sixteen


def test_the_player_data_holds_only_what_each_step_changes() -> None:
    need("dot")
    _, loss = network([2, 2], expanded=False, seed=3)
    document = player_html(loss, include_forward=True, collapse=NEURON)
    payload = json.loads(re.search(r'id="steps">(.*?)</script>', document, re.S)[1])  # type: ignore[index]
    film = frames(loss, include_forward=True, collapse=NEURON)
    assert len(payload["steps"]) == len(film.steps)
    for step, (data, grads) in zip(payload["steps"], film.changes):
        assert len(step["grads"]) <= len(grads) and len(step["data"]) <= max(len(data), 1)
    kinds = [s["kind"] for s in payload["steps"]]
    assert kinds.index("seed") == kinds.count("forward") and kinds[0] == "forward"
    scene = Scene(loss, NEURON)
    assert set(payload["start"]["slots"]) == set(scene.group_ids.values())  # 4 neurons, a loss


def test_the_notebook_player_carries_a_picture_of_its_last_step() -> None:
    need("dot")
    model, loss = network([2], expanded=False, seed=4)
    shown = viz.player(loss, collapse=NEURON)._repr_mimebundle_()
    assert "text/html" in shown and shown["image/svg+xml"].startswith("<svg")
    loss.backward()
    out = model.layers[-1].neurons[0]
    assert f"out.grad {viz.scene.number(out.w[0].grad)}" not in shown["image/svg+xml"]
    assert viz.scene.number(out.w[0].grad) in shown["image/svg+xml"]  # its weights' gradients


def test_the_demo_player_shows_the_trained_model_forward_then_backward(tmp_path: Path) -> None:
    need("dot")
    from microgradx import examples

    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    model.layers[0].neurons[0].w[0].data = 1.25  # as if trained: its own weights are drawn
    path = tmp_path / "backprop.html"
    examples.backprop_player(model, losses.binary_cross_entropy, [0.5, -1.0], 1, path)
    document = path.read_text(encoding="utf-8")
    payload = json.loads(re.search(r'id="steps">(.*?)</script>', document, re.S)[1])  # type: ignore[index]
    kinds = [s["kind"] for s in payload["steps"]]
    assert kinds[0] == "forward" and "seed" in kinds
    assert kinds.count("backward") == 1 + 3 + 1  # the loss, then a step per neuron
    out = model([0.5, -1.0])
    assert f"out {viz.scene.number(out.data)}" in document


def ids_and_texts(svg: str) -> tuple[set[str], list[str]]:
    """The ids of an SVG's boxes and arrows, and its texts in order, per box."""
    ids = set(re.findall(r'<g id="([^"]+)" class="(?:node|edge)"', svg))
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]
    return ids, sorted(texts)


@pytest.mark.parametrize("collapse", [None, NEURON])
def test_the_quick_layout_draws_what_dot_draws(collapse: str | None) -> None:
    need("dot")
    _, loss = network([3, 2], expanded=False, seed=5)
    film = frames(loss, collapse=collapse)
    data, grads, params = film.widest()
    by_dot = run_dot(film.scene.dot(data=data, grads=grads, params=params), "svg").decode()
    ours = layout.svg(film.scene, data, grads, params)
    assert ids_and_texts(ours) == ids_and_texts(by_dot)
    boxes = [
        tuple(map(float, b))
        for b in re.findall(r'class="node"><polygon[^>]*points="([-\d.]+),([-\d.]+) ', ours)
    ]
    assert len(boxes) == len(set(boxes))  # no two boxes in one place


def test_past_a_size_the_player_lays_out_without_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    need("dot")
    calls: list[str] = []
    monkeypatch.setattr(layout, "LARGE", 20)
    player_module = importlib.import_module("microgradx.viz.player")  # (viz.player: a function)
    monkeypatch.setattr(player_module, "run_dot", lambda source, format: calls.append(format))
    document = player_html(chain(30), max_nodes=10**4)
    assert not calls and 'class="graph"' in document and 'id="v60"' in document


def test_save_passes_collapse_and_expand_loss_to_every_format(tmp_path: Path) -> None:
    need("dot")
    _, loss = network([2], expanded=False, seed=6)
    for suffix in (".html", ".svg", ".gif"):
        viz.save(loss, tmp_path / f"net{suffix}", collapse=NEURON, expand_loss=True)
    assert 'id="g2"' in (tmp_path / "net.html").read_text(encoding="utf-8")  # 3 neurons
    assert "1.000e-12" in html.unescape((tmp_path / "net.svg").read_text(encoding="utf-8"))
    frames_ = viz.save_frames(loss, tmp_path / "frames", collapse=LAYER)
    assert len(frames_) == len(viz.backprop_steps(loss, collapse=LAYER))


def test_a_neurons_box_names_its_own_parameters_and_only_them() -> None:
    for expanded in (False, True):  # (expanded: the parameters are not in the graph's order)
        model = nn.MLP(2, [2, 1], activation="tanh", seed=0, expanded=expanded, dropout=0.5)
        loss = losses.mse(model([0.5, -1.0]), 1.0)  # training mode: dropout masks inside
        loss.backward()
        scene = Scene(loss, NEURON)
        for neuron in model.layers[0].neurons:
            known = {p: p.grad for p in neuron.parameters()}
            w1, w2, b = (number(p.grad) for p in (*neuron.w, neuron.b))
            shown = scene.parameter_grads(neuron.scope, known)
            assert shown == f"w.grad {w1} {w2} b.grad {b}"
        layer = model.layers[0].scope
        assert scene.parameter_grads(layer, {}) == "|grad| mean ? of 6 parameters"


def test_a_layers_step_gives_no_single_out_grad_and_a_loss_computes_in_one_line() -> None:
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    loss = losses.binary_cross_entropy(model([0.5, -1.0]), 1)
    steps = viz.backprop_steps(loss, collapse=LAYER, include_forward=True)
    first = next(s for s in steps if s.kind == "backward" and s.caption.startswith("layers.0"))
    assert first.caption.splitlines()[0] == "layers.0 (3 neurons, 9 parameters)"
    assert "neurons.0.w1.grad += " in first.caption  # the layer's own names
    (computes,) = [s.caption for s in steps if s.caption.startswith("binary_cross_entropy = ")
                   and s.kind == "forward"]  # fmt: skip
    head, given = computes.splitlines()
    assert given == f"  from layers.1.neurons.0 = {number(model([0.5, -1.0]).data)}"
    assert "e-12" not in computes and head.endswith(f"= {number(loss.data)}")
    seed = next(s for s in steps if s.kind == "seed")  # the loss's value, named after it
    assert seed.caption.startswith("binary_cross_entropy.grad = 1")


def test_every_player_refuses_a_batch_that_is_not_reduced(tmp_path: Path) -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    out = model(np.array([[0.5, -1.0], [1.0, 2.0]]))
    for write in (viz.save_html, viz.save_gif):
        with pytest.raises(ValueError, match=r"holds a batch of 2 numbers; use .mean\(\)"):
            write(out, tmp_path / "batch.out")
    assert not list(tmp_path.iterdir())  # nothing written
