"""The figures: what they draw, read back from the matplotlib objects, headless."""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterator

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection

from microgradx import data, losses, nn, optim, plot, train

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def trained() -> tuple[nn.MLP, np.ndarray, np.ndarray, train.History]:
    X, y = data.make_circles(300, noise=0.05, factor=0.5, seed=0)
    model = nn.MLP(2, [8, 8, 1], output_activation="sigmoid", seed=0)
    history = train.fit(
        model,
        X,
        y,
        losses.binary_cross_entropy,
        optim.Adam(model, lr=0.02),
        epochs=150,
        validation=(X, y),
        progress=False,
    )
    return model, X, y, history


def test_decision_boundary_shades_the_classes_and_plots_every_example() -> None:
    model, X, y, _ = trained()
    ax = plot.decision_boundary(model, X, y)
    scatters = [c for c in ax.collections if type(c) is PathCollection]  # one per class
    assert sum(len(c.get_offsets()) for c in scatters) == len(X)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    assert model.training is False


def test_decision_boundary_for_several_classes_and_bad_input() -> None:
    X, y = data.make_spiral(150, n_classes=3, seed=0)
    model = nn.MLP(2, [8, 3], seed=0)
    ax = plot.decision_boundary(model, X, y)
    assert len(ax.get_legend().get_texts()) == 3
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot.decision_boundary(model, np.ones((5, 3)), np.ones(5))


def test_history_draws_training_and_validation_with_the_best_epoch() -> None:
    *_, history = trained()
    figure = plot.history(history)
    loss_ax, accuracy_ax = figure.axes
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels == ["training loss", "validation loss", f"best epoch ({history.best_epoch})"]
    assert list(loss_ax.get_lines()[0].get_ydata()) == history.loss
    assert accuracy_ax.get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="no epochs"):
        plot.history(train.History())


def test_activations_draw_every_activation_with_its_derivative() -> None:
    figure = plot.activations()
    panels = {ax.get_title(): ax.get_lines()[:2] for ax in figure.axes if ax.get_visible()}
    assert set(panels) == {row.write("a") for row in nn.ACTIVATION_ROWS.values()}
    for title, (function, derivative) in panels.items():
        xs, ys = function.get_xdata(), function.get_ydata()
        away = np.abs(xs) > 0.1  # central differences of the plotted curve, away from kinks
        slopes = np.gradient(ys, xs)
        assert np.allclose(derivative.get_ydata()[away], slopes[away], atol=2e-3), title
    assert max(panels["sigmoid(a)"][1].get_ydata()) == pytest.approx(0.25, abs=1e-3)


def test_without_matplotlib_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'microgradx\[plot\]'"):
        plot.activations()


def test_a_sigmoid_neuron_has_its_boundary_where_the_output_is_one_half() -> None:
    X, y = data.make_circles(60, noise=0.05, factor=0.5, seed=0)
    neuron = nn.Neuron(2, activation="sigmoid")
    neuron.load_state_dict({"w1": 3.0, "w2": -2.0, "b": 1.0})
    ax = plot.decision_boundary(neuron, X, y)
    boundary = [c for c in ax.collections if hasattr(c, "levels")][-1]  # the black line
    assert list(boundary.levels) == [0.5]


@pytest.mark.parametrize("activation", ["linear", "tanh", "sigmoid"])
def test_a_single_output_boundary_is_drawn_at_trains_decision_threshold(activation: str) -> None:
    X, y = data.make_moons(60, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation=activation, seed=0)
    ax = plot.decision_boundary(model, X, y)
    boundary = [c for c in ax.collections if hasattr(c, "levels")][-1]  # the black line
    assert list(boundary.levels) == [train.decision_threshold(model)]


def test_plot_imports_only_public_names_from_the_package() -> None:
    """plot is a client of train (and engine, nn): it uses their public API, nothing private."""
    tree = ast.parse(inspect.getsource(plot))
    imported = [
        (node.module, alias.asname or alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("microgradx")
        for alias in node.names
    ]
    modules = {name for _, name in imported} | {"microgradx"}  # `train` in `train._x`, say
    private = [name for _, name in imported if name.startswith("_")] + [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
        and node.attr.startswith("_")
    ]
    assert ("microgradx.train", "decision_threshold") in imported
    assert private == []
