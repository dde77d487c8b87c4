"""The live widget's view (player.js + widget.js, the module anywidget loads) in headless
Chromium, with a small fake widget model (get, set, on, off, save_changes) whose
save_changes hands the values to the Python widget, as a kernel would, and sends back what
changed: a moved slider rewrites the graph's texts; views stay apart."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from microgradx import Value, data, nn, viz

pytest.importorskip("anywidget", reason="viz.live needs anywidget (the widget extra)")

FAKE = """
window.models = {};
window.makeModel = function (id, state) {
  const handlers = {}, changed = new Set();
  const model = {
    get: name => state[name],
    set: (name, value) => { state[name] = value; changed.add(name); },
    on: (event, handler) => { (handlers[event] = handlers[event] || []).push(handler); },
    off: (event, handler) => {
      handlers[event] = (handlers[event] || []).filter(h => h !== handler);
    },
    save_changes: async () => {
      const sent = {};
      changed.forEach(name => { sent[name] = state[name]; });
      changed.clear();
      const back = await window.kernel(id, JSON.stringify(sent));  // Python's answer
      model.receive(JSON.parse(back));
    },
    receive: update => Object.entries(update).forEach(([name, value]) => {
      state[name] = value;
      (handlers["change:" + name] || []).forEach(h => h());
    }),
  };
  window.models[id] = model;
  return model;
};
window.views = [];
window.show = async function (id) {
  const esm = JSON.parse(document.getElementById("esm").textContent);
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const el = document.createElement("div");
  el.className = "cell";
  document.body.appendChild(el);
  widget.render({ model: window.models[id], el: el });
  window.views.push(el);
};
"""


def neuron(x: Value, w: Value) -> Value:
    return (x * w).tanh()


def open_views(browser: Any, folder: Path, widgets: dict[str, Any], views: list[str]) -> Any:
    """A page with a view of widgets[id] for each id in views (an id twice: two views)."""
    esm = json.dumps(next(iter(widgets.values()))._esm).replace("<", "\\u003c")
    page_text = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<style>{next(iter(widgets.values()))._css}</style></head><body>
<button id="elsewhere">the notebook</button>
<script type="application/json" id="esm">{esm}</script>
<script>{FAKE}</script></body></html>"""
    path = folder / "views.html"
    path.write_text(page_text, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 1400})

    def kernel(id_: str, sent: str) -> str:
        widget = widgets[id_]
        for name, value in json.loads(sent).items():
            setattr(widget, name, value)  # the values trait: Python recomputes
        keys = ("film", "values", "grads", "output", "error")
        return json.dumps({k: getattr(widget, k) for k in keys})

    page.expose_function("kernel", kernel)
    page.goto(path.as_uri())
    for id_, widget in widgets.items():
        names = ("view", "film", "inputs", "values", "grads", "output", "error", "height")
        names += ("training", "curve", "steps", "grid_size", "plane", "points", "threshold")
        state = {name: getattr(widget, name) for name in names}  # the synced traits
        state["grid"] = base64.b64encode(widget.grid).decode()  # binary: a DataView, as sent
        page.evaluate(
            """([id, state]) => {
              const bytes = Uint8Array.from(atob(state.grid), c => c.charCodeAt(0));
              state.grid = new DataView(bytes.buffer);
              makeModel(id, state);
            }""",
            [id_, state],
        )
    for id_ in views:
        page.evaluate("id => window.show(id)", id_)
    page.wait_for_function(
        f"document.querySelectorAll('.cell [id=counter]').length === {len(views)}"
    )
    return page


def box_texts(page: Any, view: int, box: str) -> list[str]:
    return list(
        page.evaluate(
            """([k, box]) => Array.from(window.views[k].querySelector('[id="' + box + '"]')
            .getElementsByTagName("text")).map(t => t.textContent)""",
            [view, box],
        )
    )


