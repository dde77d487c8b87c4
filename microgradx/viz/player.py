"""The step-by-step player: one self-contained HTML file (or a notebook cell), and frames.

The graph is laid out once by `dot`, with every box as wide as the widest text it will show,
so nothing moves between steps: each step only changes texts and colours. The steps are data
(JSON) read by a small script; all text reaches the page through `textContent`, never as
markup, and the page makes no network request.
"""

from __future__ import annotations

import functools
import html
import io
import json
import os
import re
import struct
import subprocess
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from microgradx import language
from microgradx.engine import Value
from microgradx.files import write_atomically, write_text
from microgradx.language import say
from microgradx.recording import Scope
from microgradx.viz import layout
from microgradx.viz.scene import (
    CURRENT,
    FIGURE_SPACE,
    RECEIVING,
    Scene,
    field_word,
    number,
    run_dot,
    running_dot,
    shown,
)
from microgradx.viz.steps import Step, steps_of

DONE = "#e3f1e3"  # a box whose gradient is known
MONOSPACE = "DejaVu Sans Mono"


def waiting() -> str:
    """The text of a gradient not known yet, in the language in use: "grad ?"."""
    return f"{field_word('grad')} ?"


@dataclass
class Frames:
    """The steps, and what each one changes in the boxes' texts (on a fixed layout): the
    changes only, so that the size grows with the graph, not with its square."""

    scene: Scene
    steps: list[Step]
    start: dict[Value, str]  # every node's data text before the first step
    changes: list[tuple[dict[Value, str], dict[Value, str]]]  # per step: (data, grad) texts
    params: list[dict[Scope, str]]  # per step: the parameter texts of the groups that change

    def states(
        self,
    ) -> Iterator[tuple[dict[Value, str], dict[Value, str], dict[Scope, str], dict[str, str]]]:
        """Each step's texts (data, grads, groups' parameters) and box colours, one step at a
        time; the same dicts are updated in place, so copy what you keep."""
        scene = self.scene
        data, grads = dict(self.start), dict.fromkeys(scene.order, waiting())
        params = {g: scene.parameter_grads(g, {}) for g in scene.group_ids if scene.parameters(g)}
        known: set[str] = set()  # boxes whose gradient is known
        for step, (data_changes, grad_changes), param_changes in zip(
            self.steps, self.changes, self.params
        ):
            data.update(data_changes)
            grads.update(grad_changes)
            params.update(param_changes)
            known.update(scene.box(n) for n in grad_changes)
            fills = dict.fromkeys(known, DONE)
            for box in receiving(scene, step):
                fills[box] = RECEIVING
            fills[scene.box(step.node)] = CURRENT
            yield data, grads, params, fills

    def widest(self) -> tuple[dict[Value, str], dict[Value, str], dict[Scope, str]]:
        """For each node (and group), its longest texts of all steps (the layout uses these)."""
        scene = self.scene
        data = {n: f"{field_word('data')} {number(n.data)}" for n in scene.order}
        grads = dict.fromkeys(scene.order, waiting())
        params = {g: scene.parameter_grads(g, {}) for g in scene.group_ids if scene.parameters(g)}
        for (data_changes, grad_changes), param_changes in zip(self.changes, self.params):
            _longest(data, data_changes)
            _longest(grads, grad_changes)
            _longest(params, param_changes)
        return data, grads, params


def _longest(widest: dict[Any, str], texts: dict[Any, str]) -> None:
    """Keep in widest each key's longer text."""
    for key, text in texts.items():
        if len(text) > len(widest.get(key, "")):
            widest[key] = text


def receiving(scene: Scene, step: Step) -> list[str]:
    """The boxes a step sends gradient to (other than its own)."""
    own = scene.box(step.node)
    return [b for b in dict.fromkeys(scene.box(c.parent) for c in step.contributions) if b != own]


