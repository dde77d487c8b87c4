"""The player's view in a real browser: fitted to its frame at any size, zoom, pan, following
the current node, the overview (minimap), the colours it paints and the help that names them.

Numbers are measured on the page (the svg's viewBox, boxes' rectangles on screen), so each
test fails when the view is wrong, not only when the script throws.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import need_font
from test_player import neuron

from microgradx import Value, losses, nn, viz
from microgradx.viz.player import frames
from microgradx.viz.scene import Scene, number

PLAIN = "#ffffff"
DONE, RECEIVING, CURRENT = "#e3f1e3", "#dbe9f6", "#fff3b0"
NATURAL = 96 / 72  # px per pt: dot's picture at its own size


def mlp() -> Value:
    """A bigger graph: much larger than a window at dot's own size."""
    model = nn.MLP(2, [4, 4, 1], seed=0)
    y = model([0.5, -1.0])
    loss = (y - 1.0) ** 2
    loss.label = "loss"
    return loss


class Player:
    """A player opened in a tab (or in a notebook's iframe), recording every request."""

    def __init__(
        self,
        browser: Any,
        root: Value,
        folder: Path,
        size: tuple[int, int] = (1024, 768),
        reduced_motion: bool = True,
        notebook: bool = False,
        document: str | None = None,
    ) -> None:
        self.requests: list[str] = []
        self.page = browser.new_page(
            viewport={"width": size[0], "height": size[1]},
            reduced_motion="reduce" if reduced_motion else "no-preference",
        )
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.scene = Scene(root)
        path = folder / "player.html"
        if document is not None:
            path.write_text(document, encoding="utf-8")
        else:
            viz.save_html(root, path)
        self.url = path.as_uri()
        if notebook:  # the player as a notebook shows it: an iframe 560 px high
            self.page.set_content(viz.player(root)._repr_html_())
            self.doc = self.page.frames[1]
            self.doc.wait_for_selector("#counter:not(:empty)")
        else:
            self.page.goto(self.url)
            self.doc = self.page.main_frame
        self.settle()

    def settle(self) -> None:
        """Let resize observers and the next frames run."""
        self.doc.evaluate(
            "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )

    def still(self) -> None:
        """Wait until the view has stopped moving: the same viewBox for three frames running."""
        self.doc.evaluate(
            """() => new Promise(done => {
                const svg = document.querySelector("#graph > svg");
                let last = null, same = 0;
                (function look() {
                    const now = svg.getAttribute("viewBox");
                    same = now === last ? same + 1 : 0;
                    last = now;
                    if (same >= 3) { done(); } else { requestAnimationFrame(look); }
                }());
            })"""
        )

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)

    def view_box(self) -> list[float]:
        return [float(v) for v in self.doc.get_attribute("#graph > svg", "viewBox").split()]

    def frame(self) -> dict[str, float]:
        """The inside of the frame (#graph without its border), on screen."""
        return dict(
            self.doc.evaluate(
                """() => { const f = document.getElementById("graph");
                const r = f.getBoundingClientRect();
                return {x: r.left + f.clientLeft, y: r.top + f.clientTop,
                        w: f.clientWidth, h: f.clientHeight}; }"""
            )
        )

    def rect(self, selector: str) -> dict[str, float]:
        """Where an element is on screen."""
        return dict(
            self.doc.evaluate(
                """s => { const r = document.querySelector(s).getBoundingClientRect();
                return {x: r.left, y: r.top, w: r.width, h: r.height}; }""",
                selector,
            )
        )

    def drawing(self) -> dict[str, float]:
        """The whole graph on screen: the svg's first <g>, which holds every box and arrow."""
        return self.rect("#graph > svg > g")

    def box(self, node: Value) -> dict[str, float]:
        return self.rect(f"#{self.scene.ids[node]}")

    def film(self) -> Any:
        return json.loads(self.doc.text_content("#steps"))

    def current(self) -> int:
        return int(self.doc.inner_text("#counter").split()[1])

    def minimap_shown(self) -> bool:
        return bool(self.doc.is_visible("#minimap"))

    def to_picture(self, x: float, y: float) -> tuple[float, float]:
        """The picture's point (in the viewBox's units) under a point on screen."""
        vx, vy, vw, vh = self.view_box()
        frame = self.frame()
        return vx + (x - frame["x"]) * vw / frame["w"], vy + (y - frame["y"]) * vh / frame["h"]


