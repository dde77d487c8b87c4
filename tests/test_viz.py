"""Pictures: the DOT text, rendering through `dot`, collapsing, colouring, and the steps."""

from __future__ import annotations

import errno
import html
import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import need
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, custom_op, losses, nn, viz
from microgradx.engine import Edge, backpropagate, topological_order
from microgradx.testing import strategies
from microgradx.viz.scene import Scene


def neuron() -> Value:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def svg_texts(svg: str) -> list[str]:
    """The text of every <text> element of an SVG, unescaped."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def test_every_node_shows_its_label_data_and_grad() -> None:
    o = neuron()
    o.backward()
    dot = viz.to_dot(o)
    for name, data, grad in [
        ("x1", "2.000", "-1.500"),
        ("w1", "-3.000", "1.000"),
        ("n", "0.8814", "0.5000"),
        ("o", "0.7071", "1.000"),
    ]:
        assert f"{{{name}|data {data}|grad {grad}}}" in dot
    assert dot.count("shape=record") == 10 and dot.count("shape=circle") == 5
    assert 'label="tanh"' in dot and 'label="*"' in dot and "ordering=in" in dot
    assert "grad" not in viz.to_dot(o, show_grad=False).split("shape=record")[1].split("\n")[0]


def test_arrows_follow_operand_order() -> None:
    a, b = Value(5.0, label="a"), Value(3.0, label="b")
    dot = viz.to_dot(b - a)
    ids = {label: box for box, label in re.findall(r'(v\d+) \[.*?label="\{(\w+)\|', dot)}
    into_op = re.findall(r"(v\d+) -> o2", dot)
    assert into_op == [ids["b"], ids["a"]]  # b - a: b first


def test_custom_ops_batches_and_local_gradients_are_shown() -> None:
    cube = custom_op("cube3", lambda a: a**3, lambda a, out: 3 * a**2)
    x = Value(2.0, label="x")
    y = cube(x) * Value(np.array([1.0, 2.0, 3.0]), label="batch")
    dot = viz.to_dot(y.mean(), show_local_grads=True)
    assert 'label="cube3"' in dot and "data batch of 3, mean 2.000" in dot
    assert "∂cube31/∂x = 12.00" in dot  # d(x³)/dx at 2


@pytest.mark.parametrize(
    "label",
    ['say "hi"', "{braces}", "a|b", "<b>bold</b>", "back\\slash", "<img src=x onerror=alert(1)>"],
)
def test_labels_are_escaped(label: str) -> None:
    node = Value(1.0, label=label) * 2
    dot = viz.to_dot(node)
    field = dot.split('label="{', 1)[1].split("|data", 1)[0]
    for ch in '"{}|<>':
        assert ch not in re.sub(r"\\.", "", field)  # every special character is escaped
    need("dot")
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True
    ).stdout
    assert label in svg_texts(svg)
    assert "<img" not in svg and "<b>" not in svg


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["C", "Zl", "Zp"]),
        min_size=1,
        max_size=20,
    )
)
def test_any_label_reaches_the_picture_unchanged(label: str) -> None:
    need("dot")
    node = Value(1.0, label=label) + 1
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=viz.to_dot(node), capture_output=True, text=True, check=True
    ).stdout
    assert " ".join(label.split()) in svg_texts(svg) or not label.strip()


def test_highlight_and_too_many_nodes() -> None:
    x = Value(1.0, label="x")
    dot = viz.to_dot(x * 2, highlight=[x])
    assert re.search(r'v0 \[[^\]]*color="#d62728"', dot)
    y = x
    for _ in range(300):
        y = y + 1.0
    with pytest.raises(ValueError, match=r"has 901 boxes to draw, more than max_nodes=500") as no:
        viz.to_dot(y)
    assert "collapse" not in str(no.value)  # a chain of sums has no neuron to collapse
    assert viz.to_dot(y, max_nodes=2000).count("shape=record") == 601


@pytest.mark.parametrize(("expanded", "nodes"), [(False, 22), (True, 36)])
def test_a_model_collapses_by_neuron_or_by_layer(expanded: bool, nodes: int) -> None:
    """13 parameters, 2 inputs and per neuron a weighted sum (or 2 products and sums per input)
    and its tanh; collapsed, both forms are the same picture."""
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0, expanded=expanded)
    out = model([Value(1.0, label="x1"), Value(-1.0, label="x2")])
    out.backward()
    plain, neurons, layers = (viz.to_dot(out, collapse=c) for c in (None, "neuron", "layer"))
    assert "layers.0.neurons.2.w1" in plain
    assert plain.count("shape=record") == len(topological_order(out)) == nodes
    boxes = re.findall(r'label="\{?(layers[^|]*)\|([^|]*)', neurons)
    assert [name for name, _ in boxes] == [f"layers.0.neurons.{i}" for i in range(3)] + [
        "layers.1.neurons.0"
    ]
    assert (
        boxes[0][1] == "tanh neuron, 3 parameters" and boxes[3][1] == "linear neuron, 4 parameters"
    )
    assert neurons.count("shape=record") == 6  # x1, x2 and four neurons
    assert re.findall(r'label="\{?(layers[^|]*)\|([^|}]*)', layers) == [
        ("layers.0", "3 neurons, 9 parameters"),
        ("layers.1", "linear neuron, 4 parameters"),
    ]
    edges = re.findall(r"(\w+) -> (\w+)", neurons)
    assert (
        len(edges) == len(set(edges)) == 2 * 3 + 3
    )  # each input to each hidden neuron, each hidden to the output
    with pytest.raises(ValueError, match="collapse must be"):
        viz.to_dot(out, collapse="everything")


def test_gradient_colours_flag_trouble() -> None:
    x = Value(0.5, label="x")
    deep = x
    for _ in range(12):
        deep = deep.sigmoid()
    dead = (Value(-2.0, label="d") * 1.0).relu()
    big = Value(1.0, label="big")
    total = deep + dead + big * 1e4
    total.backward()
    dot = viz.to_dot(total, color="grad")
    assert re.search(r"\{x\|[^}]*⚠ vanishing", dot)
    assert "⚠ inactive relu" in dot and re.search(r"\{big\|[^}]*⚠ exploding", dot)
    assert "dead" not in dot  # off for the one example drawn: "dead" is for a whole batch
    shades = set(re.findall(r'fillcolor="(#[0-9a-f]{6})"', dot))
    assert len(shades) > 4  # a scale, not one colour
    x.grad = math.nan
    assert "⚠ not finite" in viz.to_dot(total, color="grad")


def test_draw_is_a_digraph_that_renders(tmp_path: Path) -> None:
    o = neuron()
    graph = viz.draw(o, rankdir="TB")
    assert graph.source == viz.to_dot(o, rankdir="TB")
    need("dot")
    for format, magic in [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")]:
        path = Path(graph.render(tmp_path / "neuron", format=format, cleanup=True))
        assert path.read_bytes().startswith(magic)
    assert "image/svg+xml" in graph._repr_mimebundle_()


def test_without_dot_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot to be found
    o = neuron()
    assert "digraph" in viz.to_dot(o)  # still works
    for attempt in (
        lambda: viz.draw(o).pipe(format="svg"),
        lambda: viz.save_html(o, tmp_path / "p.html"),
    ):
        with pytest.raises(
            viz.DotNotFound, match=r"apt-get install graphviz.*brew install graphviz.*conda"
        ):
            attempt()
    assert not (tmp_path / "p.html").exists()


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.ENOTSUP])
def test_a_python_that_cannot_start_programs_gets_dot_not_found_with_a_hint(
    code: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In Pyodide and JupyterLite starting `dot` raises OSError ENOSYS (CPython's own build for
    browsers: ENOTSUP), which graphviz passes on as it is: it maps only ENOENT."""

    def cannot_start(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(subprocess, "run", cannot_start)
    monkeypatch.setattr(subprocess, "Popen", cannot_start)
    o = neuron()
    assert "digraph" in viz.to_dot(o)  # still works
    for attempt in (
        lambda: viz.draw(o).pipe(format="svg"),
        lambda: viz.draw(o)._repr_mimebundle_(),  # what Jupyter calls to show it
        lambda: viz.draw(o).render(tmp_path / "r", format="svg"),
        lambda: viz.save(o, tmp_path / "g.svg"),
        lambda: viz.save_html(o, tmp_path / "p.html"),
        lambda: viz.save_frames(o, tmp_path / "frames", format="png"),  # dot -Gdpi, run here
    ):
        with pytest.raises(viz.DotNotFound, match=r"cannot start programs.*Pyodide.*to_dot\(\)"):
            attempt()
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["frames"], ["frames", "r"], ["r"])
    assert not list(tmp_path.glob("*.svg")) and not (tmp_path / "p.html").exists()