def frames(
    root: Value,
    include_forward: bool = False,
    max_nodes: int = 500,
    collapse: str | None = None,
    expand_loss: bool = False,
) -> Frames:
    """Replay the steps, writing down what every box's texts change to at each one."""
    scene = Scene(root, collapse, max_nodes, expand_loss)
    steps = steps_of(scene, include_forward)
    data_word = field_word("data")
    start = {n: f"{data_word} ?" if include_forward else f"{data_word} {number(n.data)}"
             for n in scene.order}  # fmt: skip
    result = Frames(scene, steps, start, [], [])
    so_far: dict[Value, Any] = {}  # each parameter's gradient so far
    for step in steps:
        data, grads = {}, {}
        if step.kind == "forward":
            computed = [step.node]
            if step.node in scene.group:  # a group's step computes all of its nodes
                computed = scene.members[scene.group[step.node]]
            data = {n: f"{data_word} {number(n.data)}" for n in computed}
        elif step.kind == "seed":
            grads[step.node] = f"{field_word('grad')} {number(1.0)}"
        changed: set[Scope] = set()
        for c in step.contributions:
            grads[c.parent] = f"{field_word('grad')} {number(c.grad_after)}"
            so_far[c.parent] = c.grad_after
            if c.parent in scene.group and c.parent.op is None:
                changed.add(scene.group[c.parent])
        params = {g: scene.parameter_grads(g, so_far) for g in changed if scene.parameters(g)}
        result.changes.append((data, grads))
        result.params.append(params)
    return result


def save_html(
    root: Value,
    path: str | os.PathLike[str],
    include_forward: bool = False,
    title: str | None = None,
    max_nodes: int = 500,
    collapse: str | None = None,
    expand_loss: bool = False,
) -> None:
    """Write the step-by-step player as one HTML file that works offline. collapse="neuron"
    (or "layer") steps through an nn model a neuron (a layer) at a time; a loss is one box
    and one step unless expand_loss."""
    document = player_html(root, include_forward, title, max_nodes, collapse, expand_loss)
    write_text(path, document)


class Player:
    """The player inline in a notebook: display it, or `.save(path)`. Its display data also
    carries a picture of the last step (SVG), which notebook viewers without scripts show."""

    def __init__(
        self,
        root: Value,
        include_forward: bool = False,
        height: int | str = 560,
        max_nodes: int = 500,
        collapse: str | None = None,
        expand_loss: bool = False,
    ) -> None:
        self.height = css_length("height", height)  # first: a bad height wastes no drawing
        film = frames(root, include_forward, max_nodes, collapse, expand_loss)
        self.document = player_html(film=film)
        self.picture = _last_picture(film)

    def _repr_html_(self) -> str:
        # An iframe keeps the player's script and ids apart from the notebook's own.
        style = f"width: 100%; height: {self.height}; border: 1px solid #ddd;"
        return (
            f'<iframe srcdoc="{html.escape(self.document, quote=True)}" '
            f'style="{html.escape(style, quote=True)}"></iframe>'
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        """The player (HTML) and, for viewers that run no script, the last step's picture."""
        return {"text/html": self._repr_html_(), "image/svg+xml": self.picture}

    def save(self, path: str | os.PathLike[str]) -> None:
        write_text(path, self.document)


_CSS_LENGTH = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,3})?(?:px|em|rem|vh)")  # (fullmatch)


def css_length(what: str, length: object) -> str:
    """A size for CSS: a whole number of pixels (560 is "560px"), or a length such as "30em",
    "600px" or "80vh" (a number, then px, em, rem or vh); anything else is refused, as it would
    go into the notebook's HTML."""
    if isinstance(length, int) and not isinstance(length, bool) and 0 < length <= 99999:
        return f"{length}px"
    if isinstance(length, str) and _CSS_LENGTH.fullmatch(length):
        return length
    raise ValueError(
        f"{what} must be a whole number of pixels (such as 560) or a CSS length such as "
        f"'600px', '30em' or '80vh' (a number, then px, em, rem or vh); "
        f"got {shown(repr(length), 60)}"
    )


def player(
    root: Value,
    include_forward: bool = False,
    max_nodes: int = 500,
    collapse: str | None = None,
    expand_loss: bool = False,
) -> Player:
    """The step-by-step player for a notebook cell (collapse and expand_loss as in save_html)."""
    return Player(root, include_forward, max_nodes=max_nodes, collapse=collapse,
                  expand_loss=expand_loss)  # fmt: skip


