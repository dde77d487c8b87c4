"""Matplotlib figures: a model's decision boundary, training curves, activation functions,
training animations (from `microgradx.animation`) and loss surfaces with the paths optimizers
take down them (computed by `microgradx.surface`). Their words (titles, axis labels, legends)
speak the language in use (`microgradx.language`), read when a figure is drawn.

Needs the `plot` extra (`pip install 'microgradx[plot]'`). Works without a display: with no
screen, matplotlib draws off-screen (Agg) and figures can be saved with `savefig`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from microgradx import losses, optim
from microgradx.animation import Snapshot, Snapshots, animate, save_animation
from microgradx.engine import Value
from microgradx.functional import apply
from microgradx.language import say
from microgradx.nn import ACTIVATION_ROWS, Module, Neuron
from microgradx.surface import (
    Run,
    Surface,
    Trajectory,
    axis_name,
    descend,
    filter_normalized_directions,
    loss_surface,
)
from microgradx.train import History, decision_threshold, on_plane, plane_around

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CLASS_COLOURS",
    "PATH_COLOURS",
    "Run",
    "Snapshot",
    "Snapshots",
    "Surface",
    "Trajectory",
    "activations",
    "animate",
    "decision_boundary",
    "descend",
    "draw_surface",
    "filter_normalized_directions",
    "history",
    "loss_surface",
    "save_animation",
    "surface_lessons",
]

CLASS_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def decision_boundary(
    model: Module, X: Any, y: Any, ax: Axes | None = None, resolution: int = 200
) -> Axes:
    """The regions where the model predicts each class, with the examples on top."""
    plt = _pyplot()
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"decision_boundary draws 2-D inputs: X must have shape (n, 2), got {X.shape}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    low, high = plane_around(X)
    x1, x2 = np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    output = on_plane(model, x1, x2)
    xs, ys = np.meshgrid(x1, x2)
    classes = np.unique(np.where(y < 0, 0, y)).astype(int)
    colours = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(max(int(classes.max()) + 1, 2))]
    from matplotlib.colors import ListedColormap

    if isinstance(output, list):  # several classes: colour by the winning class
        winner = np.argmax([o.data for o in output], axis=0).reshape(xs.shape)
        ax.contourf(
            xs,
            ys,
            winner,
            levels=np.arange(len(output) + 1) - 0.5,
            cmap=ListedColormap(colours[: len(output)]),
            alpha=0.25,
        )
    else:  # one output: shade by the score, draw the boundary where it crosses the threshold
        score = np.asarray(output.data).reshape(xs.shape)
        threshold = decision_threshold(model)  # as train.predict
        ax.contourf(
            xs,
            ys,
            score > threshold,
            levels=[-0.5, 0.5, 1.5],
            cmap=ListedColormap(colours[:2]),
            alpha=0.25,
        )
        ax.contour(xs, ys, score, levels=[threshold], colors="black", linewidths=1)
    for k in classes:
        chosen = np.where(y < 0, 0, y) == k
        ax.scatter(
            X[chosen, 0],
            X[chosen, 1],
            s=12,
            color=colours[k],
            edgecolor="white",
            linewidth=0.3,
            label=say(f"class {k}", f"类别 {k}"),
        )
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_title(say("decision boundary", "决策边界"))
    return ax


def history(history: History) -> Figure:
    """Loss and accuracy per epoch, training against validation, the best epoch marked."""
    plt = _pyplot()
    if not history.loss:
        raise ValueError("this History has no epochs to draw; train with fit() first")
    has_accuracy = history.accuracy[-1] is not None
    fig, axes = plt.subplots(
        1, 2 if has_accuracy else 1, figsize=(10 if has_accuracy else 5, 3.6), squeeze=False
    )
    epochs = np.arange(1, history.epochs + 1)
    panels: list[tuple[str, list[Any], list[Any]]] = [
        (say("loss", "损失"), history.loss, history.val_loss)
    ]
    if has_accuracy:
        panels.append((say("accuracy", "准确率"), history.accuracy, history.val_accuracy))
    for ax, (name, train_values, val_values) in zip(axes[0], panels):
        ax.plot(epochs, train_values, label=say(f"training {name}", f"训练{name}"))
        if val_values:
            ax.plot(epochs, val_values, label=say(f"validation {name}", f"验证{name}"))
        best = history.best_epoch
        if best is not None:
            ax.axvline(
                best,
                color="gray",
                linestyle=":",
                label=say(f"best epoch ({best})", f"最佳轮次（{best}）"),
            )
        ax.set_xlabel(say("epoch", "轮次"))
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if history.loss and min(history.loss) > 0:
        axes[0][0].set_yscale("log")
    fig.tight_layout()
    return fig  # type: ignore[no-any-return]


def activations() -> Figure:
    """Every activation of the op table, each with its derivative (computed by the engine) and
    the maths of both."""
    plt = _pyplot()
    xs = np.linspace(-5, 5, 401)
    rows = list(ACTIVATION_ROWS.values())
    fig, axes = plt.subplots(2, (len(rows) + 1) // 2, figsize=(13, 6.4), squeeze=False)
    for ax, row in zip(axes.flat, rows):
        x = Value(xs)
        out = apply(row, x)
        out.sum().backward()  # x.grad[i] = d out[i] / d x[i]: the derivative at every point
        ax.plot(xs, out.data, label=row.maths[0])
        ax.plot(xs, x.grad, "--", label=say(f"derivative: {row.maths[1]}", f"导数：{row.maths[1]}"))
        ax.axhline(0, color="black", linewidth=0.5)
        ax.axvline(0, color="black", linewidth=0.5)
        ax.set_title(row.write("a"))
        ax.set_xlabel("a")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    for ax in list(axes.flat)[len(rows) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig  # type: ignore[no-any-return]


PATH_COLOURS = ["#e41a1c", "#ff7f00", "#f781bf", "#ffffff", "#a65628", "#984ea3"]


def draw_surface(
    surface: Surface,
    view: str = "contour",
    ax: Axes | None = None,
    legend: bool = True,
    scale: str = "auto",
) -> Axes:
    """A loss surface and its paths: contour lines over shading (view="contour"), or a 3-D
    surface with the paths lying on it (view="3d"). Each path starts at a circle and ends at a
    square (an ✕ where it diverged). scale: "log", "linear", or "auto" (log when the loss
    spans more than a factor of 20). A slice's origin, the trained weights, is a white +."""
    plt = _pyplot()
    if view not in ("contour", "3d"):
        raise ValueError(f'view must be "contour" or "3d", got {view!r}')
    if scale not in ("auto", "log", "linear"):
        raise ValueError(f'scale must be "auto", "log" or "linear", got {scale!r}')
    if ax is None:
        figure = plt.figure(figsize=(6, 5) if view == "contour" else (7, 5.5))
        ax = figure.add_subplot(projection="3d" if view == "3d" else None)
    elif (view == "3d") != (ax.name == "3d"):
        raise ValueError(
            f"view={view!r} needs {'3-D axes' if view == '3d' else 'flat axes'}: make them "
            "with fig.add_subplot(projection='3d')"
            if view == "3d"
            else f"view={view!r} draws on flat axes, got 3-D ones"
        )
    from matplotlib.colors import LogNorm

    A, B = np.meshgrid(surface.a, surface.b)
    loss = np.asarray(surface.loss, dtype=float)
    finite = loss[np.isfinite(loss)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (1.0, 2.0)
    logarithmic = scale == "log" or (scale == "auto" and low > 0 and high / low > 20)
    low = max(low, high * 1e-6) if logarithmic else low
    levels = np.geomspace(low, high, 25) if logarithmic else np.linspace(low, high, 25)
    norm = LogNorm(low, high) if logarithmic else None
    if view == "contour":
        ax.contourf(A, B, loss, levels=levels, norm=norm, cmap="viridis", extend="both")
        ax.contour(A, B, loss, levels=levels, norm=norm, colors="white", linewidths=0.3)
    else:
        shown = np.log10(loss) if logarithmic else loss
        axes3d: Any = ax
        axes3d.plot_surface(A, B, shown, cmap="viridis", alpha=0.75, linewidth=0)
        loss_word = say("loss", "损失")
        axes3d.set_zlabel(f"log₁₀ {loss_word}" if logarithmic else loss_word)
    for k, path in enumerate(surface.paths):
        colour = PATH_COLOURS[k % len(PATH_COLOURS)]
        a, b = path.points[:, 0], path.points[:, 1]
        style: dict[str, Any] = {"color": colour, "linewidth": 1.4, "label": path.label}
        if view == "contour":
            ax.plot(a, b, "-", marker=".", markersize=3, **style)
            ax.plot(a[:1], b[:1], "o", color=colour, markeredgecolor="black", markersize=7)
            ax.plot(a[-1:], b[-1:], "X" if path.diverged else "s", color=colour,
                    markeredgecolor="black", markersize=7)  # fmt: skip
        else:
            z = np.log10(path.loss) if logarithmic else path.loss
            axes3d.plot(a, b, z, zorder=10, **style)
            axes3d.scatter(a[:1], b[:1], z[:1], color=colour, edgecolor="black", s=30)
    if not surface.exact and view == "contour":
        ax.plot([0], [0], "+", color="white", markersize=12, markeredgewidth=2)
    ax.set_xlim(surface.a[0], surface.a[-1])
    ax.set_ylim(surface.b[0], surface.b[-1])
    ax.set_xlabel(axis_name(surface.labels[0]))
    ax.set_ylabel(axis_name(surface.labels[1]))
    if legend and surface.paths:
        ax.legend(fontsize=8, loc="best", framealpha=0.85)
    return ax


def surface_lessons(seed: int = 0) -> Figure:
    """The lessons of gradient descent, side by side on exact loss surfaces of two weights:
    a learning rate too small, about right and too large; momentum and Adam against plain
    gradient descent in a narrow valley; SGD's noisy path against the full batch; and two
    starts that end in different minima, a local one and the global one."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 10))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(40, 1))
    line = (x, 2 * x[:, 0] + 1 + rng.normal(0, 0.3, 40))  # y ≈ 2x + 1, noisy
    wide = (8 * x, 4 * x[:, 0] + 1 + rng.normal(0, 0.3, 40))  # x in [-8, 8]: a narrow valley
    gd = say("gradient descent", "梯度下降")
    panels = [
        (say("learning rate: too small, about right, too large", "学习率：太小、合适、太大"),
         line, (-1.5, -1.0), 25, [
            Run(say("lr 0.05: too small, slow", "学习率 0.05：太小，很慢"),
                lambda p: optim.SGD(p, lr=0.05)),
            Run(say("lr 0.4: about right", "学习率 0.4：合适"), lambda p: optim.SGD(p, lr=0.4)),
            Run(say("lr 1.02: too large, it diverges", "学习率 1.02：太大，发散"),
                lambda p: optim.SGD(p, lr=1.02)),
        ]),
        (say("momentum and Adam in a narrow valley", "狭窄山谷中的动量与 Adam"),
         wide, (-1.0, -3.0), 30, [
            Run(say(f"{gd}, lr 0.04: zigzags", f"{gd}，学习率 0.04：来回振荡"),
                lambda p: optim.SGD(p, lr=0.04)),
            Run(say("momentum 0.8, lr 0.01", "动量 0.8，学习率 0.01"),
                lambda p: optim.SGD(p, lr=0.01, momentum=0.8)),
            Run(say("Adam, lr 0.25", "Adam，学习率 0.25"), lambda p: optim.Adam(p, lr=0.25)),
        ]),
        (say("SGD (one example a step) against the full batch", "SGD（每步一个样本）对比全批量"),
         line, (-1.5, -1.0), 8, [
            Run(say("full batch, lr 0.1 (8 steps)", "全批量，学习率 0.1（8 步）"),
                lambda p: optim.SGD(p, lr=0.1)),
            Run(say("SGD, lr 0.1 (320 steps)", "SGD，学习率 0.1（320 步）"),
                lambda p: optim.SGD(p, lr=0.1), batch_size=1),
        ]),
    ]  # fmt: skip
    for ax, (title, (X, y), start, epochs, runs) in zip(axes.flat, panels):
        neuron = Neuron(1, activation="linear")
        neuron.load_state_dict({"w1": start[0], "b": start[1]})
        paths = descend(neuron, X, y, losses.mse, runs, epochs=epochs, seed=seed)
        draw_surface(loss_surface(neuron, X, y, losses.mse, paths, resolution=60), ax=ax)
        ax.set_title(title)
    ax = axes.flat[3]
    X = np.linspace(-3, 3, 60)[:, None]
    y = np.sin(3 * X[:, 0] + 1)
    wave, paths = _Wave(), []
    endings = [say("a local minimum", "局部极小值"), say("the global one", "全局最小值")]
    for (w, b), ending in zip([(0.6, -0.5), (2.2, 0.3)], endings):
        wave.load_state_dict({"w": w, "b": b})
        label = say(f"from ({w}, {b}): {ending}", f"从 ({w}, {b}) 出发：{ending}")
        run = Run(label, lambda p: optim.SGD(p, lr=0.2))
        paths += descend(wave, X, y, losses.mse, [run], epochs=80)
    wavy = loss_surface(wave, X, y, losses.mse, paths, resolution=80, span=0.5)
    draw_surface(wavy, ax=ax, scale="linear")
    ax.set_title(
        say(
            "a local minimum: sin(w·x + b) fitted to sin(3x + 1)",
            "局部极小值：用 sin(w·x + b) 拟合 sin(3x + 1)",
        )
    )
    fig.tight_layout()
    return fig  # type: ignore[no-any-return]


class _Wave(Module):
    """sin(w·x + b): two weights and a loss surface with many valleys."""

    nin = 1

    def __init__(self) -> None:
        self.w, self.b = Value(1.0, label="w"), Value(0.0, label="b")

    def __call__(self, x: Any) -> Value:
        return (self.w * Value(np.asarray(x, dtype=float)[:, 0]) + self.b).sin()


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "microgradx.plot needs matplotlib, which is not installed: "
            "pip install 'microgradx[plot]'"
        ) from None
    return plt
