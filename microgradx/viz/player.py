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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from microgradx.engine import Value
from microgradx.files import write_atomically, write_text
from microgradx.recording import Scope
from microgradx.viz.scene import CURRENT, FIGURE_SPACE, RECEIVING, Scene, number, run_dot
from microgradx.viz.steps import Step, steps_of

DONE = "#e3f1e3"  # a box whose gradient is known
MONOSPACE = "DejaVu Sans Mono"
WAITING = "grad ?"


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
        data, grads = dict(self.start), dict.fromkeys(scene.order, WAITING)
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
        data = {n: f"data {number(n.data)}" for n in scene.order}
        grads = dict.fromkeys(scene.order, WAITING)
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
    start = {n: "data ?" if include_forward else f"data {number(n.data)}" for n in scene.order}
    result = Frames(scene, steps, start, [], [])
    so_far: dict[Value, Any] = {}  # each parameter's gradient so far
    for step in steps:
        data, grads = {}, {}
        if step.kind == "forward":
            computed = [step.node]
            if step.node in scene.group:  # a group's step computes all of its nodes
                computed = scene.members[scene.group[step.node]]
            data = {n: f"data {number(n.data)}" for n in computed}
        elif step.kind == "seed":
            grads[step.node] = f"grad {number(1.0)}"
        changed: set[Scope] = set()
        for c in step.contributions:
            grads[c.parent] = f"grad {number(c.grad_after)}"
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
        height: int = 560,
        max_nodes: int = 500,
        collapse: str | None = None,
        expand_loss: bool = False,
    ) -> None:
        film = frames(root, include_forward, max_nodes, collapse, expand_loss)
        self.document = player_html(film=film)
        self.picture = _last_picture(film)
        self.height = height

    def _repr_html_(self) -> str:
        # An iframe keeps the player's script and ids apart from the notebook's own.
        return (
            f'<iframe srcdoc="{html.escape(self.document, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #ddd;"></iframe>'
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        """The player (HTML) and, for viewers that run no script, the last step's picture."""
        return {"text/html": self._repr_html_(), "image/svg+xml": self.picture}

    def save(self, path: str | os.PathLike[str]) -> None:
        write_text(path, self.document)


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
    data, grads, params = film.widest()
    svg = run_dot(scene.dot(data=data, grads=grads, params=params), "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML prologue and doctype
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
                "data": _texts(scene, data_changes, "data", "out"),
                "grads": _texts(scene, grad_changes, "grad", "out.grad"),
                "params": {scene.group_ids[g]: text for g, text in param_changes.items()},
                "receiving": receiving(scene, step),
                "accumulated": [scene.box(c.parent) for c in step.contributions if c.accumulated],
            }
        )
    start_data = {n: "data ?" if film.start[n] == "data ?" else data[n] for n in scene.order}
    start = {
        "data": _texts(scene, start_data, "data", "out"),
        "grads": _texts(scene, dict.fromkeys(scene.order, WAITING), "grad", "out.grad"),
        "params": {scene.group_ids[g]: scene.parameter_grads(g, {}) for g in params},
        "slots": {box: [2, 3, 4] for box in scene.group_ids.values()},
    }
    payload = json.dumps({"start": start, "steps": steps}, ensure_ascii=False)
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    heading = html.escape(title or f"Backpropagation through {scene.names[scene.root]}")
    template = (resources.files("microgradx.viz") / "player.html").read_text(encoding="utf-8")
    parts = {"title": heading, "svg": svg, "steps": payload}  # one pass: no text is read twice
    return re.sub(r"\{(title|svg|steps)\}", lambda match: parts[match.group(1)], template)


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
    collapse and expand_loss as in save_html."""
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"format must be svg, png or pdf; got {format!r}")
    film = frames(root, include_forward, max_nodes, collapse, expand_loss)
    pictures = _pictures(film, format)  # before any writing
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
    collapse: str | None = None,
    expand_loss: bool = False,
) -> None:
    """An animated GIF of the steps (needs Pillow, which comes with `microgradx[plot]`).
    collapse and expand_loss as in save_html."""
    if not fps > 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "save_gif needs Pillow: pip install 'microgradx[plot]' (or pip install pillow)"
        ) from None
    from PIL import ImageDraw

    film = frames(root, include_forward, max_nodes, collapse, expand_loss)
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
    data, grads, params = film.widest()
    # A monospaced font: a text padded to the widest one's length is exactly as wide, so the
    # fields inside each box stay put from frame to frame.
    source = scene.dot(data=data, grads=grads, params=params, font=MONOSPACE)
    layout = json.loads(run_dot(source, "json"))
    sizes = {o["name"]: (float(o["width"]), float(o["height"])) for o in layout.get("objects", [])}
    pictures = []
    for now_data, now_grads, now_params, fills in film.states():
        source = scene.dot(
            data={n: _pad(now_data[n], data[n]) for n in scene.order},
            grads={n: _pad(now_grads[n], grads[n]) for n in scene.order},
            params={g: _pad(text, params[g]) for g, text in now_params.items()},
            fills=fills,
            sizes=sizes,
            font=MONOSPACE,
        )
        pictures.append(run_dot(source, format))
    return pictures


def _last_picture(film: Frames) -> str:
    """The last step as SVG (every gradient known): the player's picture for viewers that run
    no script."""
    *_, (data, grads, params, fills) = film.states()  # (it updates the same dicts)
    source = film.scene.dot(data=data, grads=grads, params=params, fills=fills)
    svg = run_dot(source, "svg").decode("utf-8")
    return svg[svg.index("<svg") :]


def _pad(text: str, widest: str) -> str:
    """text centred in as many characters as widest, with figure spaces (as wide as a digit),
    so that the fields of a box keep their widths from frame to frame."""
    missing = max(len(widest) - len(text), 0)
    return FIGURE_SPACE * (missing // 2) + text + FIGURE_SPACE * (missing - missing // 2)