def player_html(
    root: Value | None = None,
    include_forward: bool = False,
    title: str | None = None,
    max_nodes: int = 500,
    collapse: str | None = None,
    expand_loss: bool = False,
    film: Frames | None = None,
) -> str:
    """The player's HTML document: the graph laid out once, and each step's changes as data."""
    if film is None:
        assert root is not None
        film = frames(root, include_forward, max_nodes, collapse, expand_loss)
    scene = film.scene
    svg = _svg(scene, *film.widest())
    payload = json.dumps(film_data(film), ensure_ascii=False)
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    name = scene.names[scene.root]
    heading = title or say(f"Backpropagation through {name}", f"{name} 的反向传播")
    heading = html.escape(shown(heading))
    parts = {
        "title": heading,
        "css": source("player.css"),
        "view": view_html(svg),
        "steps": payload,
        "script": source("player.js"),
        "lang": language.current(),
    }  # one pass over the template: no text put in is read again
    return re.sub(
        r"\{(title|css|view|steps|script|lang)\}",
        lambda m: parts[m.group(1)],
        source("player.html"),
    )


def film_data(film: Frames) -> dict[str, Any]:
    """The steps as the player's script reads them (JSON): texts by box id, the start's and
    what each step changes, with its caption, arrows and the boxes it paints."""
    scene = film.scene
    steps = []
    for step, (data_changes, grad_changes), param_changes in zip(
        film.steps, film.changes, film.params
    ):
        steps.append(
            {
                "kind": step.kind,
                "node": scene.box(step.node),
                "edges": _arrows(scene, step),
                "caption": step.caption,
                "data": _texts(scene, data_changes, field_word("data"), field_word("out")),
                "grads": _texts(scene, grad_changes, field_word("grad"), field_word("out.grad")),
                "params": {scene.group_ids[g]: text for g, text in param_changes.items()},
                "receiving": receiving(scene, step),
                "accumulated": [scene.box(c.parent) for c in step.contributions if c.accumulated],
            }
        )
    groups = [g for g in scene.group_ids if scene.parameters(g)]
    start = {
        "data": _texts(scene, film.start, field_word("data"), field_word("out")),
        "grads": _texts(
            scene, dict.fromkeys(scene.order, waiting()), field_word("grad"), field_word("out.grad")
        ),
        "params": {scene.group_ids[g]: scene.parameter_grads(g, {}) for g in groups},
        "slots": {box: _slots(scene, group) for group, box in scene.group_ids.items()},
    }
    words = {key: page_words()[key] for key in ("step", "play", "pause", "curve")}
    return {"start": start, "steps": steps, "words": words}


def view_html(svg: str) -> str:
    """The player's controls, caption, frame (holding the picture) and help, as markup, in the
    language in use."""
    words = page_words()
    marked = re.sub(r"\{w\.(\w+)\}", lambda m: words[m.group(1)], source("view.html"))
    return marked.replace("{svg}", svg, 1)  # (svg's own text is not searched)


_SWATCH = '<span class="swatch {}"></span>'
_KEYS = " ".join(f"<kbd>{key}</kbd>" for key in ("&#x2190;", "&#x2192;"))