def test_a_moved_slider_rewrites_the_texts_and_other_views_of_it_follow(
    browser: Any, tmp_path: Path
) -> None:
    first = viz.live(neuron, x=(2.0, -3, 3), w=(-0.5, -2, 2))
    other = viz.live(neuron, x=1.0, w=1.0)  # another widget: the same box ids
    page = open_views(browser, tmp_path, {"a": first, "b": other}, ["a", "a", "b"])
    scene = first.film_frames.scene
    x_box = scene.ids[next(n for n in scene.order if n.label == "x")]
    assert box_texts(page, 0, x_box)[1:] == ["data 2.000", f"grad {first.grads['x']:#.4g}"]
    untouched = box_texts(page, 2, x_box)
    before = box_texts(page, 0, x_box)[2]

    slider = page.locator('.cell >> nth=0 >> input[aria-label="x"]')
    slider.fill("0.5")  # the range input's value, then an input event
    page.wait_for_function(
        "box => window.views[0].querySelector('[id=\"' + box + '\"]')"
        ".getElementsByTagName('text')[1].textContent === 'data 0.5000'",
        arg=x_box,
    )
    x, w = Value(0.5), Value(-0.5)
    out = neuron(x, w)
    out.backward()
    assert first.values == {"x": 0.5, "w": -0.5}
    shown = box_texts(page, 0, x_box)
    assert shown[2] == f"grad {x.grad:#.4g}" != before  # the engine's new gradient
    assert box_texts(page, 1, x_box) == shown  # the second view of the same widget follows
    assert box_texts(page, 2, x_box) == untouched  # the other widget's view does not
    root_box = scene.ids[scene.root]
    assert box_texts(page, 0, root_box)[1] == f"data {out.data:#.4g}"
    assert page.locator(".cell >> nth=1 >> output").first.text_content() == "0.5000"


def test_replay_steps_through_the_backward_pass_at_the_current_point(
    browser: Any, tmp_path: Path
) -> None:
    live = viz.live(neuron, x=(2.0, -3, 3), w=(-0.5, -2, 2))
    page = open_views(browser, tmp_path, {"a": live}, ["a", "a"])
    last = len(live.film["steps"]) - 1
    counters = page.locator('.cell [id="counter"]')
    assert counters.all_inner_texts() == [f"step {last} / {last}"] * 2  # every gradient known
    page.locator('.cell >> nth=0 >> [id="first"]').click()
    page.locator(".cell").nth(0).focus()
    page.keyboard.press("ArrowRight")
    assert counters.all_inner_texts() == [f"step 1 / {last}", f"step {last} / {last}"]
    page.focus("#elsewhere")
    page.keyboard.press("End")  # the notebook's key: no view moves
    assert counters.all_inner_texts() == [f"step 1 / {last}", f"step {last} / {last}"]
    caption = page.locator('.cell >> nth=0 >> [id="caption"]').text_content()
    assert caption == live.film["steps"][1]["caption"]


def test_while_training_the_view_draws_the_loss_curve_and_the_decision_boundary(
    browser: Any, tmp_path: Path
) -> None:
    model = nn.MLP(2, [4, 1], output_activation="sigmoid", seed=1)
    X, y = data.make_moons(n_samples=30, seed=0)
    live = viz.live(model, [0.5, -1.0], X=X, y=y)
    page = open_views(browser, tmp_path, {"a": live}, ["a"])
    panels = page.locator(".cell .mgx-training")
    assert panels.is_hidden()  # not training: no panels
    losses_ = [0.9, 0.7, 0.72, 0.5, 0.41, 0.3]
    n = 8
    grid = [float(column - row) for row in range(n) for column in range(n)]  # above: top right
    update = {"training": True, "curve": losses_, "steps": 6, "grid_size": n}
    page.evaluate(
        """([update, grid]) => {
          const view = new DataView(new Float64Array(grid).buffer);
          window.models.a.receive(Object.assign(update, { grid: view, threshold: 0.5 }));
        }""",
        [update, grid],
    )
    page.wait_for_function("document.querySelector('.mgx-curve polyline').getAttribute('points')")
    assert panels.is_visible()
    points = page.locator(".mgx-curve polyline").get_attribute("points")
    assert points is not None and len(points.split()) == len(losses_)
    labels = page.locator(".mgx-curve text").all_text_contents()
    assert {"0.900", "0.300", "6"} <= set(labels)
    pixels = page.evaluate(
        """() => {
          const c = document.querySelector('.mgx-boundary').getContext('2d');
          const at = (x, y) => Array.from(c.getImageData(x, y, 1, 1).data).join(',');
          return [at(150, 5), at(5, 150), at(140, 20), at(20, 140)];
        }"""
    )
    assert pixels[0] == pixels[2] != pixels[1] == pixels[3]  # the two sides: two colours
    if shot := os.environ.get("MGX_LIVE_SHOT"):
        page.locator(".cell").screenshot(path=shot)
