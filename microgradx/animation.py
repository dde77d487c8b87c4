"""Watch a network learn: snapshots taken during `fit`, played back as an animation.

`Snapshots` is a `fit` callback. Before training and every `every` epochs it runs the model
once over a grid of the input plane (a batch, in eval mode, with no graph) and keeps its
output there, the loss and accuracy so far and, if asked, what every hidden neuron outputs
over the plane. `animate` turns them into a matplotlib animation (the decision boundary over
the plane with the training points, the loss and accuracy curves growing beside it, and
optionally a small heat map per hidden neuron); `save_animation` writes it as a
self-contained HTML page (works offline), a GIF or PNG frames, atomically.

Needs the `plot` extra (`pip install 'microgradx[plot]'`) to draw; taking snapshots does not.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from microgradx import checks
from microgradx.files import write_atomically, write_text
from microgradx.language import current, say
from microgradx.nn import MLP
from microgradx.recording import no_grad
from microgradx.train import (
    Callback,
    History,
    TrainingState,
    decision_threshold,
    evaluating,
    on_plane,
    plane_around,
)

if TYPE_CHECKING:
    from matplotlib.animation import FuncAnimation
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "Snapshot", "Snapshots", "animate", "save_animation"]

FORMATS = ("html", "gif", "frames")
CLASS_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
Array = NDArray[np.float64]


@dataclass
class Snapshot:
    """The model at one moment: after `epoch` epochs (0: before training) and `step` steps,
    its output over the grid (grid × grid; classes × grid × grid for several outputs), the
    epoch's loss and accuracy (None before training, or when not measured), and each hidden
    neuron's output over the grid (by layer, then neuron) when Snapshots(neurons=True)."""

    epoch: int
    step: int
    output: Array
    loss: float | None
    accuracy: float | None
    neurons: list[list[Array]] = field(default_factory=list)


class Snapshots(Callback):
    """A `fit` callback that keeps a Snapshot before training, after every `every`-th epoch
    and after the last one (however training ended): 1 + ⌈epochs / every⌉ in all.

    X, y: the points to draw (2 inputs each), which also set the plane's extent; grid: points
    per side of the plane; neurons: also keep every hidden neuron's output (an MLP's)."""

    def __init__(
        self, X: Any, y: Any, every: int = 1, grid: int = 60, neurons: bool = False
    ) -> None:
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),) or len(X) == 0:
            raise ValueError(
                "Snapshots draws the input plane: X must have shape (n, 2) and y one label per "
                f"example; got shapes {X.shape} and {y.shape}"
            )
        self.X, self.y = X, y
        self.every = checks.whole_number("every", every)
        self.grid = checks.whole_number("grid", grid, least=2)
        self.neurons = checks.flag("neurons", neurons)
        low, high = plane_around(X)
        self.xs, self.ys = np.linspace(low[0], high[0], grid), np.linspace(low[1], high[1], grid)
        self.snapshots: list[Snapshot] = []
        self.history = History()
        self.threshold = 0.0
        self.activation = "linear"

    def on_train_start(self, state: TrainingState) -> None:
        nin = getattr(state.model, "nin", 2)
        if nin != 2:
            raise ValueError(
                f"Snapshots draws the input plane, so the model must take 2 inputs; "
                f"{state.model!r} takes {nin}"
            )
        self.snapshots, self.history = [], state.history
        self.threshold = decision_threshold(state.model)
        self.activation = state.model.output_activation
        self.take(state)

    def on_epoch_end(self, state: TrainingState) -> None:
        if state.epoch % self.every == 0:
            self.take(state)

    def on_train_end(self, state: TrainingState) -> None:
        if self.snapshots and self.snapshots[-1].epoch != state.history.epochs:
            self.take(state)

    def take(self, state: TrainingState) -> None:
        """Keep a Snapshot of the model as it is now (one batched forward pass, no graph)."""
        model, history = state.model, state.history
        shape = (self.grid, self.grid)
        hidden: list[list[Array]] = []
        if self.neurons and isinstance(model, MLP):  # each layer's outputs on the way
            xs, ys = np.meshgrid(self.xs, self.ys)
            with evaluating(model), no_grad():
                outputs: Any = np.column_stack([xs.ravel(), ys.ravel()])
                for i, layer in enumerate(model.layers):
                    outputs = layer.forward(outputs)
                    if i < len(model.layers) - 1:
                        hidden.append([np.reshape(o.data, shape) for o in outputs])
            output: Any = outputs[0] if len(outputs) == 1 else outputs
        else:
            output = on_plane(model, self.xs, self.ys)
        if isinstance(output, list):
            scores = np.array([np.reshape(o.data, shape) for o in output], dtype=float)
        else:
            scores = np.reshape(np.asarray(output.data, dtype=float), shape)
        epoch = history.epochs
        self.snapshots.append(
            Snapshot(
                epoch,
                state.step,
                scores,
                history.loss[-1] if epoch else None,
                history.accuracy[-1] if epoch else None,
                hidden,
            )
        )

    def __len__(self) -> int:
        return len(self.snapshots)

    def __getitem__(self, i: int) -> Snapshot:
        return self.snapshots[i]

    def __repr__(self) -> str:
        epochs = [s.epoch for s in self.snapshots]
        shown = f"epochs {epochs[0]}…{epochs[-1]}" if epochs else "none yet"
        return f"Snapshots({len(self)} snapshots, every {self.every} epochs, {shown})"