def test_other_failures_to_start_dot_are_not_called_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(subprocess, "run", refused)
    monkeypatch.setattr(subprocess, "Popen", refused)
    with pytest.raises(PermissionError):
        viz.draw(neuron()).pipe(format="svg")
    with pytest.raises(PermissionError):
        viz.save(neuron(), tmp_path / "never.svg")


def test_the_neuron_steps_read_as_the_chain_rule() -> None:
    o = neuron()
    steps = viz.backprop_steps(o)
    assert [s.kind for s in steps] == ["seed"] + ["backward"] * 5
    assert steps[0].caption.startswith("o.grad = 1")
    assert steps[1].caption == (
        "n.grad += ∂o/∂n × o.grad = (1 - tanh(n)²) × o.grad = (1 - 0.7071²) × 1.000"
        " = 0.5000 × 1.000 = 0.5000"
    )
    assert steps[2].caption.startswith("add1.grad += ∂n/∂add1 × n.grad = 1 × n.grad = 1.000 ×")
    assert (
        "w1.grad += ∂x1*w1/∂w1 × x1*w1.grad = x1 × x1*w1.grad = 2.000 × 0.5000 = 1.000"
        in steps[-1].caption
    )
    assert all(node.grad == 0.0 for node in topological_order(o))  # the steps change nothing
    forward = viz.backprop_steps(o, include_forward=True)
    assert [s.kind for s in forward[:10]] == ["forward"] * 10
    assert "n = add1 + b = (-6.000) + 6.881 = 0.8814" in [s.caption for s in forward]


