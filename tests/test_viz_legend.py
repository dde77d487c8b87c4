"""The legend of color="grad" and color="sign": its numbers, its hues; which boxes get flagged."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from conftest import need
from hypothesis import given

from microgradx import Value, losses, nn, viz
from microgradx.testing import strategies
from microgradx.viz.scene import Scene, grad_flags, run_dot


def every_node(root: Value) -> list[Value]:
    """Every node behind root, found here by a plain walk (not the engine's order)."""
    found, stack = {id(root): root}, [root]
    while stack:
        for parent in stack.pop().parents:
            if id(parent) not in found:
                found[id(parent)] = parent
                stack.append(parent)
    return list(found.values())


def legend(dot: str) -> dict[str, list[tuple[str, str]]]:
    """The legend's rows: heading -> [(colour, text)] of its coloured cells."""
    table = re.search(r"label=<(.*)>;", dot)
    assert table is not None, "no legend"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1)):
        heading = re.match(r'<td border="0" align="left"(?: colspan="\d+")?>([^<]*)</td>', row)
        assert heading is not None
        rows[heading.group(1)] = re.findall(
            r'<td border="1" bgcolor="(#[0-9a-f]{6})"[^>]*>([^<]*)<', row
        )
    return rows


def fill(dot: str, name: str) -> str:
    """The fill colour of the record whose first field is name."""
    found = re.search(r'fillcolor="(#[0-9a-f]{6})"[^\]]*label="\{?' + re.escape(name) + r"\|", dot)
    assert found is not None, name
    return found.group(1)


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def darkness(colour: str) -> int:
    return 765 - sum(rgb(colour))


@given(strategies.expressions(n_inputs=3, max_depth=5, ops=strategies.table()))
def test_the_legend_spans_the_smallest_and_the_largest_gradient(expression: Any) -> None:
    f, xs = expression
    out = f(*[Value(x, label=f"x{i}") for i, x in enumerate(xs)])
    out.backward()
    sizes = [abs(float(node.grad)) for node in every_node(out)]
    shown = [size for size in sizes if 0 < size < math.inf]
    dot = viz.to_dot(out, color="grad")
    if not shown:
        assert "|grad|</td>" not in dot  # no scale without a nonzero finite gradient
        return
    numbers = [text for _, text in legend(dot)["|grad|"]]
    assert numbers[0] == viz.number(min(shown)) and numbers[-1] == viz.number(max(shown))
    assert len(numbers) == (4 if min(shown) < max(shown) else 1)
    assert [float(n) for n in numbers] == sorted(float(n) for n in numbers)


def test_the_legends_colours_are_the_pictures() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b  # a.grad = -3 (the largest), b.grad = 2, y.grad = 1 (the smallest)
    y.label = "y"
    y.backward()
    dot = viz.to_dot(y, color="grad")
    scale = legend(dot)["|grad|"]
    assert [text for _, text in scale][::3] == ["1.000", "3.000"]
    assert fill(dot, "y") == scale[0][0] and fill(dot, "a") == scale[-1][0]
    assert darkness(fill(dot, "y")) < darkness(fill(dot, "b")) < darkness(fill(dot, "a"))


def test_sign_colours_differ_by_sign_and_match_the_legends_hues() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b
    y.label = "y"
    y.backward()
    dot = viz.to_dot(y, color="sign")
    rows = legend(dot)
    positive, negative = rows["grad &gt; 0"], rows["grad &lt; 0"]
    assert [text for _, text in positive] == [text for _, text in negative]  # one scale
    assert positive[0][1] == "1.000" and positive[-1][1] == "3.000"
    assert fill(dot, "y") == positive[0][0]  # +1: the smallest size, positive
    assert fill(dot, "a") == negative[-1][0]  # -3: the largest size, negative
    red, _, blue = rgb(fill(dot, "b"))  # +2: between, in the positive hue
    assert blue > red
    red, _, blue = rgb(fill(dot, "a"))
    assert red > blue
    x, z = Value(1.5, label="x"), Value(0.5, label="z")
    d = x - z  # the same size of gradient, opposite signs
    d.backward()
    dot = viz.to_dot(d, color="sign")
    assert fill(dot, "x") != fill(dot, "z")
    assert {fill(dot, "x"), fill(dot, "z")} == {legend(dot)["grad &gt; 0"][-1][0],
                                                 legend(dot)["grad &lt; 0"][-1][0]}  # fmt: skip


def test_a_wrong_colour_is_refused_naming_every_choice() -> None:
    y = Value(1.0) * 2.0
    for wrong in ("red", "Grad", True):
        with pytest.raises(ValueError, match=r"None .*'grad' .*'sign'.*got"):
            viz.to_dot(y, color=wrong)  # type: ignore[arg-type]