def animate(snapshots: Snapshots, fps: float = 5, dpi: int = 80) -> FuncAnimation:
    """The animation of the snapshots: one frame per snapshot. In a notebook, show it with
    `IPython.display.HTML(animation.to_jshtml())`; or write it with `save_animation`."""
    drawing = _Drawing(_checked(snapshots), dpi)
    from matplotlib.animation import FuncAnimation

    return FuncAnimation(
        drawing.figure, drawing.draw, frames=len(snapshots), interval=1000 / fps, blit=False
    )


def save_animation(
    snapshots: Snapshots,
    path: str | Path,
    format: str | None = None,
    fps: float = 5,
    dpi: int = 80,
) -> list[Path]:
    """Write the animation and return the files written. format: "html" (one page, frames
    embedded, works offline), "gif", or "frames" (path is a folder; frame_000.png, ...); None
    picks it from the suffix (.html, .gif, none for frames). Checked before anything is
    written; each file is written atomically."""
    path = Path(path)
    chosen = format or _format_of(path)
    checks.choice("format", chosen, FORMATS)
    checks.non_negative("fps", fps)
    checks.whole_number("dpi", dpi)
    if fps == 0:
        raise ValueError("fps must be above 0")
    _checked(snapshots)
    folder = path if chosen == "frames" else path.parent
    if not (folder if chosen != "frames" else folder.parent).is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist")
    plt = _pyplot()
    if chosen == "html":
        with plt.rc_context({"animation.embed_limit": 1024.0}):
            page = _offline(animate(snapshots, fps, dpi).to_jshtml(default_mode="loop"))
        plt.close("all")
        write_text(path, page)
        return [path]
    drawing = _Drawing(snapshots, dpi)
    pictures = [drawing.png(i) for i in range(len(snapshots))]
    plt.close(drawing.figure)
    if chosen == "gif":
        write_atomically(path, lambda temporary: _gif(pictures, temporary, fps))
        return [path]
    folder.mkdir(exist_ok=True)
    written = [folder / f"frame_{i:03d}.png" for i in range(len(pictures))]
    for file, picture in zip(written, pictures):
        write_atomically(file, _writer(picture))
    return written


# --- helpers ------------------------------------------------------------------------------