def test_a_reused_node_shows_its_accumulation() -> None:
    x = Value(3.0, label="x")
    y = x * x
    steps = viz.backprop_steps(y)
    first, second = steps[1].contributions
    assert not first.accumulated and second.accumulated and second.grad_after == 6.0
    assert steps[1].caption.endswith("so x.grad = 6.000")


@given(strategies.expressions(n_inputs=3, max_depth=6, ops=strategies.table()))
def test_the_steps_add_up_to_backward(expression: Any) -> None:
    f, xs = expression
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = f(*inputs)
    steps = viz.backprop_steps(out)
    out.backward()
    totals: dict[Value, float] = {}
    last: dict[Value, float] = {}
    for step in steps:
        for c in step.contributions:
            totals[c.parent] = totals.get(c.parent, 0.0) + c.contribution
            last[c.parent] = c.grad_after
    for node in inputs:
        if node is not out:
            assert totals.get(node, 0.0) == pytest.approx(node.grad, rel=1e-12, abs=1e-12)
            assert last.get(node, 0.0) == pytest.approx(node.grad, rel=1e-12, abs=1e-12)


def test_steps_refuse_an_unreduced_batch() -> None:
    with pytest.raises(ValueError, match=r"\.mean\(\) or \.sum\(\)"):
        viz.backprop_steps(Value(np.ones(3)) * 2)


def test_frames_keep_every_box_in_place(tmp_path: Path) -> None:
    need("dot")
    x = Value(2.0, label="x")
    y = (x * x + x).tanh()
    paths = viz.save_frames(y, tmp_path / "frames")
    assert len(paths) == len(viz.backprop_steps(y))

    def shapes(svg: str) -> dict[str, list[str]]:  # every outline and field separator of every box
        nodes = re.findall(r'<g id="([vo]\d+)" class="node">(.*?)</g>', svg, re.S)
        return {box: re.findall(r'(?:\bd|points)="([^"]+)"', body) for box, body in nodes}

    boxes = [shapes(p.read_text()) for p in paths]
    assert boxes[0] and all(b == boxes[0] for b in boxes)
    pngs = viz.save_frames(y, tmp_path / "png", format="png")
    assert pngs[0].read_bytes().startswith(b"\x89PNG")
    viz.save_gif(y, tmp_path / "steps.gif", fps=4)
    from PIL import Image

    with Image.open(tmp_path / "steps.gif") as gif:
        assert gif.n_frames == len(paths)
    with pytest.raises(ValueError, match="format must be"):
        viz.save_frames(y, tmp_path, format="bmp")