def inside(inner: dict[str, float], outer: dict[str, float], slack: float = 0.5) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + slack
        and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + slack
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["w"] <= b["x"]
        or b["x"] + b["w"] <= a["x"]
        or a["y"] + a["h"] <= b["y"]
        or b["y"] + b["h"] <= a["y"]
    )


def centre(r: dict[str, float]) -> tuple[float, float]:
    return r["x"] + r["w"] / 2, r["y"] + r["h"] / 2


@pytest.mark.parametrize("graph", [neuron, mlp])
@pytest.mark.parametrize("where", ["projector 1024x768", "notebook iframe 800x560"])
def test_the_whole_graph_is_fitted_to_its_frame_at_the_first_step(
    browser: Any, tmp_path: Path, graph: Any, where: str
) -> None:
    notebook = where.startswith("notebook")
    size = (816, 700) if notebook else (1024, 768)  # 816 - the host page's margins = 800
    player = Player(browser, graph(), tmp_path, size, notebook=notebook)
    if notebook:
        iframe = player.page.locator("iframe").bounding_box()
        assert (round(iframe["width"]), round(iframe["height"])) == (800 + 2, 560 + 2)
    frame, drawing = player.frame(), player.drawing()
    assert player.current() == 0
    assert frame["h"] > 150  # the controls, caption and help leave the graph room
    assert inside(drawing, frame)
    # Fitted, not merely inside: the graph fills the frame's width or its height.
    assert max(drawing["w"] / frame["w"], drawing["h"] / frame["h"]) > 0.9
    _, _, vw, vh = player.view_box()
    assert vw / vh == pytest.approx(frame["w"] / frame["h"], rel=1e-6)  # no letterboxing
    assert player.doc.evaluate("document.scrollingElement.scrollHeight <= innerHeight + 1")


def test_the_frame_follows_the_window_and_refits_unless_zoomed(
    browser: Any, tmp_path: Path
) -> None:
    player = Player(browser, mlp(), tmp_path, (1024, 768))
    player.page.set_viewport_size({"width": 1400, "height": 900})
    player.settle()
    frame, drawing = player.frame(), player.drawing()
    assert frame["w"] > 1300 and frame["h"] > 500
    assert inside(drawing, frame)
    assert max(drawing["w"] / frame["w"], drawing["h"] / frame["h"]) > 0.9
    _, _, vw, vh = player.view_box()
    assert vw / vh == pytest.approx(frame["w"] / frame["h"], rel=1e-6)  # fitted anew
    player.press("+")
    scale = player.frame()["w"] / player.view_box()[2]
    player.page.set_viewport_size({"width": 1100, "height": 800})
    player.settle()
    assert player.frame()["w"] / player.view_box()[2] == pytest.approx(scale)  # zoom is kept


def test_zoom_by_button_key_and_wheel_pan_by_drag_and_fit_again(
    browser: Any, tmp_path: Path
) -> None:
    loss = mlp()
    player = Player(browser, loss, tmp_path)
    fitted = player.view_box()
    player.press("-")  # the fitted view is as far out as it goes
    assert player.view_box() == fitted
    width = player.box(loss)["w"]

    player.doc.click("#zoom-in")
    assert player.view_box()[2] == pytest.approx(fitted[2] / 1.5)
    assert player.box(loss)["w"] == pytest.approx(width * 1.5, rel=1e-3)

    before = centre(player.box(loss))  # keys zoom about the yellow node, which stays put
    player.press("+")
    assert player.view_box()[2] == pytest.approx(fitted[2] / 1.5**2)
    assert centre(player.box(loss)) == pytest.approx(before, abs=1)
    player.press("=")
    player.press("-")
    assert player.view_box()[2] == pytest.approx(fitted[2] / 1.5**2)

    frame = player.frame()
    x, y = frame["x"] + frame["w"] * 0.3, frame["y"] + frame["h"] * 0.6
    player.page.mouse.move(x, y)
    under = player.to_picture(x, y)
    shown = player.view_box()[2]
    player.page.mouse.wheel(0, -200)
    player.settle()
    assert player.view_box()[2] < shown * 0.8  # the wheel zooms in ...
    assert player.to_picture(x, y) == pytest.approx(under, abs=0.5)  # ... about the pointer

    vx, vy, vw, vh = player.view_box()
    player.page.mouse.down()
    player.page.mouse.move(x + 120, y + 80, steps=6)
    player.page.mouse.up()
    moved = player.view_box()
    assert moved[2:] == pytest.approx([vw, vh])  # a drag pans, and does not zoom
    per_px = vw / frame["w"]
    assert moved[:2] == pytest.approx([vx - 120 * per_px, vy - 80 * per_px], abs=0.01)

    player.press("0")
    assert player.view_box() == pytest.approx(fitted, abs=1e-9)
    player.press("+")
    player.press("f")
    assert player.view_box() == pytest.approx(fitted, abs=1e-9)
    player.doc.click("#zoom-in")
    player.doc.click("#zoom-out")  # back out to the fitted scale: the fitted view
    assert player.view_box() == pytest.approx(fitted, abs=1e-9)
    player.doc.click("#zoom-in")
    player.doc.click("#fit")
    assert player.view_box() == pytest.approx(fitted, abs=1e-9)
    assert player.requests == [player.url]