class _Drawing:
    """One figure, redrawn for each snapshot: the plane on the left, the curves on the right,
    a row of small heat maps per hidden layer below (when the snapshots hold neurons)."""

    def __init__(self, snapshots: Snapshots, dpi: int) -> None:
        plt = _pyplot()
        self.snapshots, history = snapshots, snapshots.history
        layers = snapshots[0].neurons
        widest = max([6, *(len(layer) for layer in layers)])
        rows_height = 1.35 * len(layers) + (0.5 if layers else 0)  # the heat maps, in inches
        height = 4.3 + rows_height
        self.figure: Figure = plt.figure(figsize=(10, height), dpi=dpi)
        main_bottom = (rows_height + 0.45) / height
        grid = self.figure.add_gridspec(
            2, 2, width_ratios=[1, 1.25], left=0.06, right=0.97, top=1 - 0.4 / height,
            bottom=main_bottom, wspace=0.25, hspace=0.45,
        )  # fmt: skip
        self.plane = self.figure.add_subplot(grid[:, 0])
        measured = any(a is not None for a in history.accuracy)
        self.loss_axes = self.figure.add_subplot(grid[0 if measured else slice(None), 1])
        self.accuracy_axes = self.figure.add_subplot(grid[1, 1]) if measured else None
        self.neuron_axes: list[list[Any]] = []
        self.neuron_images: list[list[Any]] = []
        self.neuron_notes: list[list[Any]] = []
        if layers:
            rows = self.figure.add_gridspec(
                len(layers), widest, left=0.06, right=0.97, top=(rows_height - 0.45) / height,
                bottom=0.1 / height, wspace=0.1, hspace=0.3,
            )  # fmt: skip
            for r, layer in enumerate(layers):
                axes = [self.figure.add_subplot(rows[r, c]) for c in range(len(layer))]
                self.neuron_axes.append(axes)
                self.neuron_images.append([])
                self.neuron_notes.append([])
                for c, ax in enumerate(axes):
                    ax.set_xticks([])
                    ax.set_yticks([])
                    title = say(f"layer {r + 1}, neuron {c + 1}", f"第 {r + 1} 层，神经元 {c + 1}")
                    ax.set_title(title, fontsize=7, pad=2)
                    self.neuron_images[r].append(
                        ax.imshow(np.zeros((snapshots.grid, snapshots.grid)), origin="lower",
                                  cmap="viridis", aspect="equal")
                    )  # fmt: skip
                    self.neuron_notes[r].append(
                        ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                                va="center", fontsize=7, color="white")
                    )  # fmt: skip
            caption = say(
                "what each hidden neuron outputs over the same plane "
                "(yellow: its highest output, dark: its lowest)",
                "每个隐藏神经元在同一平面上的输出（黄色：它的最高输出，深色：它的最低输出）",
            )
            self.figure.text(0.06, (rows_height - 0.1) / height, caption, fontsize=8.5)
        self._static(history)
        self.boundary: Any = None

    def _static(self, history: History) -> None:
        s = self.snapshots
        extent = (s.xs[0], s.xs[-1], s.ys[0], s.ys[-1])
        self.extent = extent
        labels = np.where(s.y < 0, 0, s.y).astype(int)
        several = s[0].output.ndim == 3
        from matplotlib.colors import ListedColormap

        if several:
            colours = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(len(s[0].output))]
            self.shade = self.plane.imshow(
                np.zeros((s.grid, s.grid)), extent=extent, origin="lower", aspect="auto",
                cmap=ListedColormap(colours), vmin=-0.5, vmax=len(colours) - 0.5, alpha=0.3,
            )  # fmt: skip
        else:
            from matplotlib.colors import LinearSegmentedColormap

            two = LinearSegmentedColormap.from_list(
                "classes", [CLASS_COLOURS[0], "#ffffff", CLASS_COLOURS[1]]
            )
            self.shade = self.plane.imshow(
                np.full((s.grid, s.grid), 0.5), extent=extent, origin="lower", aspect="auto",
                cmap=two, vmin=0, vmax=1, alpha=0.4, interpolation="bilinear",
            )  # fmt: skip
        for k in np.unique(labels):
            chosen = labels == k
            self.plane.scatter(
                s.X[chosen, 0], s.X[chosen, 1], s=10, color=CLASS_COLOURS[k % 6],
                edgecolor="white", linewidth=0.3, label=say(f"class {k}", f"类别 {k}"),
            )  # fmt: skip
        self.plane.set_xlim(extent[0], extent[1])
        self.plane.set_ylim(extent[2], extent[3])
        self.plane.set_aspect("equal")
        self.plane.legend(loc="upper right", fontsize=7, framealpha=0.8)
        last = max(history.epochs, 1)
        self.curves: list[tuple[Any, list[Any]]] = []
        panels: list[tuple[Any, str, list[Any], list[Any]]] = [
            (self.loss_axes, "loss", history.loss, history.val_loss)
        ]
        if self.accuracy_axes is not None:
            panels.append((self.accuracy_axes, "accuracy", history.accuracy, history.val_accuracy))
        for ax, name, values, validation in panels:
            word = say("loss", "损失") if name == "loss" else say("accuracy", "准确率")
            for label, numbers, style in (
                (say(f"training {word}", f"训练{word}"), values, "-"),
                (say(f"validation {word}", f"验证{word}"), validation, "--"),
            ):
                if numbers:
                    (line,) = ax.plot([], [], style, label=label)
                    self.curves.append((line, list(numbers)))
            (dot,) = ax.plot([], [], "o", color="black", markersize=4)
            self.curves.append((dot, list(values)))
            ax.set_xlim(0, last + 0.5)
            ax.set_ylabel(word)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="upper right" if name == "loss" else "lower right")
            finite = [v for v in [*values, *validation] if v is not None and math.isfinite(v)]
            if name == "accuracy":
                ax.set_ylim(0, 1.03)
            elif finite and min(finite) > 0:
                ax.set_yscale("log")
                ax.set_ylim(min(finite) / 1.5, max(finite) * 1.5)
            elif finite:
                ax.set_ylim(min(finite) - 0.05, max(finite) + 0.05)
        (self.accuracy_axes or self.loss_axes).set_xlabel(say("epoch", "轮次"))

    def draw(self, i: int) -> list[Any]:
        """Show snapshot i."""
        s, snapshot = self.snapshots, self.snapshots[i]
        if snapshot.output.ndim == 3:
            self.shade.set_data(np.argmax(snapshot.output, axis=0))
        else:
            self.shade.set_data(_squashed(snapshot.output, s.threshold, s.activation))
        if self.boundary is not None:
            self.boundary.remove()
            self.boundary = None
        score = snapshot.output
        if score.ndim == 2 and np.nanmin(score) < s.threshold < np.nanmax(score):
            self.boundary = self.plane.contour(
                s.xs, s.ys, score, levels=[s.threshold], colors="black", linewidths=1.2
            )
        loss, accuracy = snapshot.loss, snapshot.accuracy
        if loss is None:
            numbers = say("random weights", "随机权重")
        else:
            numbers = say(f"loss {loss:.4f}", f"损失 {loss:.4f}")
        if accuracy is not None:
            numbers += say(f", accuracy {accuracy:.1%}", f"，准确率 {accuracy:.1%}")
        epoch, step = snapshot.epoch, snapshot.step
        self.plane.set_title(
            say(
                f"epoch {epoch} (step {step}): {numbers}",
                f"第 {epoch} 轮（第 {step} 步）：{numbers}",
            ),
            fontsize=9,
        )
        for line, values in self.curves:
            done = np.arange(1, snapshot.epoch + 1)
            shown = [np.nan if v is None else v for v in values[: snapshot.epoch]]
            if line.get_marker() == "o":
                line.set_data(done[-1:], shown[-1:])
            else:
                line.set_data(done, shown)
        for images, notes, maps in zip(self.neuron_images, self.neuron_notes, snapshot.neurons):
            for image, note, heat in zip(images, notes, maps):
                low, high = float(np.min(heat)), float(np.max(heat))
                image.set_data(heat)
                image.set_clim(low, high if high > low else low + 1)
                note.set_text(
                    "" if high > low else say(f"{low:.3g} everywhere", f"处处为 {low:.3g}")
                )
        return []

    def png(self, i: int) -> bytes:
        self.draw(i)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.figure.dpi)
        return buffer.getvalue()