def test_the_player_file_is_small_self_contained_and_escaped(tmp_path: Path) -> None:
    need("dot")
    x = Value(1.0, label="</script><script>alert(1)</script>")
    y = x
    for i in range(66):  # 200 nodes: 66 additions, their constants, and x
        y = y + float(i)
    viz.save_html(y, tmp_path / "player.html")
    page = (tmp_path / "player.html").read_text()
    assert len(page.encode()) < 1_000_000
    assert page.count("</script>") == 2  # the two script tags of the page itself
    assert not re.search(r'(src|href)="https?:', page)
    shown = viz.player(y)._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "<script>" not in shown


def test_collapse_keeps_shared_inputs_outside_the_neurons() -> None:
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    out = model(np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.1]])).mean()
    out.backward()
    dot = viz.to_dot(out, collapse="neuron")
    boxes = dict(re.findall(r'(g\d+) \[.*?label="\{?(layers[^|]*)\|', dot))
    edges = re.findall(r"(\w+) -> (\w+)", dot)
    hidden = [box for box, name in boxes.items() if name.startswith("layers.0")]
    assert not [(a, b) for a, b in edges if a in hidden and b in hidden]  # no edge within a layer
    inputs = dict(re.findall(r'(v\d+) \[.*?label="\{(x\d)\|', dot))
    assert sorted(inputs.values()) == ["x1", "x2"]
    assert all((v, g) in edges for v in inputs for g in hidden)


def test_names_stay_clear_when_labels_repeat() -> None:
    a = Value(2.0, label="a")
    b = a * 3
    b.label = "a"
    steps = viz.backprop_steps(b)
    assert steps[1].caption.startswith("a.grad += ∂a#2/∂a × a#2.grad")


