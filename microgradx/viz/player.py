"""The step-by-step player: one self-contained HTML file (or a notebook cell), and frames.

The graph is laid out once by `dot`, with every box as wide as the widest text it will show,
so nothing moves between steps: each step only changes texts and colours. The steps are data
(JSON) read by a small script; all text reaches the page through `textContent`, never as
markup, and the page makes no network request.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from microgradx.engine import Value
from microgradx.files import write_atomically, write_text
from microgradx.viz.scene import CURRENT, FIGURE_SPACE, RECEIVING, Scene, number, run_dot
from microgradx.viz.steps import Step, steps_of

DONE = "#e3f1e3"  # a box whose gradient is known
MONOSPACE = "DejaVu Sans Mono"
WAITING = "grad ?"


@dataclass
class Frames:
    """Per step: the text of every box and the colour of every box, on a fixed layout."""

    scene: Scene
    steps: list[Step]
    data: list[dict[Value, str]]
    grads: list[dict[Value, str]]
    fills: list[dict[str, str]]

    def widest(self) -> tuple[dict[Value, str], dict[Value, str]]:
        """For each node, the longest data and grad text of all steps (the layout uses these)."""
        data = {n: max((d[n] for d in self.data), key=len) for n in self.scene.order}
        grads = {n: max((g[n] for g in self.grads), key=len) for n in self.scene.order}
        return data, grads


def frames(root: Value, include_forward: bool = False, max_nodes: int = 500) -> Frames:
    """Replay the steps, writing down what every box shows after each one."""
    scene = Scene(root, max_nodes=max_nodes)
    steps = steps_of(scene, include_forward)
    data = {n: "data ?" if include_forward else f"data {number(n.data)}" for n in scene.order}
    grads = {n: WAITING for n in scene.order}
    result = Frames(scene, steps, [], [], [])
    for step in steps:
        fills = {scene.ids[n]: DONE for n, text in grads.items() if text != WAITING}
        if step.kind == "forward":
            data[step.node] = f"data {number(step.node.data)}"
        elif step.kind == "seed":
            grads[step.node] = f"grad {number(1.0)}"
        for c in step.contributions:
            grads[c.parent] = f"grad {number(c.grad_after)}"
            fills[scene.ids[c.parent]] = RECEIVING
        fills[scene.ids[step.node]] = CURRENT
        result.data.append(dict(data))
        result.grads.append(dict(grads))
        result.fills.append(fills)
    return result


def save_html(
    root: Value,
    path: str | os.PathLike[str],
    include_forward: bool = False,
    title: str | None = None,
    max_nodes: int = 500,
) -> None:
    """Write the step-by-step player as one HTML file that works offline."""
    document = player_html(root, include_forward, title, max_nodes)
    write_text(path, document)


class Player:
    """The player inline in a notebook: display it, or `.save(path)`."""

    def __init__(
        self, root: Value, include_forward: bool = False, height: int = 560, max_nodes: int = 500
    ) -> None:
        self.document = player_html(root, include_forward, max_nodes=max_nodes)
        self.height = height

    def _repr_html_(self) -> str:
        # An iframe keeps the player's script and ids apart from the notebook's own.
        return (
            f'<iframe srcdoc="{html.escape(self.document, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #ddd;"></iframe>'
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        write_text(path, self.document)


def player(root: Value, include_forward: bool = False, max_nodes: int = 500) -> Player:
    """The step-by-step player for a notebook cell."""
    return Player(root, include_forward, max_nodes=max_nodes)


def player_html(
    root: Value, include_forward: bool = False, title: str | None = None, max_nodes: int = 500
) -> str:
    """The player's HTML document."""
    film = frames(root, include_forward, max_nodes)
    scene = film.scene
    data, grads = film.widest()
    svg = run_dot(scene.dot(data=data, grads=grads), "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML prologue and doctype
    # What each step changes, after the start: the page applies one step's changes at a time.
    start_data = {n: "data ?" if include_forward else data[n] for n in scene.order}
    start_grads = {n: WAITING for n in scene.order}
    steps = []
    for i, step in enumerate(film.steps):
        before_data = film.data[i - 1] if i else start_data
        before_grads = film.grads[i - 1] if i else start_grads
        steps.append(
            {
                "kind": step.kind,
                "node": scene.ids[step.node],
                "edges": scene.edges_into(step.node) if step.kind != "seed" else [],
                "caption": step.caption,
                "data": {scene.ids[n]: t for n, t in film.data[i].items() if before_data[n] != t},
                "grads": {
                    scene.ids[n]: t for n, t in film.grads[i].items() if before_grads[n] != t
                },
                "receiving": list(dict.fromkeys(scene.ids[c.parent] for c in step.contributions)),
                "accumulated": [scene.ids[c.parent] for c in step.contributions if c.accumulated],
            }
        )
    start = {
        "data": {scene.ids[n]: t for n, t in start_data.items()},
        "grads": {scene.ids[n]: t for n, t in start_grads.items()},
        "slots": {},  # every box here has its data in <text> 1 and its grad in <text> 2
    }
    payload = json.dumps({"start": start, "steps": steps}, ensure_ascii=False)
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    heading = html.escape(title or f"Backpropagation through {scene.names[scene.root]}")
    template = (resources.files("microgradx.viz") / "player.html").read_text(encoding="utf-8")
    parts = {"title": heading, "svg": svg, "steps": payload}  # one pass: no text is read twice
    return re.sub(r"\{(title|svg|steps)\}", lambda match: parts[match.group(1)], template)


def save_frames(
    root: Value,
    folder: str | os.PathLike[str],
    format: str = "svg",
    include_forward: bool = False,
    max_nodes: int = 500,
) -> list[Path]:
    """One picture per step (svg, png or pdf), step_000.svg, step_001.svg, ..., every one
    with the same layout. Frames of an earlier, longer run in the folder are removed."""
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"format must be svg, png or pdf; got {format!r}")
    pictures = _pictures(frames(root, include_forward, max_nodes), format)  # before any writing
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


