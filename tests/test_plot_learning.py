"""Pictures of learning: training animations and loss surfaces with paths, headless (Agg)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

from microgradx import data, losses, nn, optim, plot, train

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def snapshots_of(epochs: int, every: int, neurons: bool = False) -> plot.Snapshots:
    X, y = data.make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    snapshots = plot.Snapshots(X, y, every=every, grid=12, neurons=neurons)
    train.fit(
        model, X, y, losses.binary_cross_entropy, optim.Adam(model, lr=0.05), epochs,
        progress=False, callbacks=[snapshots],
    )  # fmt: skip
    return snapshots


@pytest.mark.parametrize(("epochs", "every"), [(6, 1), (7, 3), (6, 3), (2, 5)])
def test_snapshots_before_training_every_k_epochs_and_after_the_last(
    epochs: int, every: int
) -> None:
    snapshots = snapshots_of(epochs, every)
    expected = [0, *range(every, epochs + 1, every)]
    expected += [epochs] if expected[-1] != epochs else []
    assert [s.epoch for s in snapshots] == expected
    assert len(snapshots) == 1 + -(-epochs // every)
    assert snapshots[0].loss is None and snapshots[-1].loss == snapshots.history.loss[-1]
    assert snapshots[-1].accuracy == snapshots.history.accuracy[-1]
    assert all(s.output.shape == (12, 12) for s in snapshots)


def test_a_snapshot_is_the_models_output_over_the_plane() -> None:
    X, y = data.make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    snapshots = plot.Snapshots(X, y, grid=5, neurons=True)
    train.fit(model, X, y, losses.binary_cross_entropy, optim.SGD(model, lr=0.1), 2,
              progress=False, callbacks=[snapshots])  # fmt: skip
    xs, ys = np.meshgrid(snapshots.xs, snapshots.ys)
    corner = [xs[4, 0], ys[4, 0]]  # row = y index, column = x index
    assert snapshots[-1].output[4, 0] == pytest.approx(model(corner).data)
    hidden = model.layers[0](corner)
    assert [m[4, 0] for m in snapshots[-1].neurons[0]] == pytest.approx([h.data for h in hidden])
    assert model.training is False


def test_one_frame_per_snapshot_in_the_animation_the_html_and_the_gif(tmp_path: Path) -> None:
    snapshots = snapshots_of(5, 2, neurons=True)  # epochs 0, 2, 4, 5
    animation = plot.animate(snapshots)
    assert animation._save_count == len(snapshots) == 4  # type: ignore[attr-defined]
    animation.to_jshtml()  # render it, as a notebook would
    [page] = plot.save_animation(snapshots, tmp_path / "learning.html")
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html, re.IGNORECASE)
    assert "font-awesome" not in html
    assert len(re.findall(r"frames\[\d+\] = \"data:image/png;base64,", html)) == 4
    [gif] = plot.save_animation(snapshots, tmp_path / "learning.gif")
    with Image.open(gif) as image:
        assert image.n_frames == 4
    frames = plot.save_animation(snapshots, tmp_path / "frames")
    assert [f.name for f in frames] == [f"frame_{i:03d}.png" for i in range(4)]
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f.name for f in frames]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "learning.gif", "learning.html"]


def test_bad_animation_input_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    X, y = data.make_moons(20, seed=0)
    empty = plot.Snapshots(X, y)
    with pytest.raises(ValueError, match="no snapshots"):
        plot.save_animation(empty, tmp_path / "a.html")
    snapshots = snapshots_of(2, 1)
    with pytest.raises(ValueError, match="format"):
        plot.save_animation(snapshots, tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="format must be one of html, gif, frames"):
        plot.save_animation(snapshots, tmp_path / "a.html", format="avi")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.save_animation(snapshots, tmp_path / "missing" / "a.gif")
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot.Snapshots(np.ones((5, 3)), np.ones(5))
    three = nn.MLP(3, [2, 1], seed=0)
    watcher = plot.Snapshots(X, y)
    with pytest.raises(ValueError, match="must take 2 inputs"):
        train.fit(three, np.ones((4, 3)), np.array([0, 1, 0, 1]), losses.mse,
                  optim.SGD(three, lr=0.1), 1, progress=False, callbacks=[watcher])  # fmt: skip
    assert len(watcher) == 0
    assert list(tmp_path.iterdir()) == []


# --- loss surfaces ---------------------------------------------------------------------------


def line_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(30, 1))
    return X, 2 * X[:, 0] + 1 + rng.normal(0, 0.2, 30)


def test_the_exact_surface_is_the_loss_at_each_grid_point() -> None:
    X, y = line_data()
    neuron = nn.Neuron(1, activation="linear", seed=0)
    surface = plot.loss_surface(neuron, X, y, losses.mse, resolution=7, span=2.0)
    assert surface.exact and surface.labels == ("w1", "b")
    for i, j in [(0, 0), (3, 5), (6, 6), (2, 1)]:
        w, b = surface.a[j], surface.b[i]
        assert surface.loss[i, j] == pytest.approx(np.mean((w * X[:, 0] + b - y) ** 2), rel=1e-12)
    assert neuron.state_dict() == nn.Neuron(1, activation="linear", seed=0).state_dict()


def test_exact_paths_start_at_the_start_and_end_at_the_trained_weights() -> None:
    X, y = line_data()
    neuron = nn.Neuron(1, activation="linear", seed=1)
    start = neuron.state_dict()
    runs = [
        plot.Run("gd", lambda p: optim.SGD(p, lr=0.3)),
        plot.Run("sgd", lambda p: optim.SGD(p, lr=0.05), batch_size=1),
        plot.Run("adam", lambda p: optim.Adam(p, lr=0.1)),
    ]
    paths = plot.descend(neuron, X, y, losses.mse, runs, epochs=5, seed=0)
    assert neuron.state_dict() == start  # descend puts the start back
    assert [len(p.points) for p in paths] == [6, 151, 6]
    surface = plot.loss_surface(neuron, X, y, losses.mse, paths, resolution=5)
    for run, path, drawn in zip(runs, paths, surface.paths):
        assert drawn.label == path.label and not path.diverged
        trained = nn.Neuron(1, activation="linear")
        trained.load_state_dict(start)
        train.fit(trained, X, y, losses.mse, run.optimizer(trained.parameters()), 5,
                  batch_size=run.batch_size, seed=0, progress=False)  # fmt: skip
        assert np.allclose(drawn.points[0], list(start.values()), rtol=0, atol=1e-12)
        assert np.allclose(drawn.points[-1], list(trained.state_dict().values()), atol=1e-12)
        for (w, b), loss in zip(drawn.points, drawn.loss):
            assert loss == pytest.approx(np.mean((w * X[:, 0] + b - y) ** 2), rel=1e-12)
        lows, highs = drawn.points.min(axis=0), drawn.points.max(axis=0)
        assert surface.a[0] <= lows[0] and highs[0] <= surface.a[-1]
        assert surface.b[0] <= lows[1] and highs[1] <= surface.b[-1]


def test_filter_normalized_directions_have_each_neurons_norm() -> None:
    model = nn.MLP(2, [4, 3, 1], seed=0)
    weights = np.array([p.data for p in model.parameters()])
    directions = plot.filter_normalized_directions(model, seed=3)
    assert directions.shape == (2, len(weights))
    index = {id(p): i for i, p in enumerate(model.parameters())}
    neurons = [m for m in model.modules() if isinstance(m, nn.Neuron)]
    assert len(neurons) == 8
    for neuron in neurons:
        block = [index[id(p)] for p in neuron.parameters()]
        for direction in directions:
            assert np.linalg.norm(direction[block]) == pytest.approx(
                np.linalg.norm(weights[block]), rel=1e-12
            )
    assert not np.allclose(directions[0], directions[1])
    assert np.array_equal(directions, plot.filter_normalized_directions(model, seed=3))


@pytest.mark.parametrize("directions", ["random", "start"])
def test_a_slice_goes_through_the_trained_weights_at_its_origin(directions: str) -> None:
    X, y = data.make_moons(30, noise=0.1, seed=0)
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    runs = [plot.Run("adam", lambda p: optim.Adam(p, lr=0.05))]
    [path] = plot.descend(model, X, y, losses.binary_cross_entropy, runs, epochs=8)
    model.load_state_dict(dict(zip(model.state_dict(), path.weights[-1])))
    surface = plot.loss_surface(
        model, X, y, losses.binary_cross_entropy, [path], resolution=5, seed=0,
        directions=directions,
    )  # fmt: skip
    assert not surface.exact
    assert np.allclose(surface.paths[0].points[-1], [0, 0], atol=1e-12)
    assert np.allclose(surface.weights_at(0, 0), path.weights[-1])
    if directions == "start":  # the start lies in the plane, at (1, 0)
        assert np.allclose(surface.paths[0].points[0], [1, 0], atol=1e-9)
        assert np.allclose(surface.weights_at(1, 0), path.weights[0])
    a, b = surface.a[1], surface.b[3]
    model.load_state_dict(dict(zip(model.state_dict(), surface.weights_at(a, b))))
    expected = train.evaluate(model, X, y, losses.binary_cross_entropy)[0]
    assert surface.loss[3, 1] == pytest.approx(expected, rel=1e-12)


def test_surfaces_are_deterministic_for_a_seed_and_draw_in_both_views() -> None:
    X, y = data.make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [2, 1], seed=0)
    first = plot.loss_surface(model, X, y, losses.mse, resolution=4, seed=5)
    second = plot.loss_surface(model, X, y, losses.mse, resolution=4, seed=5)
    assert np.array_equal(first.loss, second.loss)
    ax = plot.draw_surface(first)
    assert ax.get_xlabel() == "direction 1"
    import matplotlib.pyplot as plt

    three = plot.draw_surface(first, view="3d", ax=plt.figure().add_subplot(projection="3d"))
    assert three.name == "3d"
    with pytest.raises(ValueError, match="view"):
        plot.draw_surface(first, view="side")


def test_the_lessons_figure_shows_four_lessons_with_their_paths() -> None:
    figure = plot.surface_lessons(seed=0)
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert len(titles) == 4 and any("local minimum" in t for t in titles)
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in figure.axes[:4]]
    assert [len(labels) for labels in legends] == [3, 3, 2, 2]


def test_bad_surface_input_is_a_clear_error() -> None:
    X, y = line_data()
    neuron = nn.Neuron(1, activation="linear", seed=0)
    other = nn.Neuron(2, activation="linear", seed=0)
    [path] = plot.descend(
        other, np.ones((4, 2)), np.ones(4), losses.mse,
        [plot.Run("gd", lambda p: optim.SGD(p, lr=0.1))], epochs=1,
    )  # fmt: skip
    with pytest.raises(ValueError, match="recorded on another model"):
        plot.loss_surface(neuron, X, y, losses.mse, [path])
    with pytest.raises(ValueError, match="resolution"):
        plot.loss_surface(neuron, X, y, losses.mse, resolution=1)
    with pytest.raises(ValueError, match="runs must be"):
        plot.descend(neuron, X, y, losses.mse, [], epochs=1)
    with pytest.raises(ValueError, match='directions="start" needs a path'):
        plot.loss_surface(other, X @ np.ones((1, 2)), y, losses.mse, directions="start")