def test_labels_with_ampersands_and_control_characters(tmp_path: Path) -> None:
    need("dot")
    for label, shown in [
        ("R&amp;D", "R&amp;D"),
        ("&lt;b&gt;", "&lt;b&gt;"),
        ("nul\x00here", "nul\ufffdhere"),
        ("tab\tbed", "tab bed"),
    ]:
        svg = subprocess.run(
            ["dot", "-Tsvg"],
            input=viz.to_dot(Value(1.0, label=label) * 2),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert shown in svg_texts(svg)


def test_the_player_substitutes_its_template_once(tmp_path: Path) -> None:
    need("dot")
    x = Value(1.0, label="{steps}")
    viz.save_html(x * 2, tmp_path / "p.html", title="{svg} and {steps}")
    page = (tmp_path / "p.html").read_text()
    assert page.count('"steps":') == 1 and page.count("<svg") == 1
    assert "<title>{svg} and {steps}</title>" in page


def test_large_graphs_can_raise_max_nodes_everywhere(tmp_path: Path) -> None:
    need("dot")
    y = Value(1.0, label="x")
    for i in range(260):
        y = y + float(i)
    with pytest.raises(ValueError, match="max_nodes=500"):
        viz.save_html(y, tmp_path / "p.html")
    viz.save_html(y, tmp_path / "p.html", max_nodes=1000)
    assert (tmp_path / "p.html").exists()


def test_local_derivatives_that_are_infinite_are_drawn_not_raised() -> None:
    x = Value(0.0, label="x")
    assert "∂sqrt1/∂x = inf" in viz.to_dot(x.sqrt(), show_local_grads=True)


def test_captions_for_batches_and_negative_numbers() -> None:
    w = Value(2.0, label="w")
    out = (w * Value(np.array([1.0, 2.0, 3.0]), label="xs")).sum()
    captions = "\n".join(s.caption for s in viz.backprop_steps(out))
    assert (
        "w.grad += Σ over the batch of ∂mul1/∂w × mul1.grad = Σ xs × mul1.grad = batch of 3, "
        "mean 2.000 × batch of 3, all 1.000, summed = 6.000" in captions
    )
    assert "xs.grad += ∂mul1/∂xs × mul1.grad = w × mul1.grad = 2.000 × batch of 3," in captions
    a = Value(-3.0, label="a")
    forward = [
        s.caption for s in viz.backprop_steps(a**2 + a.leaky_relu(0.1), include_forward=True)
    ]
    assert "power1 = a**2 = (-3.000)**2 = 9.000" in forward
    assert "leaky_relu1 = leaky_relu(a, 0.1) = leaky_relu(-3.000, 0.1) = -0.3000" in forward


def test_steps_refuse_a_gradient_that_backward_refuses() -> None:
    a, b, c = Value(1e200, label="a"), Value(1e-200, label="b"), Value(1e200, label="c")
    with pytest.raises(FloatingPointError, match="gradient of 'b' is inf"):
        viz.backprop_steps((a * b) * c)


def test_save_frames_removes_frames_of_an_earlier_longer_run(tmp_path: Path) -> None:
    need("dot")
    x = Value(2.0, label="x")
    long = viz.save_frames((x * x + x).tanh(), tmp_path)
    short = viz.save_frames(x * 2, tmp_path)
    assert len(short) < len(long) and sorted(tmp_path.iterdir()) == sorted(short)


@pytest.mark.parametrize(
    "suffix, magics",
    [
        (".dot", [b"digraph"]),
        (".svg", [b"<?xml", b"<svg"]),
        (".png", [b"\x89PNG\r\n\x1a\n"]),
        (".pdf", [b"%PDF"]),
        (".html", [b"<!DOCTYPE html", b"<html"]),
        (".gif", [b"GIF87a", b"GIF89a"]),
    ],
)
def test_save_picks_the_format_from_the_suffix(
    suffix: str, magics: list[bytes], tmp_path: Path
) -> None:
    if suffix != ".dot":
        need("dot")
    path = tmp_path / f"neuron{suffix}"
    viz.save(neuron(), path)
    written = path.read_bytes()
    assert any(written.startswith(magic) for magic in magics), written[:20]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_save_passes_options_on_and_draws_the_graph_as_it_is(tmp_path: Path) -> None:
    o = neuron()
    viz.save(o, tmp_path / "plain.dot")
    assert "{o|data 0.7071|grad 0.000}" in (tmp_path / "plain.dot").read_text()  # no backward()
    assert (tmp_path / "plain.dot").read_text() == viz.to_dot(o)
    o.backward()
    viz.save(o, tmp_path / "tb.dot", rankdir="TB", show_local_grads=True)
    assert (tmp_path / "tb.dot").read_text() == viz.to_dot(o, rankdir="TB", show_local_grads=True)
    assert "rankdir=TB" in (tmp_path / "tb.dot").read_text()
    need("dot")
    viz.save(o, tmp_path / "player.html", title="One neuron, <step> by step")
    assert (
        "<title>One neuron, &lt;step&gt; by step</title>" in (tmp_path / "player.html").read_text()
    )


@pytest.mark.parametrize(
    "name, options, error, complaint",
    [
        (
            "graph.txt",
            {},
            ValueError,
            r"\.dot \.svg \.png \.pdf \.html \.gif files; got 'graph\.txt'",
        ),
        ("graph", {}, ValueError, r"\.dot \.svg \.png \.pdf \.html \.gif files; got 'graph'"),
        ("nowhere/graph.dot", {}, FileNotFoundError, r"the folder .*nowhere does not exist"),
        ("folder.svg", {}, IsADirectoryError, r"folder\.svg is a folder"),
        ("graph.svg", {"title": "x"}, TypeError, r"\.svg files have no option 'title'.*rankdir"),
        ("graph.html", {"rankdir": "TB"}, TypeError, r"\.html files have no option 'rankdir'"),
        ("graph.gif", {"title": "x"}, TypeError, r"\.gif files have no option 'title'.*fps"),
        ("graph.dot", {"fps": 2, "title": "x"}, TypeError, r"no option 'fps' or 'title'"),
    ],
)
def test_save_refuses_what_it_cannot_write_and_writes_nothing(
    name: str, options: dict[str, Any], error: type[Exception], complaint: str, tmp_path: Path
) -> None:
    (tmp_path / "folder.svg").mkdir()
    for existing in ("graph.svg", "graph.html", "graph.gif", "graph.dot", "graph.txt"):
        (tmp_path / existing).write_text("keep me")
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(error, match=complaint):
        viz.save(neuron(), tmp_path / name, **options)
    assert sorted(tmp_path.rglob("*")) == before
    assert all(p.read_text() == "keep me" for p in tmp_path.glob("graph.*"))


def test_a_save_that_fails_while_drawing_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    y = Value(1.0, label="x")
    for _ in range(300):
        y = y + 1.0
    (tmp_path / "g.dot").write_text("keep me")
    with pytest.raises(ValueError, match="max_nodes=500"):
        viz.save(y, tmp_path / "g.dot")
    (tmp_path / "g.svg").write_text("keep me")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # no dot to be found
    with pytest.raises(viz.DotNotFound):
        viz.save(neuron(), tmp_path / "g.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "g.svg"]
    assert (tmp_path / "g.dot").read_text() == (tmp_path / "g.svg").read_text() == "keep me"


def test_draw_takes_a_gradcheck_error_and_outlines_the_offending_input() -> None:
    from microgradx.testing import GradcheckError, gradcheck

    wrong = custom_op("wrong_cube", lambda a: a**3, lambda a, out: 2 * a**2)  # should be 3a²
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda a, b, c: a * b + wrong(c), 0.5, -2.0, 0.3)
    assert raised.value.failing == [2]
    source = viz.draw(raised.value).source
    outlined = re.findall(r'label="\{(x\d)\|[^"]*", color="#d62728"', source)
    assert outlined == ["x2"]
    assert "{x0|data 0.5000|grad -2.000}" in source  # the graph after backward(): its gradients
    assert viz.to_dot(raised.value) == source  # rebuilt afresh: gradients do not pile up


def groups(root: Value, collapse: str) -> list[list[int]]:
    """Each box of a collapsed picture, as the positions of its nodes in the graph."""
    scene = Scene(root, collapse)
    place = {node: i for i, node in enumerate(scene.order)}
    boxes = sorted(scene.group_ids, key=lambda group: int(scene.group_ids[group][1:]))
    return [sorted(place[n] for n, g in scene.group.items() if g is group) for group in boxes]


@given(st.data())
def test_relabelling_any_node_never_changes_what_collapse_draws(data: st.DataObject) -> None:
    model = nn.MLP(2, [3, 2, 1], activation="tanh", seed=0)
    out = model([Value(1.0, label="x1"), Value(-1.0, label="x2")])
    before = {collapse: groups(out, collapse) for collapse in ("neuron", "layer")}
    nodes = topological_order(out)
    chosen = data.draw(st.lists(st.sampled_from(nodes), max_size=10))
    names = st.sampled_from(["", "p", "x1", "layers.0.neurons.1", "layers.1", "out"])
    for node in chosen:
        node.label = data.draw(names)
    assert {collapse: groups(out, collapse) for collapse in ("neuron", "layer")} == before


def test_neurons_and_layers_are_drawn_in_the_models_order() -> None:
    model = nn.MLP(2, [4, 4, 2], activation="relu", seed=1)
    out = sum(model([Value(0.5, label="x1"), Value(-2.0, label="x2")]), Value(0.0))
    assert isinstance(out, Value)
    out.label = "p"  # a label that nn would never give
    neurons = re.findall(
        r'g\d+ \[id="g\d+", [^\]]*label="\{?([^|]*)\|', viz.to_dot(out, collapse="neuron")
    )
    assert neurons == [
        f"layers.{i}.neurons.{j}" for i, width in enumerate([4, 4, 2]) for j in range(width)
    ]
    layers = re.findall(
        r'g\d+ \[id="g\d+", [^\]]*label="\{?([^|]*)\|', viz.to_dot(out, collapse="layer")
    )
    assert layers == ["layers.0", "layers.1", "layers.2"]


def test_the_engine_says_which_edges_add_to_a_gradient_already_there() -> None:
    x = Value(3.0, label="x")
    edges: list[Edge] = []
    backpropagate(x * x + x, on_edge=edges.append)
    into_x = [edge for edge in edges if edge.parent is x]
    assert [edge.accumulated for edge in into_x] == [False, True, True]
    assert [edge.grad_after for edge in into_x] == [1.0, 4.0, 7.0]  # 1, then + 3, then + 3


def test_a_weight_penalty_keeps_the_neurons_outputs_in_their_boxes() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    loss = losses.hinge(model(X), [1, -1]) + 1e-4 * losses.l2(model.parameters())
    loss.backward()
    boxes = re.findall(r'label="\{?(layers[^|]*)\|[^|]*\|out ', viz.to_dot(loss, collapse="neuron"))
    assert boxes == [f"layers.0.neurons.{i}" for i in range(3)] + ["layers.1.neurons.0"]


def test_a_dead_relu_behind_dropout_is_still_flagged() -> None:
    model = nn.MLP(2, [3, 1], dropout=0.5, seed=0)
    model.layers[0].neurons[1].b.data = -100.0  # never above 0: dead
    for training in (True, False):
        model.train(training)
        out = model(np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]])).mean()
        out.backward()
        dot = viz.to_dot(out, collapse="neuron", color="grad")
        assert re.search(r"layers\.0\.neurons\.1\|[^\]]*⚠ dead relu", dot), training