def page_words() -> dict[str, str]:
    """The words of the player's page (its buttons, their tips, the help), in the language in
    use; the scripts read step, play, pause and curve (the live widget's loss curve) from the
    film's data."""
    en = {
        "first": "first", "first_title": "first step (Home)", "prev": "prev",
        "prev_title": "previous step (&#x2190;)", "play": "play", "pause": "pause",
        "play_title": "play or pause (space)", "next": "next", "next_title": "next step (&#x2192;)",
        "last": "last", "last_title": "last step (End)", "step": "step", "zoom_out": "zoom out",
        "curve": "loss by step",
        "zoom_in": "zoom in", "fit": "fit", "fit_title": "the whole graph (0 or f)",
        "minimap": "the whole graph: click or drag to look there",
        "help": " &#xB7;\n".join([
            f"{_SWATCH.format('yellow')}yellow: the node being processed",
            f"{_SWATCH.format('blue')}blue: receiving gradient at this step",
            f"{_SWATCH.format('green')}green: gradient known (done)",
            f"{_SWATCH.format('orange')}orange outline: a gradient added to one already there (+=)",
            f"{_SWATCH.format('red')}red arrows: this step's edges<br>\n{_KEYS} step",
            "<kbd>Home</kbd> <kbd>End</kbd> jump", "<kbd>space</kbd> plays",
            "<kbd>+</kbd> <kbd>&#x2212;</kbd> zoom to the yellow node",
            "<kbd>0</kbd> or <kbd>f</kbd> the whole graph", "<kbd>m</kbd> overview on/off",
            "drag to move", "wheel to zoom", "click or drag in the overview to look there",
        ]),
    }  # fmt: skip
    if language.current() != "zh":
        return en
    return {
        "first": "第一步", "first_title": "第一步（Home）", "prev": "上一步",
        "prev_title": "上一步（&#x2190;）", "play": "播放", "pause": "暂停",
        "play_title": "播放或暂停（空格）", "next": "下一步", "next_title": "下一步（&#x2192;）",
        "last": "最后一步", "last_title": "最后一步（End）", "step": "步骤", "zoom_out": "缩小",
        "curve": "每一步的损失",
        "zoom_in": "放大", "fit": "全图", "fit_title": "整张图（0 或 f）",
        "minimap": "整张图：点击或拖动，就看那里",
        "help": " &#xB7;\n".join([
            f"{_SWATCH.format('yellow')}黄色：正在处理的节点",
            f"{_SWATCH.format('blue')}蓝色：这一步收到梯度",
            f"{_SWATCH.format('green')}绿色：梯度已知（完成）",
            f"{_SWATCH.format('orange')}橙色边框：梯度加到已有的梯度上（+=）",
            f"{_SWATCH.format('red')}红色箭头：这一步的边<br>\n{_KEYS} 前后一步",
            "<kbd>Home</kbd> <kbd>End</kbd> 跳到首尾", "<kbd>空格</kbd> 播放",
            "<kbd>+</kbd> <kbd>&#x2212;</kbd> 以黄色节点为中心缩放",
            "<kbd>0</kbd> 或 <kbd>f</kbd> 整张图", "<kbd>m</kbd> 开关总览",
            "拖动以移动", "滚轮缩放", "在总览中点击或拖动，就看那里",
        ]),
    }  # fmt: skip


@functools.cache
def source(name: str) -> str:
    """A file of the player that ships with the package: player.js, player.css, the templates."""
    return (resources.files("microgradx.viz") / name).read_text(encoding="utf-8")


def _texts(scene: Scene, texts: dict[Value, str], field: str, output: str) -> dict[str, str]:
    """Texts by box id: a node's own, a group's from its one output ("grad" becomes
    "out.grad"); nothing for the other nodes inside a group."""
    found = {}
    for node, text in texts.items():
        if node not in scene.group:
            found[scene.ids[node]] = text
        elif scene.outputs[scene.group[node]] == [node]:
            found[scene.box(node)] = text.replace(field, output, 1)
    return found


def _slots(scene: Scene, group: Scope) -> list[int | None]:
    """Which text of a group's box shows its data, its gradient and its parameters' gradients
    (after its name and detail): a layer has no output of its own, only parameters."""
    if len(scene.outputs[group]) == 1:
        return [2, 3, 4]
    return [None, None, 2]


def _arrows(scene: Scene, step: Step) -> list[str]:
    """The arrows a step goes along: into its node (or into its group's box)."""
    if step.kind == "seed":
        return []
    if step.node in scene.group:
        return scene.arrows_into(scene.group[step.node])
    return scene.edges_into(step.node)


def save_frames(
    root: Value,
    folder: str | os.PathLike[str],
    format: str = "svg",
    include_forward: bool = False,
    max_nodes: int = 500,
    collapse: str | None = None,
    expand_loss: bool = False,
) -> list[Path]:
    """One picture per step (svg, png or pdf), step_000.svg, step_001.svg, ..., every one
    with the same layout. Frames of an earlier, longer run in the folder are removed.
    collapse and expand_loss as in save_html. svg and pdf are drawn at full size; png frames
    are scaled down (never cropped) to at most GIF_WIDTH pixels wide and GIF_PIXELS in all,
    as the GIF's are, so that no graph makes an image too big to open."""
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"format must be svg, png or pdf; got {format!r}")
    film = frames(root, include_forward, max_nodes, collapse, expand_loss)
    (width, height), sources = _frame_sources(film)
    scale = min(1.0, GIF_WIDTH / width, (GIF_PIXELS / (width * height)) ** 0.5)
    dpi = DOT_DPI * scale if format == "png" else None
    pictures = list(_rendered(sources, format, dpi))  # all of them before any writing
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, picture in enumerate(pictures):
        path = folder / f"step_{i:03d}.{format}"
        write_atomically(path, _bytes_writer(picture))
        written.append(path)
    for stale in folder.glob(f"step_[0-9][0-9][0-9].{format}"):
        if stale not in written:
            stale.unlink()
    return written


