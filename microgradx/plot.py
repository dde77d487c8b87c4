"""Matplotlib figures: a model's decision boundary, training curves, activation functions.

Needs the `plot` extra (`pip install 'microgradx[plot]'`). Works without a display: with no
screen, matplotlib draws off-screen (Agg) and figures can be saved with `savefig`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from microgradx.engine import Value
from microgradx.functional import apply
from microgradx.nn import ACTIVATION_ROWS, Module
from microgradx.recording import no_grad
from microgradx.train import History, decision_threshold, evaluating

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs, ys = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    grid = np.column_stack([xs.ravel(), ys.ravel()])
    with evaluating(model), no_grad():
        output = model(grid)
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
            label=f"class {k}",
        )
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_title("decision boundary")
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
    panels: list[tuple[str, list[Any], list[Any]]] = [("loss", history.loss, history.val_loss)]
    if has_accuracy:
        panels.append(("accuracy", history.accuracy, history.val_accuracy))
    for ax, (name, train_values, val_values) in zip(axes[0], panels):
        ax.plot(epochs, train_values, label=f"training {name}")
        if val_values:
            ax.plot(epochs, val_values, label=f"validation {name}")
        if history.best_epoch is not None:
            ax.axvline(
                history.best_epoch,
                color="gray",
                linestyle=":",
                label=f"best epoch ({history.best_epoch})",
            )
        ax.set_xlabel("epoch")
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
        ax.plot(xs, x.grad, "--", label=f"derivative: {row.maths[1]}")
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


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "microgradx.plot needs matplotlib, which is not installed: "
            "pip install 'microgradx[plot]'"
        ) from None
    return plt