def test_the_step_keys_still_work_and_the_slider_moves_itself(browser: Any, tmp_path: Path) -> None:
    player = Player(browser, neuron(), tmp_path)
    player.press("ArrowRight", 2)
    assert player.current() == 2
    player.press("End")
    assert player.current() == len(player.film()["steps"]) - 1
    player.press("Home")
    player.doc.focus("#slider")
    player.press("ArrowRight")  # the slider's own step, not the slider's and the page's
    assert player.current() == 1
    fitted = player.view_box()
    player.press("+")  # zoom keys work while the slider has the focus
    assert player.view_box()[2] < fitted[2]


def test_zoomed_in_the_view_pans_to_every_step_and_keeps_its_scale(
    browser: Any, tmp_path: Path
) -> None:
    player = Player(browser, mlp(), tmp_path)
    player.press("+", 3)
    width = player.view_box()[2]
    boxes = {box: node for node, box in player.scene.ids.items()}
    film = player.film()
    last = len(film["steps"]) - 1
    visits = [*range(1, last + 1), 0, last, 3]  # every step in turn, then jumps both ways
    for k in visits:
        if k == player.current() + 1:
            player.press("ArrowRight")
        else:
            player.doc.fill("#slider", str(k))
        step, frame = film["steps"][k], player.frame()
        assert player.view_box()[2] == pytest.approx(width)  # pans, never zooms
        node = player.rect(f"#{step['node']}")
        assert inside(node, frame), f"step {k}: {step['node']} is out of view"
        receiving = [player.box(boxes[b]) for b in step["receiving"]]
        together = [node, *receiving]
        span_w = max(r["x"] + r["w"] for r in together) - min(r["x"] for r in together)
        span_h = max(r["y"] + r["h"] for r in together) - min(r["y"] for r in together)
        if span_w + 48 <= frame["w"] and span_h + 48 <= frame["h"]:  # they fit: all in view
            assert all(inside(r, frame) for r in receiving), f"step {k}"
        assert not overlap(node, player.rect("#minimap")), f"step {k}: the overview hides it"


def test_following_is_animated_unless_the_reader_prefers_less_motion(
    browser: Any, tmp_path: Path
) -> None:
    record = """() => { window.viewBoxes = [];
        new MutationObserver(changes => changes.forEach(c =>
            window.viewBoxes.push(c.target.getAttribute("viewBox"))))
        .observe(document.querySelector("#graph > svg"), {attributeFilter: ["viewBox"]}); }"""
    moves = {}
    for reduced in (False, True):
        player = Player(browser, mlp(), tmp_path, reduced_motion=reduced)
        player.press("+", 3)
        player.still()  # the zoom's own animation is over
        player.doc.evaluate(record)
        player.press("End")  # the last step's node is at the far left
        player.still()
        node = player.film()["steps"][-1]["node"]
        assert inside(player.rect(f"#{node}"), player.frame())
        moves[reduced] = player.doc.evaluate("window.viewBoxes")
    assert len(set(moves[False])) > 3  # in steps, frame by frame
    assert len(moves[True]) == 1  # at once