def test_flags_in_the_legend_are_the_ones_that_occur() -> None:
    x = Value(0.5, label="x")
    deep = x
    for _ in range(12):
        deep = deep.sigmoid()
    total = deep + Value(1.0, label="big") * 1e4
    total.backward()
    rows = legend(viz.to_dot(total, color="grad"))
    flags = [text for heading, row in rows.items() for _, text in row if "⚠" in text]
    assert flags == ["⚠ exploding: |grad| &gt; 1e3", "⚠ vanishing: |grad| &lt; 1e-6"]
    plain = Value(2.0, label="p") * 3.0
    plain.backward()
    assert "flags" not in legend(viz.to_dot(plain, color="grad"))


@pytest.mark.parametrize("target", [0.0, 1.0])
@pytest.mark.parametrize("examples", ["one", "list", "batch"])
def test_a_losss_guard_is_never_flagged(target: float, examples: str) -> None:
    """binary_cross_entropy multiplies one of its log terms by 0 (t or 1 - t): a gradient of
    exactly 0 by design inside the loss's box, never "vanishing"."""
    z = [Value(0.3, label="z1"), Value(-0.4, label="z2")]
    if examples == "one":
        loss = losses.binary_cross_entropy(z[0].sigmoid(), target)
    elif examples == "list":
        loss = losses.binary_cross_entropy([v.sigmoid() for v in z], [target, target])
    else:
        loss = losses.binary_cross_entropy(Value(np.array([0.3, -0.4])).sigmoid(), [target] * 2)
    loss.backward()
    inside = [n for n in every_node(loss) if n.scope is not None and n.scope.kind == "loss"]
    assert any(np.all(n.grad == 0) for n in inside)  # the guard is there
    for color in ("grad", "sign"):
        assert "⚠" not in viz.to_dot(loss, color=color)
    _, flags = grad_flags(Scene(loss, expand_loss=True))  # drawn node by node: still none
    assert flags == {}


def test_a_hinge_that_is_satisfied_is_no_dead_relu() -> None:
    score = Value(3.0, label="s") * 1.0
    loss = losses.hinge([score], [1])  # max(0, 1 - 3) = 0: its relu passes nothing
    loss.backward()
    dot = viz.to_dot(loss, color="grad")
    box = re.search(r'label="\{?hinge\|[^"]*"', dot)
    assert box is not None and "⚠" not in box.group(0)
    assert "dead" not in dot  # the score's gradient is 0 (and flagged so), by the loss's design


@pytest.mark.parametrize("collapse", ["neuron", "layer"])
def test_collapsed_boxes_are_coloured_by_the_gradient_they_show(collapse: str) -> None:
    """A neuron by its out.grad, a layer (several outputs) by its parameters' mean |grad|: the
    bigger the number in the box, the darker the box, on the legend's scale."""
    model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0)  # one example: no ReLU flagged dead
    loss = losses.mse([model([Value(1.0, label="x1"), Value(-2.0, label="x2")])], [0.5])
    loss.backward()
    dot = viz.to_dot(loss, collapse=collapse, color="grad")
    boxes = re.findall(r'fillcolor="(#[0-9a-f]{6})"[^\]]*label="\{?([^|]*)\|([^"]*)"', dot)
    sizes = {}
    for colour, name, rest in boxes:
        if "⚠" in rest:
            continue  # filled with its flag's colour
        grad = re.search(
            r"(?:^|[^\\]\|)(?:out\.)?grad (-?[0-9.e+-]+)|grad\\\| mean ([0-9.e+-]+)", rest
        )
        assert grad is not None, rest
        sizes[name] = (abs(float(grad.group(1) or grad.group(2))), darkness(colour))
    assert len(sizes) >= (6 if collapse == "neuron" else 4)  # inputs, boxes, the loss
    by_size = sorted(sizes.values())
    assert [d for _, d in by_size] == sorted(d for _, d in by_size)  # bigger: darker
    if collapse == "layer":  # layers.1 has 4 outputs: its box shows its parameters' gradients
        assert "layers.1" in sizes
        mean = np.mean([abs(p.grad) for p in model.layers[1].parameters()])
        assert sizes["layers.1"][0] == pytest.approx(mean, rel=1e-3)
    numbers = [text for _, text in legend(dot)["|grad|"]]
    drawn = [size for size, _ in sizes.values() if size > 0]
    assert float(numbers[-1]) == pytest.approx(max(drawn), rel=1e-3)
    assert float(numbers[0]) <= min(drawn) * 1.001


@pytest.mark.parametrize("color", ["grad", "sign"])
@pytest.mark.parametrize("collapse", [None, "neuron", "layer"])
def test_dot_draws_the_legend(color: str, collapse: str | None) -> None:
    need("dot")
    model = nn.MLP(2, [4, 4, 1], seed=0)
    model.layers[0].neurons[1].b.data = -100.0  # dead: a flag in the legend
    X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.3]])
    loss = losses.mse(model(X), [1.0, -1.0, 0.5])
    loss.backward()
    svg = run_dot(viz.to_dot(loss, collapse=collapse, color=color), "svg").decode()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert any("over the batch" in text for text in texts)
    assert "⚠ dead activation: derivative 0 for every example" in texts
    assert sum(text == ("grad &lt; 0" if color == "sign" else "|grad|") for text in texts) == 1
