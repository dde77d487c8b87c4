"""viz.live, the Python side, without a kernel: moving an input (as a slider does) leaves the
widget's synced values, gradients and texts exactly the engine's on a freshly built graph."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import need
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, data, losses, nn, optim, train, viz
from microgradx.viz.player import film_data, frames

pytest.importorskip("anywidget", reason="viz.live needs anywidget (the widget extra)")
finite = st.floats(-4, 4)


def neuron(x: Value, w: Value, b: Value) -> Value:
    return (x * w + b).tanh() + x**2 / 4


_made: dict[str, viz.widget.Live] = {}


def widget() -> viz.widget.Live:
    """One widget for every example (its layout is drawn once, by dot)."""
    need("dot")
    if "neuron" not in _made:
        _made["neuron"] = viz.live(neuron, x=2.0, w=(-3.0, -5, 5), b=0.5)
    return _made["neuron"]


@given(finite, finite, finite)
def test_a_moved_input_gives_the_engines_values_gradients_and_texts(
    x: float, w: float, b: float
) -> None:
    live = widget()
    live.values = {**live.values, "x": x, "w": w, "b": b}  # what the view's sliders send
    fresh = {name: Value(v, label=name) for name, v in (("x", x), ("w", w), ("b", b))}
    out = neuron(**fresh)
    out.backward()
    assert live.values == {"x": x, "w": w, "b": b}
    assert live.output == pytest.approx(out.data, abs=1e-12)
    assert live.grads == pytest.approx({n: v.grad for n, v in fresh.items()}, abs=1e-12)
    assert live.film == film_data(frames(out))  # every box's texts, at every step
    assert live.error == ""


def test_a_model_at_one_example_has_a_slider_per_input_and_weight() -> None:
    need("dot")
    model = nn.MLP(2, [3, 1], seed=0)
    live = viz.live(model, [0.5, -1.0])
    names = [s["name"] for s in live.inputs]
    assert names == ["x1", "x2", *(name for name, _ in model.named_parameters())]
    assert all(s["low"] < live.values[s["name"]] < s["high"] for s in live.inputs)
    live.set(x1=1.5, **{"layers.1.neurons.0.b": 0.25})
    assert model.layers[1].neurons[0].b.data == 0.25  # the model's own weight moved
    out = model([1.5, -1.0])
    assert live.output == pytest.approx(out.data, abs=1e-12)
    out.backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    assert {k: live.grads[k] for k in grads} == pytest.approx(grads, abs=1e-12)
    with pytest.raises(TypeError, match="no input or parameter named 'x3'"):
        live.set(x3=1.0)


def test_a_move_outside_an_ops_domain_is_refused_and_said() -> None:
    need("dot")
    live = viz.live(lambda x: x.log() * 2, x=2.0)
    before = (live.film, live.grads)
    live.set(x=-1.0)
    assert "log" in live.error and "positive" in live.error
    assert live.values == {"x": 2.0} and (live.film, live.grads) == before
    live.set(x=4.0)
    assert live.error == "" and live.grads == {"x": pytest.approx(0.5)}


def test_its_display_data_carries_a_picture_for_saved_notebooks() -> None:
    need("dot")
    live = viz.live(neuron, x=2.0, w=-3.0, b=0.5)
    data, _ = live._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["image/svg+xml"].startswith("<svg") and "grad ?" not in data["image/svg+xml"]
    assert data["text/plain"].startswith("Live(")


def test_as_a_training_callback_it_refreshes_every_k_steps_and_at_the_end() -> None:
    need("dot")
    X, y = data.make_circles(n_samples=40, seed=0)
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    live = viz.live(model, [0.5, -1.0], every=4)
    refreshed: list[float] = []
    refresh = live.refresh
    live.refresh = lambda: (refresh(), refreshed.append(live.output))  # type: ignore[method-assign]
    train.fit(model, X, y, loss=losses.binary_cross_entropy, epochs=3, batch_size=10,
              optimizer=optim.SGD(model.parameters(), lr=0.5), progress=False,
              callbacks=[live])  # fmt: skip
    assert len(refreshed) == 12 // 4 + 1  # 12 steps: after steps 4, 8, 12, and at the end
    assert refreshed[0] != refreshed[1]  # the weights moved between refreshes
    assert live.output == pytest.approx(model([0.5, -1.0]).data, abs=1e-12)


def test_bad_calls_say_what_to_pass() -> None:
    with pytest.raises(TypeError, match="example"):
        viz.live(nn.MLP(2, [1], seed=0))
    with pytest.raises(TypeError, match="one Value"):
        viz.live(lambda x: [x, x], x=1.0)
    with pytest.raises(ValueError, match="low < high"):
        viz.live(lambda x: x, x=(1.0, 2.0, 0.0))
    with pytest.raises(ValueError, match="every"):
        viz.live(lambda x: x * 2, x=1.0, every=0)


def test_while_training_it_sends_the_loss_curve_and_the_models_output_over_the_plane() -> None:
    need("dot")
    X, y = data.make_circles(n_samples=40, seed=0)
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    live = viz.live(model, [0.5, -1.0], every=4, X=X, y=y)
    assert not live.training and live.curve == [] and live.grid == b""  # panels hidden
    assert live.points == [[float(a), float(b), int(c > 0)] for (a, b), c in zip(X, y)]
    assert live.threshold == train.decision_threshold(model) == 0.5
    history = train.fit(model, X, y, loss=losses.binary_cross_entropy, epochs=3, batch_size=10,
                        optimizer=optim.SGD(model.parameters(), lr=0.5), progress=False,
                        callbacks=[live])  # fmt: skip
    assert live.training and live.steps == 12
    assert live.curve == history.step_loss  # 12 steps: every one
    low1, high1, low2, high2 = live.plane
    assert low1 < X[:, 0].min() and X[:, 0].max() < high1
    assert low2 < X[:, 1].min() and X[:, 1].max() < high2
    n = live.grid_size
    sent = np.frombuffer(live.grid, dtype="<f8")
    assert n == viz.widget.GRID and sent.shape == (n * n,)
    model.train()
    for k in range(0, n * n, 37):  # row by row from the top (x2 high), each from the left
        row, column = divmod(k, n)
        x1 = low1 + (high1 - low1) * column / (n - 1)
        x2 = high2 - (high2 - low2) * row / (n - 1)
        assert sent[k] == pytest.approx(model([x1, x2]).data, abs=1e-12)
    assert model.training  # the grid was computed in eval mode, and the mode put back


def test_a_long_curve_is_sampled_and_ends_at_the_latest_loss() -> None:
    sample = viz.widget.sample_losses
    assert sample([]) == [] and sample([3.0, 2.0]) == [3.0, 2.0]
    losses_ = [float(i) for i in range(450)]
    assert sample(losses_) == [*losses_[::3], 449.0]  # ceil(450 / 200) = 3; 447 is the last k
    assert sample(losses_[:400]) == [*losses_[:400:2], 399.0]  # every 2nd, then the latest
    assert sample(losses_[:199]) == losses_[:199]  # 200 or fewer: all of them
    assert sample(losses_[:7], most=3) == [0.0, 3.0, 6.0]  # the latest is a k-th: not twice


def test_a_model_without_two_inputs_has_a_curve_and_no_boundary() -> None:
    need("dot")
    X, y = data.make_circles(n_samples=20, seed=0)
    X3 = np.column_stack([X, X[:, 0]])
    model = nn.MLP(3, [2, 1], seed=0)
    live = viz.live(model, [0.5, -1.0, 0.0], every=2)
    history = train.fit(model, X3, y, loss=losses.mse, epochs=1, batch_size=10,
                        optimizer=optim.SGD(model.parameters(), lr=0.1), progress=False,
                        callbacks=[live])  # fmt: skip
    assert live.curve == history.step_loss and live.training
    assert live.grid == b"" and live.plane == [] and live.grid_size == 0
    with pytest.raises(ValueError, match="2 inputs"):
        viz.live(model, [0.5, -1.0, 0.0], X=X3, y=y)


def test_bad_training_points_say_what_to_pass() -> None:
    need("dot")
    model = nn.MLP(2, [1], seed=0)
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        viz.live(model, [0.0, 0.0], X=np.zeros((4, 3)), y=y)
    with pytest.raises(ValueError, match="one label per example"):
        viz.live(model, [0.0, 0.0], X=X, y=y[:3])
    with pytest.raises(ValueError, match="NaN"):
        viz.live(model, [0.0, 0.0], X=[[0.0, float("nan")]], y=[1])
    with pytest.raises(TypeError, match="both X=X and y=y"):
        viz.live(model, [0.0, 0.0], X=X)
    with pytest.raises(TypeError, match="training data"):
        viz.live(lambda x: x * 2, x=1.0, X=X, y=y)
