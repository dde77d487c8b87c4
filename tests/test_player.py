"""The HTML player in a real browser: headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from microgradx import Value, viz
from microgradx.engine import topological_order
from microgradx.viz.scene import Scene, number


def neuron() -> Value:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


class Page:
    """A player opened in a browser tab, recording every request it makes."""

    def __init__(self, browser: Any, root: Value, folder: Path) -> None:
        path = folder / "player.html"
        viz.save_html(root, path)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss())
        )
        self.url = path.as_uri()
        self.page.goto(self.url)
        self.scene = Scene(root)

    def caption(self) -> str:
        return str(self.page.inner_text("#caption"))

    def counter(self) -> str:
        return str(self.page.inner_text("#counter"))

    def grad_text(self, node: Value) -> str:
        return str(self.page.locator(f"#{self.scene.ids[node]} text").nth(2).text_content())

    def boxes(self) -> dict[str, Any]:
        """Where each box's outline is, in the picture's own coordinates (scrolling aside)."""
        where = """id => {
            const b = document.getElementById(id).querySelector("path, polygon").getBBox();
            return [b.x, b.y, b.width, b.height];
        }"""
        return {box: self.page.evaluate(where, box) for box in self.scene.ids.values()}


def test_keys_and_buttons_step_through_the_engines_captions(browser: Any, tmp_path: Path) -> None:
    o = neuron()
    steps = viz.backprop_steps(o)
    page = Page(browser, o, tmp_path)
    assert page.counter() == f"step 0 / {len(steps) - 1}" and page.caption() == steps[0].caption
    for k in range(1, len(steps)):
        page.page.keyboard.press("ArrowRight")
        assert page.caption() == steps[k].caption and page.counter().startswith(f"step {k} ")
    page.page.keyboard.press("ArrowRight")  # past the end: stays on the last step
    assert page.caption() == steps[-1].caption
    page.page.keyboard.press("Home")
    assert page.caption() == steps[0].caption
    page.page.click("#next")
    page.page.click("#next")
    page.page.click("#prev")
    assert page.caption() == steps[1].caption
    page.page.keyboard.press("End")
    assert page.caption() == steps[-1].caption
    page.page.click("#first")
    assert page.caption() == steps[0].caption
    page.page.fill("#slider", "3")
    assert page.caption() == steps[3].caption
    page.page.click("#last")
    assert page.caption() == steps[-1].caption


def test_gradients_appear_as_computed_and_all_match_backward_at_the_end(
    browser: Any, tmp_path: Path
) -> None:
    o = neuron()
    page = Page(browser, o, tmp_path)
    order = topological_order(o)
    assert page.grad_text(o) == "grad 1.000"
    assert all(page.grad_text(node) == "grad ?" for node in order if node is not o)
    page.page.keyboard.press("ArrowRight")
    assert page.grad_text(order[-2]) == "grad 0.5000"  # n, right after the output
    page.page.click("#last")
    o.backward()
    for node in order:
        assert page.grad_text(node) == f"grad {number(node.grad)}"
    assert page.page.locator(".node.current").count() == 1


def test_play_and_pause(browser: Any, tmp_path: Path) -> None:
    page = Page(browser, neuron(), tmp_path)
    page.page.click("#play")
    assert "pause" in page.page.inner_text("#play")
    page.page.wait_for_function(
        "document.getElementById('counter').textContent.startsWith('step 2')"
    )
    page.page.keyboard.press(" ")
    assert "play" in page.page.inner_text("#play")


def test_accumulation_is_visible(browser: Any, tmp_path: Path) -> None:
    x = Value(3.0, label="x")
    y = x * x + x
    y.label = "y"
    page = Page(browser, y, tmp_path)
    page.page.click("#last")
    x_box = page.scene.ids[x]
    assert "+=" in page.caption() and f"so x.grad = {number(7.0)}" in page.caption()
    assert page.page.locator(f"#{x_box}").get_attribute("class") == "node accumulated"
    assert page.grad_text(x) == f"grad {number(7.0)}"


def test_no_network_request_and_a_hostile_label_stays_text(browser: Any, tmp_path: Path) -> None:
    hostile = "<img src=x onerror=alert(document.domain)>"
    x = Value(1.0, label=hostile)
    y = (x * 2).tanh()
    page = Page(browser, y, tmp_path)
    page.page.click("#last")
    page.page.keyboard.press("Home")
    assert page.requests == [page.url]
    assert page.dialogs == []
    assert page.page.locator("img").count() == 0
    assert page.page.locator(f"#{page.scene.ids[x]} text").first.text_content() == hostile


def test_boxes_do_not_move_between_the_first_and_the_last_step(
    browser: Any, tmp_path: Path
) -> None:
    x, w = Value(0.123456, label="x"), Value(-2.5, label="w")
    y = ((x * w).exp() + x * x).sigmoid()
    page = Page(browser, y, tmp_path)
    first = page.boxes()
    page.page.click("#last")
    assert page.boxes() == first
