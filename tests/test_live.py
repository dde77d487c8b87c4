"""viz.live, the Python side, without a kernel: moving an input (as a slider does) leaves the
widget's synced values, gradients and texts exactly the engine's on a freshly built graph."""

from __future__ import annotations

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