def _writer(picture: bytes) -> Callable[[str], object]:
    return lambda temporary: Path(temporary).write_bytes(picture)


def _squashed(score: Array, threshold: float, activation: str) -> Array:
    """A single output shown from 0 (class 0) to 1 (class 1), 0.5 at the decision threshold:
    a sigmoid's output as it is, any other through 0.5 + 0.5·tanh(score - threshold)."""
    if activation == "sigmoid":
        return score
    shaded: Array = 0.5 + 0.5 * np.tanh(score - threshold)
    return shaded


def _gif(pictures: list[bytes], path: str, fps: float) -> None:
    from PIL import Image

    frames = [Image.open(io.BytesIO(picture)).convert("RGB") for picture in pictures]
    frames[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=round(1000 / fps),
        loop=0,
    )


_FONT_AWESOME = re.compile(r"<link[^>]*font-awesome[^>]*>", re.IGNORECASE)
_ICONS = {
    "minus": "−",
    "fast-backward": "⇤",
    "step-backward": "◁",
    "play": "▶",
    "pause": "||",
    "step-forward": "▷",
    "fast-forward": "⇥",
    "plus": "+",
}


def _offline(fragment: str) -> str:
    """matplotlib's to_jshtml fragment as a whole page that fetches nothing: the buttons'
    icon font (a link to a CDN) is replaced with plain characters."""
    icons = "".join(f'.fa-{name}::before{{content:"{text}"}}' for name, text in _ICONS.items())
    style = (
        "body{font-family:sans-serif;margin:1em}i.fa{font-style:normal}"
        ".fa-flip-horizontal{display:inline-block;transform:scaleX(-1)}" + icons
    )
    title = say("training, step by step", "一步步看训练")
    return (
        f'<!DOCTYPE html>\n<html lang="{current()}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        f"{_FONT_AWESOME.sub('', fragment)}\n</body>\n</html>\n"
    )


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".gif":
        return "gif"
    if suffix == "":
        return "frames"
    raise ValueError(
        f"cannot tell the format of {path.name}: use a .html or .gif file, a folder (no "
        f"suffix) for PNG frames, or pass format= one of {', '.join(FORMATS)}"
    )


def _checked(snapshots: Snapshots) -> Snapshots:
    if not isinstance(snapshots, Snapshots):
        raise TypeError(f"expected a Snapshots callback, got {type(snapshots).__name__}")
    if not snapshots.snapshots:
        raise ValueError(
            "no snapshots to animate: pass the Snapshots to fit(..., callbacks=[snapshots]) first"
        )
    return snapshots


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "microgradx's pictures need matplotlib, which is not installed: "
            "pip install 'microgradx[plot]'"
        ) from None
    return plt