def save_gif(
    root: Value,
    path: str | os.PathLike[str],
    fps: float = 2,
    include_forward: bool = False,
    max_nodes: int = 500,
) -> None:
    """An animated GIF of the steps (needs Pillow, which comes with `microgradx[plot]`)."""
    if not fps > 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "save_gif needs Pillow: pip install 'microgradx[plot]' (or pip install pillow)"
        ) from None
    from PIL import ImageDraw

    film = frames(root, include_forward, max_nodes)
    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in _pictures(film, "png")]
    font, line = _font(), 20
    lines = max(step.caption.count("\n") + 1 for step in film.steps)
    longest = max(len(text) for step in film.steps for text in step.caption.split("\n"))
    width = max(max(i.width for i in images), 8 * longest + 20)
    height = max(i.height for i in images) + line * lines + 16
    padded = []
    for image, step in zip(images, film.steps):
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(image, (0, 0))
        where = (10, height - line * lines - 8)
        ImageDraw.Draw(canvas).multiline_text(
            where, step.caption, fill="black", font=font, spacing=6
        )
        padded.append(canvas)

    def write(temporary: str) -> None:
        padded[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=padded[1:],
            duration=int(1000 / fps),
            loop=0,
        )

    write_atomically(path, write)


def _font() -> Any:
    """A font with ∂ and ×: DejaVu Sans from the system or from matplotlib, else Pillow's own."""
    from PIL import ImageFont

    candidates = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    try:
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf")
    except ImportError:
        pass
    for path in candidates:
        if path.exists():
            return ImageFont.truetype(str(path), 14)
    return ImageFont.load_default()


def _bytes_writer(content: bytes) -> Callable[[str], object]:
    return lambda temporary: Path(temporary).write_bytes(content)


def _pictures(film: Frames, format: str) -> list[bytes]:
    """Every step rendered by `dot` with the box sizes of the widest texts: a fixed layout."""
    scene = film.scene
    data, grads = film.widest()
    # A monospaced font: a text padded to the widest one's length is exactly as wide, so the
    # fields inside each box stay put from frame to frame.
    layout = json.loads(run_dot(scene.dot(data=data, grads=grads, font=MONOSPACE), "json"))
    sizes = {o["name"]: (float(o["width"]), float(o["height"])) for o in layout.get("objects", [])}
    pictures = []
    for i in range(len(film.steps)):
        texts = (
            {n: _pad(film.data[i][n], data[n]) for n in scene.order},
            {n: _pad(film.grads[i][n], grads[n]) for n in scene.order},
        )
        source = scene.dot(
            data=texts[0], grads=texts[1], fills=film.fills[i], sizes=sizes, font=MONOSPACE
        )
        pictures.append(run_dot(source, format))
    return pictures


def _pad(text: str, widest: str) -> str:
    """text centred in as many characters as widest, with figure spaces (as wide as a digit),
    so that the fields of a box keep their widths from frame to frame."""
    missing = max(len(widest) - len(text), 0)
    return FIGURE_SPACE * (missing // 2) + text + FIGURE_SPACE * (missing - missing // 2)