def test_a_fitted_legible_graph_does_not_move_between_steps(browser: Any, tmp_path: Path) -> None:
    player = Player(browser, neuron(), tmp_path, (1400, 900))
    fitted = player.view_box()
    for _ in player.film()["steps"]:
        player.press("ArrowRight")
        assert player.view_box() == fitted


def test_the_overview_shows_for_a_big_graph_or_when_zoomed_and_moves_the_view(
    browser: Any, tmp_path: Path
) -> None:
    small = Player(browser, neuron(), tmp_path, (1400, 900))
    assert not small.minimap_shown()
    small.press("+")
    assert small.minimap_shown()  # zoomed in: where am I?
    small.press("0")
    assert not small.minimap_shown()

    big = Player(browser, mlp(), tmp_path, (1400, 900))
    assert big.minimap_shown()
    minimap = big.rect("#minimap")
    assert minimap["w"] * minimap["h"] < 0.1 * big.frame()["w"] * big.frame()["h"]
    copy = "document.querySelector('#minimap svg > g')"
    assert big.doc.evaluate(f"getComputedStyle({copy}).pointerEvents") == "none"
    assert big.doc.evaluate(f"{copy}.querySelectorAll('[id], text').length") == 0
    x, y = minimap["x"] + minimap["w"] * 0.25, minimap["y"] + minimap["h"] * 0.7
    target = big.doc.evaluate(
        """([x, y]) => { const o = document.querySelector("#minimap svg"), p = o.createSVGPoint();
        p.x = x; p.y = y; const q = p.matrixTransform(o.getScreenCTM().inverse());
        return [q.x, q.y]; }""",
        [x, y],
    )
    big.page.mouse.click(x, y)
    vx, vy, vw, vh = big.view_box()
    assert [vx + vw / 2, vy + vh / 2] == pytest.approx(target, abs=0.5)  # centred there ...
    assert big.frame()["w"] / vw == pytest.approx(NATURAL)  # ... at a size one can read
    shown = big.rect("#seen")  # the overview's rectangle is the part in view
    frame = big.frame()
    assert shown["w"] / shown["h"] == pytest.approx(frame["w"] / frame["h"], rel=0.02)

    big.page.mouse.move(x, y)
    big.page.mouse.down()
    big.page.mouse.move(x + 30, y - 20, steps=4)
    big.page.mouse.up()
    dragged = big.view_box()
    assert dragged[2:] == pytest.approx([vw, vh])
    assert dragged[0] > vx + 10 and dragged[1] < vy - 10  # dragging in the overview moves it

    # Dragged under the overview's corner, the yellow node sends the overview to another one.
    big.press("0")
    big.press("+", 2)  # about the yellow node, which stays in view
    node = big.film()["steps"][0]["node"]
    nx, ny = centre(big.rect(f"#{node}"))
    frame = big.frame()
    corner = big.rect("#minimap")
    big.page.mouse.move(nx, ny)
    big.page.mouse.down()
    big.page.mouse.move(*centre(corner), steps=6)
    big.page.mouse.up()
    assert inside(big.rect(f"#{node}"), frame)
    assert not overlap(big.rect(f"#{node}"), big.rect("#minimap"))
    assert big.minimap_shown() and inside(big.rect("#minimap"), frame)

    big.press("m")
    assert not big.minimap_shown()
    big.press("m")
    assert big.minimap_shown()
    assert big.requests == [big.url]


def test_the_help_names_every_colour_and_control(browser: Any, tmp_path: Path) -> None:
    player = Player(browser, neuron(), tmp_path)
    help_text = " ".join(player.doc.inner_text("#help").split())
    for meaning in [
        "yellow: the node being processed",
        "blue: receiving gradient at this step",
        "green: gradient known",
        "orange outline: a gradient added to one already there (+=)",
        "red arrows",
        "zoom",
        "drag",
        "wheel",
        "overview",
    ]:
        assert meaning in help_text
    for key in ["←", "→", "Home", "End", "space", "+", "−", "0", "f", "m"]:
        assert player.doc.locator("#help kbd", has_text=re.compile(f"^{re.escape(key)}$")).count()
    swatches = player.doc.evaluate(
        """() => Object.fromEntries(["yellow", "blue", "green"].map(c =>
            [c, getComputedStyle(document.querySelector(".swatch." + c)).backgroundColor]))"""
    )
    assert swatches == {  # the legend's colours are the ones the boxes are painted
        "yellow": "rgb(255, 243, 176)",
        "blue": "rgb(219, 233, 246)",
        "green": "rgb(227, 241, 227)",
    }


