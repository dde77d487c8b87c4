"""Pictures of hostile or careless input: any label, any height, a batch never reduced, any fps.

Every label reaches DOT, SVG, the player's HTML and a GIF's captions through one function
(scene.shown): cut past LONGEST characters with "…", on one line, printable. No value put
into the notebook's HTML runs script.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import need
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microgradx import Value, viz
from microgradx.recording import scope
from microgradx.viz.scene import LONGEST, run_dot

SVG = "{http://www.w3.org/2000/svg}"
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text at all (lone surrogates, control characters, line breaks included), and long ones:
# dot refuses a quoted string past 16 KB.
labels = st.one_of(
    st.text(),
    st.text(min_size=1, max_size=3).map(lambda part: part * 7000),
    st.sampled_from(["a\ud800b", "a\rb", "x" * 20000, "\r", "\x00", "a\u2028b\u0085c"]),
)


def unprintable(text: str) -> list[str]:
    """The characters of text that no picture should carry (the test's own definition: Unicode
    categories C*, Zl, Zp; the figure space, U+2007, pads the frames' texts)."""
    return [c for c in text if unicodedata.category(c)[0] == "C" or c in "\u2028\u2029"]


def graph(label: str) -> Value:
    """A small graph whose input, and whose group (a scope, as nn's modules open), carry the
    label."""
    x = Value(2.0, label=label)
    with scope(label, kind="loss"):
        y = (x * 3.0).tanh()
    return y + Value(1.0, label=label)


def check_svg_texts(svg: str, label: str) -> None:
    """The SVG is well-formed XML; its texts are printable and no longer than LONGEST
    characters; a plain label is shown whole when it fits, else its first LONGEST - 1
    characters and "…"."""
    texts = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert texts
    for text in texts:
        assert not unprintable(text), text
        assert len(text) <= LONGEST
    if label.isalnum() and label.isascii():
        expected = label if len(label) <= LONGEST else label[: LONGEST - 1] + "…"
        assert expected in texts


@FEW
@given(labels)
def test_any_label_draws(label: str) -> None:
    need("dot")
    y = graph(label)
    y.backward()
    dot = viz.to_dot(y, show_local_grads=True, color="grad")
    check_svg_texts(run_dot(dot, "svg").decode("utf-8"), label)
    check_svg_texts(viz.draw(y).pipe(format="svg").decode("utf-8"), label)


@FEW
@given(labels, labels)
def test_any_label_and_title_make_a_player(tmp_path_factory: Any, label: str, title: str) -> None:
    need("dot")
    path = tmp_path_factory.mktemp("html") / "player.html"
    viz.save_html(graph(label), path, title=title)
    document = path.read_bytes().decode("utf-8")  # strict: no lone surrogate was written
    svg = document[document.index("<svg") : document.index("</svg>") + 6]
    check_svg_texts(svg, label)
    payload = re.search(r'<script [^>]*id="steps">(.*?)</script>', document, re.S)
    assert payload is not None
    film = json.loads(payload.group(1))
    for step in film["steps"]:
        for line in step["caption"].split("\n"):
            assert not unprintable(line), line
    heading = re.search(r"<h1>(.*?)</h1>", document, re.S)
    assert heading is not None
    assert not unprintable(html.unescape(heading.group(1)))
    assert len(html.unescape(heading.group(1))) <= LONGEST


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(labels)
def test_any_label_makes_a_gif(tmp_path_factory: Any, label: str) -> None:
    need("dot")
    from PIL import Image

    path = tmp_path_factory.mktemp("gif") / "steps.gif"
    y = graph(label)
    viz.save_gif(y, path, fps=10)
    with Image.open(path) as gif:
        assert gif.n_frames == len(viz.backprop_steps(y))


def test_a_long_name_in_a_formula_draws_from_the_command_line(tmp_path: Path) -> None:
    need("dot")
    from microgradx.cli import main

    name = "x" * 20000
    out = tmp_path / "graph.svg"
    assert main(["graph", f"{name} * 2", "--at", f"{name}=3", "--out", str(out)]) == 0
    assert out.read_text().count("x" * (LONGEST - 1) + "…") >= 1


# --- the player's height, and every other value that reaches the notebook's HTML ---------

HOSTILE_HEIGHTS = [
    '100px" onload="window.__pwned=1" x="',
    "100px; background: url(javascript:alert(1))",
    "100",
    "-5px",
    "1e3px",
    "100 px",
    "100px\n",
    "calc(100px)",
    "",
    0,
    -1,
    True,
    1.5,
    None,
    10**9,
]


@pytest.mark.parametrize("height", HOSTILE_HEIGHTS)
def test_a_bad_height_is_refused(height: Any) -> None:
    with pytest.raises(ValueError, match=r"height must be a whole number of pixels .*; got"):
        viz.Player(Value(2.0, label="x") * 3, height=height)


@pytest.mark.parametrize(
    ("height", "css"),
    [(560, "560px"), (300, "300px"), ("600px", "600px"), ("30em", "30em"), ("80vh", "80vh"),
     ("12.5rem", "12.5rem")],
)  # fmt: skip
def test_a_good_height_reaches_the_iframe(height: Any, css: str) -> None:
    shown = viz.Player(Value(2.0, label="x") * 3, height=height)._repr_html_()
    assert re.search(r'style="width: 100%; height: ([^;"]*);', shown).group(1) == css  # type: ignore[union-attr]


def test_the_live_widgets_height_is_a_whole_number() -> None:
    pytest.importorskip("anywidget")
    with pytest.raises(ValueError, match=r"height \(pixels\) must be a whole number"):
        viz.live(lambda x: x * 2, x=1.0, height="100px")  # type: ignore[arg-type]


PWN = "window.__pwned=1"
HOSTILE_TEXTS = [
    f"<img src=x onerror={PWN}>",
    f"</script><script>{PWN}</script>",
    f'"><svg onload="{PWN}">',
    f'\'><iframe srcdoc="<script>parent.{PWN}</script>">',
    f"]]><script>{PWN}</script>",
    f"<!--<script>{PWN}</script>-->",
]


def test_hostile_values_never_run_script(browser: Any, tmp_path: Path) -> None:
    """Labels, scope names and titles in the saved player and in the notebook's player, and a
    height set on a Player after its checks: the pages load, and nothing sets window.__pwned."""
    x = Value(2.0, label=HOSTILE_TEXTS[0])
    parts = [x * Value(float(i), label=text) for i, text in enumerate(HOSTILE_TEXTS)]
    with scope(HOSTILE_TEXTS[1], kind="loss"):
        total = sum(parts[1:], parts[0]).tanh()
    root = total + Value(1.0, label=HOSTILE_TEXTS[2])
    page = browser.new_page()
    try:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        path = tmp_path / "player.html"
        viz.save_html(root, path, title=HOSTILE_TEXTS[3])
        page.goto(path.as_uri())
        page.click("#last")
        assert page.evaluate("() => window.__pwned") is None
        assert page.locator("h1").text_content() == HOSTILE_TEXTS[3]

        player = viz.Player(root, height=400)
        player.height = '400px" onload="window.__pwned=1" x="'  # past the check: still escaped
        page.set_content(f"<body>{player._repr_html_()}</body>")
        frame = page.frames[1]
        frame.wait_for_selector("#counter:not(:empty)")
        frame.click("#last")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.__pwned") is None
        assert frame.evaluate("() => window.__pwned") is None
        assert page.locator("iframe").count() == 1
        assert dialogs == []
    finally:
        page.close()


# --- a batch never reduced: refused wherever its gradients would be drawn -----------------


UNREDUCED = r"holds a batch of 2 numbers; use \.mean\(\) or \.sum\(\)"


def batch_graph() -> tuple[Value, Value]:
    """A batch output (never reduced), after backward() of its mean: the gradients in the
    graph are the mean's."""
    w = Value(3.0, label="w")
    y = Value(np.array([1.0, 2.0]), label="xs") * w
    y.mean().backward()
    return y, w


@pytest.mark.parametrize(
    "draw",
    [
        lambda y, tmp: viz.to_dot(y),
        lambda y, tmp: viz.to_dot(y, show_grad=False, color="grad"),
        lambda y, tmp: viz.draw(y),
        lambda y, tmp: viz.save(y, tmp / "graph.dot"),
        lambda y, tmp: viz.save_html(y, tmp / "graph.html"),
        lambda y, tmp: viz.save_gif(y, tmp / "graph.gif"),
        lambda y, tmp: viz.player(y),
        lambda y, tmp: viz.backprop_steps(y),
    ],
)
def test_an_unreduced_batch_is_refused_as_backward_refuses_it(draw: Any, tmp_path: Path) -> None:
    y, _ = batch_graph()
    with pytest.raises(ValueError, match=UNREDUCED):
        y.backward()
    with pytest.raises(ValueError, match=UNREDUCED):
        draw(y, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_unreduced_batch_draws_without_gradients() -> None:
    y, w = batch_graph()
    values = viz.to_dot(y, show_grad=False)  # the values alone: nothing wrong is shown
    assert "grad" not in values and "data batch of 2, mean 4.500" in values
    forward = Value(np.array([1.0, 2.0]), label="xs") * Value(3.0, label="w")
    assert "grad 0.000" in viz.to_dot(forward)  # a forward pass only: no gradient to misread
    assert viz.to_dot(y.mean())  # the reduced output, after its backward(): fine
    assert w.grad == pytest.approx(1.5)