GIF_WIDTH = 1920  # pixels: a GIF (and a png frame) is at most this wide
GIF_PIXELS = 1920 * 1200  # and at most this many pixels, caption included
GIF_MAX_STEPS = 300  # more frames make a GIF too slow to write and too big to send
CAPTION_SIZE = 15  # the caption's font size, pixels
CAPTION_LINES = 14  # a longer caption (after wrapping) is cut, its last line ending with "…"
DOT_DPI = 96.0  # dot draws png at 96 dots per inch: the size we scale down from
_MARGIN = 10  # pixels around the caption


def save_gif(
    root: Value,
    path: str | os.PathLike[str],
    fps: float = 2,
    include_forward: bool = False,
    max_nodes: int = 500,
    collapse: str | None = None,
    expand_loss: bool = False,
) -> None:
    """An animated GIF of the steps, each frame the graph with the step's caption under it
    (needs Pillow, which comes with `microgradx[plot]`). collapse and expand_loss as in
    save_html.

    A frame is at most GIF_WIDTH (1920) pixels wide and GIF_PIXELS (1920 × 1200) in all: a big
    graph is scaled down, never cropped, so it is all there but its text gets small (use
    collapse="neuron" to draw fewer boxes, or save_html, which zooms). Captions wrap to the
    frame's width and show at most CAPTION_LINES lines (then "…"). A graph of more than
    GIF_MAX_STEPS steps is refused before anything is drawn. Each frame is drawn by `dot`
    straight at its final size, given a palette and written out before the next one is drawn,
    so memory stays small whatever the graph; if anything fails, no file is written."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0.01 <= fps <= 50:
        raise ValueError(
            f"fps must be a number from 0.01 (a frame every 100 seconds) to 50 (GIF delays are "
            f"in hundredths of a second, and browsers slow down faster GIFs), got {fps!r}"
        )
    try:
        from PIL import GifImagePlugin, Image, ImageChops, ImageDraw
    except ImportError:
        raise ImportError(
            "save_gif needs Pillow: pip install 'microgradx[plot]' (or pip install pillow)"
        ) from None

    film = frames(root, include_forward, max_nodes, collapse, expand_loss)
    if len(film.steps) > GIF_MAX_STEPS:
        raise ValueError(
            f"this backpropagation has {len(film.steps)} steps, more than a GIF holds "
            f"(GIF_MAX_STEPS = {GIF_MAX_STEPS} frames); use collapse='neuron' or 'layer' "
            "(a step per neuron or layer), or save_html, which plays any number of steps"
        )
    (width, height), sources = _frame_sources(film)
    font = _font("".join(step.caption for step in film.steps))
    line = round(CAPTION_SIZE * 1.3)
    widest_line = max(font.getlength(text) for s in film.steps for text in s.caption.split("\n"))
    scale = min(1.0, GIF_WIDTH / width)
    frame_width = int(min(GIF_WIDTH, max(width * scale, widest_line + 2 * _MARGIN, 480)))
    captions = [_caption(step.caption, font, frame_width - 2 * _MARGIN) for step in film.steps]
    caption_height = line * max(len(c) for c in captions) + 2 * _MARGIN
    scale = min(scale, (GIF_PIXELS // frame_width - caption_height) / height)
    graph = (max(1, int(width * scale)), max(1, int(height * scale)))
    size = (frame_width, graph[1] + caption_height)
    delay = round(1000 / fps)

    def frame(png: bytes, caption: list[str]) -> Any:
        """The step's picture, at its final size, with its caption under it (RGB)."""
        canvas = Image.new("RGB", size, "white")
        with Image.open(io.BytesIO(png)) as picture:
            picture = picture.convert("RGB")
            if picture.width > graph[0] + 2 or picture.height > graph[1] + 2:  # dot's rounding
                picture.thumbnail(graph, Image.Resampling.LANCZOS)
            canvas.paste(picture, ((frame_width - picture.width) // 2, 0))
        draw = ImageDraw.Draw(canvas)
        top = graph[1] + _MARGIN
        draw.line([(0, top - _MARGIN // 2), (frame_width, top - _MARGIN // 2)], "#dddddd")
        for i, text in enumerate(caption):
            draw.text((_MARGIN, top + i * line), text, fill="black", font=font)
        return canvas

    def write(temporary: str) -> None:
        with open(temporary, "wb") as file:
            file.write(_gif_header(size))
            previous = None
            for png, caption in zip(_rendered(sources, "png", DOT_DPI * scale), captions):
                image = frame(png, caption)
                # Only the part that changed since the previous frame is stored (at least a
                # pixel, so that every step keeps its frame), with its own palette.
                box = (
                    (0, 0, *size)
                    if previous is None
                    else ImageChops.difference(previous, image).getbbox() or (0, 0, 1, 1)
                )
                part = image.crop(box).quantize(
                    64, Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
                )
                chunks = GifImagePlugin.getdata(
                    part, offset=box[:2], duration=delay, include_color_table=True
                )
                file.writelines(chunks)
                previous = image
            file.write(b";")  # the GIF's end

    write_atomically(path, write)


def _gif_header(size: tuple[int, int]) -> bytes:
    """A GIF89a header with no global palette (every frame brings its own) that loops forever."""
    screen = struct.pack("<6sHHBBB", b"GIF89a", size[0], size[1], 0, 0, 0)
    return screen + b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"


def _caption(text: str, font: Any, width: float) -> list[str]:
    """The caption's lines, each wrapped to width pixels (a word too long for a line is cut
    anywhere), at most CAPTION_LINES of them, the last ending with "…" when some are left out."""
    lines = [wrapped for line in text.split("\n") for wrapped in _wrap(line, font, width)]
    if len(lines) <= CAPTION_LINES:
        return lines
    last = lines[CAPTION_LINES - 1]
    while last and font.getlength(last + " …") > width:
        last = last[:-1]
    return [*lines[: CAPTION_LINES - 1], last + " …"]


def _wrap(line: str, font: Any, width: float) -> list[str]:
    """line cut into pieces at most width pixels wide, at spaces where it can be; continued
    pieces keep the line's indent."""
    indent = line[: len(line) - len(line.lstrip(" "))]
    lines: list[str] = []
    current = ""
    for word in line.split(" ")[len(indent) :] if indent else line.split(" "):
        candidate = f"{current} {word}" if current else indent + word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = indent + word
        while font.getlength(current) > width and len(current) > len(indent) + 1:
            cut = _fits(current, font, width)
            lines.append(current[:cut])
            current = indent + current[cut:]
    return [*lines, current]


def _fits(text: str, font: Any, width: float) -> int:
    """How many of text's first characters fit in width pixels (at least one): a binary search."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]")


def _font(text: str = "", size: int = CAPTION_SIZE) -> Any:
    """A font with ∂ and ×: DejaVu Sans from the system or from matplotlib, else Pillow's own;
    when text has Chinese (or other CJK) characters, a CJK font first (Noto Sans CJK SC, say),
    since DejaVu has none and Pillow would draw every one of them as the same empty box."""
    from PIL import ImageFont

    candidates = _cjk_fonts() if _CJK.search(text) else []
    candidates.append((Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), 0))
    try:
        import matplotlib

        candidates.append((Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf", 0))
    except ImportError:
        pass
    for path, index in candidates:
        if path.exists():
            return ImageFont.truetype(str(path), size, index=index)
    return ImageFont.load_default()


@functools.cache
def _cjk_fonts() -> list[tuple[Path, int]]:
    """Fonts with Chinese glyphs, as (file, index in a collection): what fontconfig knows
    (a regular sans serif for simplified Chinese first), then the usual places of
    Debian's fonts-noto-cjk and fonts-wqy-microhei, macOS and Windows."""
    found: list[tuple[tuple[bool, ...], Path, int]] = []
    try:
        listing = subprocess.run(
            ["fc-list", ":lang=zh", "-f", "%{file}|%{index}|%{family[0]}|%{style[0]}\n"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        listing = ""
    for entry in listing.splitlines():
        file, index, family, style = [*entry.split("|"), "", "", ""][:4]
        if file.lower().endswith((".ttf", ".ttc", ".otf", ".otc")) and index.isdigit():
            rank = ("Regular" not in style, "Serif" in family, "Mono" in family,
                    "SC" not in family)  # fmt: skip
            found.append((rank, Path(file), int(index)))
    known = [
        (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),  # 2: SC
        (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
        (Path("/System/Library/Fonts/PingFang.ttc"), 0),
        (Path("C:/Windows/Fonts/msyh.ttc"), 0),
    ]
    return [(file, index) for _, file, index in sorted(found)] + known


def _bytes_writer(content: bytes) -> Callable[[str], object]:
    return lambda temporary: Path(temporary).write_bytes(content)


def _frame_sources(film: Frames) -> tuple[tuple[float, float], Iterator[str]]:
    """The picture's size in pixels as dot draws it (at DOT_DPI), and every step's DOT text,
    made as it is needed, with the box sizes of the widest texts: a fixed layout. dot lays
    each frame out again (given the sizes, it puts every box in the same place): measured,
    that is a small part of drawing a frame, so positioning once (neato -n2) gains little."""
    scene = film.scene
    data, grads, params = film.widest()
    # A monospaced font: a text padded to the widest one's length is exactly as wide, so the
    # fields inside each box stay put from frame to frame.
    source = scene.dot(data=data, grads=grads, params=params, font=MONOSPACE)
    layout = json.loads(run_dot(source, "json"))
    sizes = {o["name"]: (float(o["width"]), float(o["height"])) for o in layout.get("objects", [])}
    _, _, right, top = (float(v) for v in layout["bb"].split(","))
    pad = 4  # points: dot's margin around the drawing
    size = ((right + 2 * pad) * DOT_DPI / 72, (top + 2 * pad) * DOT_DPI / 72)

    def sources() -> Iterator[str]:
        for now_data, now_grads, now_params, fills in film.states():
            yield scene.dot(
                data={n: _pad(now_data[n], data[n]) for n in scene.order},
                grads={n: _pad(now_grads[n], grads[n]) for n in scene.order},
                params={g: _pad(text, params[g]) for g, text in now_params.items()},
                fills=fills,
                sizes=sizes,
                font=MONOSPACE,
            )

    return size, sources()


def _rendered(sources: Iterator[str], format: str, dpi: float | None = None) -> Iterator[bytes]:
    """Each DOT text drawn by `dot` (png at dpi dots per inch), in order: a few at once, as
    every dot is a process of its own, but never more than a few frames ahead."""
    workers = min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        ahead: deque[Future[bytes]] = deque()
        for source in sources:
            ahead.append(pool.submit(_render, source, format, dpi))
            if len(ahead) > 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def _render(source: str, format: str, dpi: float | None) -> bytes:
    """DOT text drawn by `dot` (as scene.run_dot does), png at dpi dots per inch."""
    if dpi is None or format != "png":
        return run_dot(source, format)
    with running_dot():
        done = subprocess.run(
            ["dot", f"-T{format}", f"-Gdpi={dpi:.3f}"], input=source.encode(),
            capture_output=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _last_picture(film: Frames) -> str:
    """The last step as SVG (every gradient known): the player's picture for viewers that run
    no script."""
    *_, (data, grads, params, fills) = film.states()  # (it updates the same dicts)
    return _svg(film.scene, data, grads, params, fills)


def _svg(
    scene: Scene,
    data: dict[Value, str],
    grads: dict[Value, str],
    params: dict[Scope, str],
    fills: dict[str, str] | None = None,
) -> str:
    """The scene as SVG: laid out by dot, or past layout.LARGE boxes by layout.svg (dot would
    take minutes)."""
    if scene.drawn > layout.LARGE:
        return layout.svg(scene, data, grads, params, fills)
    svg = run_dot(scene.dot(data=data, grads=grads, params=params, fills=fills), "svg")
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]  # without the XML prologue and doctype


def _pad(text: str, widest: str) -> str:
    """text centred in as many characters as widest, with figure spaces (as wide as a digit),
    so that the fields of a box keep their widths from frame to frame."""
    missing = max(len(widest) - len(text), 0)
    return FIGURE_SPACE * (missing // 2) + text + FIGURE_SPACE * (missing - missing // 2)