def test_texts_and_colours_match_the_python_frames_at_every_step_in_any_order(
    browser: Any, tmp_path: Path
) -> None:
    x, w = Value(3.0, label="x"), Value(-0.5, label="w")
    y = (x * x + x * w).tanh()  # x is used three times: its gradient accumulates
    y.label = "y"
    film = frames(y, include_forward=True)
    path = tmp_path / "player.html"
    viz.save_html(y, path, include_forward=True)
    player = Player(browser, y, tmp_path, document=path.read_text(encoding="utf-8"))
    ids, last = player.scene.ids, len(film.steps) - 1
    read = """ids => Object.fromEntries(ids.map(id => { const g = document.getElementById(id),
        t = g.getElementsByTagName("text");
        return [id, [t[1].textContent, t[2].textContent,
                     g.querySelector("path, polygon").getAttribute("fill")]]; }))"""
    ops = """() => Array.from(document.querySelectorAll(".node")).filter(g => /^o/.test(g.id))
        .map(g => g.querySelector("ellipse, polygon").getAttribute("fill"))"""
    states = [(dict(d), dict(g), dict(f)) for d, g, _, f in film.states()]  # (kept: copies)
    for k in [*range(last + 1), 2, last, 0, 4, 1, last - 1]:
        player.doc.fill("#slider", str(k))
        shown = player.doc.evaluate(read, list(ids.values()))
        data, grads, fills = states[k]
        expected = {ids[n]: [data[n], grads[n], fills.get(ids[n], PLAIN)] for n in film.scene.order}
        assert shown == expected, f"step {k}"
        assert set(player.doc.evaluate(ops)) == {PLAIN}  # op nodes stay white


def test_a_step_forward_rewrites_only_that_steps_boxes(browser: Any, tmp_path: Path) -> None:
    player = Player(browser, mlp(), tmp_path)
    steps = player.film()["steps"]
    k = len(steps) // 2
    player.doc.fill("#slider", str(k - 1))
    player.doc.evaluate(
        """() => { window.rewritten = new Set();
        new MutationObserver(changes => changes.forEach(c => {
            if (c.target.tagName === "text") { window.rewritten.add(c.target); } }))
        .observe(document.querySelector("#graph > svg"), {childList: true, subtree: true}); }"""
    )
    player.press("ArrowRight")
    rewritten = player.doc.evaluate("window.rewritten.size")
    changed = len(steps[k]["data"]) + len(steps[k]["grads"])
    assert 0 < rewritten == changed < len(player.scene.ids) // 4


def test_slots_say_which_text_of_a_box_shows_data_and_grad(browser: Any, tmp_path: Path) -> None:
    x = Value(2.0, label="x")
    y = x * 3.0
    y.label = "y"
    viz.save_html(y, tmp_path / "plain.html")
    document = (tmp_path / "plain.html").read_text(encoding="utf-8")
    found = re.search(r'(<script type="application/json" id="steps">)(.*?)(</script>)', document)
    assert found
    payload = json.loads(found.group(2))
    scene = Scene(y)
    box = scene.ids[x]
    payload["start"]["slots"] = {box: [2, 1]}  # this box shows its grad before its data
    text = json.dumps(payload, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    document = document[: found.start(2)] + text + document[found.end(2) :]
    player = Player(browser, y, tmp_path, document=document)
    texts = player.doc.locator(f"#{box} text")
    assert texts.nth(2).text_content() == "data 2.000"
    assert texts.nth(1).text_content() == "grad ?"
    player.press("End")
    assert texts.nth(1).text_content() == "grad 3.000"
    assert texts.nth(2).text_content() == "data 2.000"
    assert player.doc.locator(f"#{scene.ids[y]} text").nth(2).text_content() == "grad 1.000"


def test_a_collapsed_player_steps_per_neuron_and_ends_at_backwards_gradients(
    browser: Any, tmp_path: Path
) -> None:
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=2)
    loss = losses.binary_cross_entropy(model([0.5, -1.0]), 1)
    path = tmp_path / "net.html"
    viz.save_html(loss, path, collapse="neuron", include_forward=True)
    player = Player(browser, loss, tmp_path, document=path.read_text(encoding="utf-8"))
    scene = Scene(loss, "neuron")
    steps = viz.backprop_steps(loss, collapse="neuron", include_forward=True)
    assert sum(s.kind == "backward" for s in steps) == 1 + 3 + 1  # the loss, then each neuron
    player.press("End")
    caption = player.doc.inner_text("#caption")
    assert caption == steps[-1].caption and "its parameters:" in caption
    loss.backward()
    for unit in (*model.layers[0].neurons, *model.layers[1].neurons):
        box = scene.group_ids[unit.scope]
        texts = player.doc.evaluate(
            "id => Array.from(document.getElementById(id).getElementsByTagName('text'))"
            ".map(t => t.textContent)",
            box,
        )
        shown = " ".join(number(p.grad) for p in unit.w) + f" b.grad {number(unit.b.grad)}"
        assert texts[4] == f"w.grad {shown}"  # every parameter's gradient, as backward() has it
        assert texts[3] == f"out.grad {number(scene.outputs[unit.scope][0].grad)}"
    colours = player.doc.evaluate(
        "ids => ids.map(id => document.getElementById(id).querySelector('polygon, path')"
        ".getAttribute('fill'))",
        list(scene.group_ids.values()),
    )
    assert set(colours) <= {"#e3f1e3", "#fff3b0"}  # every box's gradient known at the end
    player.press("Home")
    assert player.doc.inner_text("#caption") == steps[0].caption


def test_a_chinese_label_is_drawn_with_its_own_glyphs(browser: Any, tmp_path: Path) -> None:
    need_font("zh")
    loss = (Value(2.0, label="输入") * Value(3.0, label="权重")).tanh()
    loss.label = "损失"
    player = Player(browser, loss, tmp_path)
    widths = player.doc.evaluate(
        """() => Array.from(document.querySelectorAll("text"))
        .filter(t => /[\\u4e00-\\u9fff]/.test(t.textContent))
        .map(t => [t.textContent, t.getComputedTextLength()])"""
    )
    assert {text for text, _ in widths} == {"输入", "权重", "损失"}
    pixels = player.doc.evaluate(  # two characters drawn: a missing glyph draws the same box
        """() => ["损", "失"].map(c => { const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 40; const g = canvas.getContext("2d");
            g.font = "28px Helvetica, sans-serif"; g.fillText(c, 4, 32);
            return Array.from(g.getImageData(0, 0, 40, 40).data).join(","); })"""
    )
    assert pixels[0] != pixels[1]


def test_a_layers_box_shows_its_parameters_gradients_once_they_are_known(
    browser: Any, tmp_path: Path
) -> None:
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    loss = losses.mse(model([0.5, -1.0]), 1.0)
    path = tmp_path / "layers.html"
    viz.save_html(loss, path, collapse="layer")
    player = Player(browser, loss, tmp_path, document=path.read_text(encoding="utf-8"))
    box = Scene(loss, "layer").group_ids[model.layers[0].scope]
    read = """id => { const g = document.getElementById(id);
        return [Array.from(g.getElementsByTagName("text")).map(t => t.textContent),
                g.querySelector("polygon, path").getAttribute("fill")]; }"""
    texts, colour = player.doc.evaluate(read, box)
    assert texts[2] == "|grad| mean ? of 9 parameters" and colour == "#ffffff"
    player.press("End")
    texts, colour = player.doc.evaluate(read, box)
    loss.backward()
    size = sum(abs(p.grad) for p in model.layers[0].parameters()) / 9
    assert texts[2] == f"|grad| mean {number(size)} of 9 parameters"
    assert colour == "#fff3b0"  # the last step's own box
    player.press("ArrowLeft")  # one step back: it receives its gradient, not yet its own
    assert player.doc.evaluate(read, box) == [[*texts[:2], "|grad| mean ? of 9 parameters"],
                                              "#dbe9f6"]  # fmt: skip
