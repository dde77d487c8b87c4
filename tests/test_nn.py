"""Neurons, layers, MLPs: naming, modes, state dicts, dropout, saving and loading."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from microgradx import Value, losses, nn, optim
from microgradx.testing import numerical_grad


def test_the_perceptron_of_the_article() -> None:
    """y = σ(1 + 3·x1 − 2·x2) at x = (−1, 2): the sum is −6 and σ(−6) ≈ 0.00247."""
    neuron = nn.Neuron(2, activation="sigmoid")
    neuron.load_state_dict({"w1": 3.0, "w2": -2.0, "b": 1.0})
    y = neuron([-1.0, 2.0])
    assert y.data == pytest.approx(1 / (1 + math.exp(6)))
    assert round(y.data, 5) == 0.00247


def test_names_labels_counts_and_repr() -> None:
    model = nn.MLP(2, [16, 16, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w1", "layers.0.neurons.0.w2", "layers.0.neurons.0.b"]
    assert "layers.2.neurons.0.w16" in names and len(names) == len(set(names)) == 337
    assert all(p.label == name for name, p in model.named_parameters())
    assert repr(model) == "MLP(2 → [16, 16] → 1, 337 parameters)"
    assert repr(nn.MLP(3, [1])) == "MLP(3 → 1, 4 parameters)"
    assert repr(nn.Layer(2, 3, activation="tanh")) == "Layer(2 → 3, tanh)"
    assert repr(nn.Neuron(2)) == "Neuron(2 inputs, relu)"


def test_zero_grad_and_modes_reach_every_module() -> None:
    model = nn.MLP(2, [3, 1], dropout=0.5, seed=0)
    model(np.ones((4, 2))).sum().backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_seeds_make_models_reproducible() -> None:
    a, b, c = nn.MLP(2, [4, 1], seed=3), nn.MLP(2, [4, 1], seed=3), nn.MLP(2, [4, 1], seed=4)
    assert a.state_dict() == b.state_dict() != c.state_dict()


@pytest.mark.parametrize(
    "init, activation, check",
    [
        ("uniform", "relu", lambda w, nin, nout: np.all(np.abs(w) <= 1) and w.std() > 0.5),
        ("he", "tanh", lambda w, nin, nout: abs(w.std() / math.sqrt(2 / nin) - 1) < 0.1),
        (
            "xavier",
            "relu",
            lambda w, nin, nout: abs(w.std() / math.sqrt(2 / (nin + nout)) - 1) < 0.1,
        ),
        ("auto", "relu", lambda w, nin, nout: abs(w.std() / math.sqrt(2 / nin) - 1) < 0.1),
        (
            "auto",
            "sigmoid",
            lambda w, nin, nout: abs(w.std() / math.sqrt(2 / (nin + nout)) - 1) < 0.1,
        ),
    ],
)
def test_initialisations(init: str, activation: str, check: Any) -> None:
    layer = nn.Layer(50, 80, activation=activation, init=init, seed=0)
    weights = np.array([w.data for neuron in layer.neurons for w in neuron.w])
    assert check(weights, 50, 80)
    assert all(neuron.b.data == 0.0 for neuron in layer.neurons)


@given(arrays(np.float64, (5, 3), elements=st.floats(-3, 3)), st.integers(0, 2**16))
def test_one_example_and_the_same_example_in_a_batch_agree(X: np.ndarray, seed: int) -> None:
    model = nn.MLP(3, [4, 4, 2], activation="tanh", seed=seed).eval()
    batch = model(X)
    for i, row in enumerate(X):
        single = model(list(row))
        for one, many in zip(single, batch):
            assert one.data == pytest.approx(many.data[i], rel=1e-12, abs=1e-12)


@given(st.integers(0, 2**16))
def test_mlp_gradients_agree_with_central_differences(seed: int) -> None:
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", seed=seed)
    X, y = np.array([[0.5, -1.0], [1.5, 0.3]]), np.array([1, 0])
    loss = losses.binary_cross_entropy(model(X), y)
    loss.backward()
    names = [name for name, _ in model.named_parameters()]

    def loss_at(*numbers: float) -> float:
        probe = nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid")
        probe.load_state_dict(dict(zip(names, numbers)))
        return losses.binary_cross_entropy(probe(X), y).item()

    numeric = numerical_grad(loss_at, *model.state_dict().values())
    for parameter, slope in zip(model.parameters(), numeric):
        assert parameter.grad == pytest.approx(slope, rel=1e-4, abs=1e-7)


def test_dropout_zeroes_some_outputs_per_example_in_training_only() -> None:
    layer = nn.Layer(2, 50, activation="linear", dropout=0.5, seed=0)
    for neuron in layer.neurons:
        neuron.load_state_dict({"w1": 1.0, "w2": 1.0, "b": 0.0})
    X = np.ones((200, 2))  # every neuron outputs 2 for every example
    outputs = np.array([out.data for out in layer(X)])
    assert set(np.unique(outputs)) == {0.0, 4.0}  # dropped, or kept and scaled by 1/(1 - 0.5)
    assert 0.4 < np.mean(outputs == 0) < 0.6
    assert len({tuple(column) for column in outputs.T}) > 100  # masks differ between examples
    layer.eval()
    assert all(np.all(out.data == 2.0) for out in layer(X))


def test_wrong_widths_say_what_was_expected(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 1])
    with pytest.raises(ValueError, match="expects 2 inputs per example, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"expects 2 inputs per example.*\(4, 3\)"):
        model(np.ones((4, 3)))
    with pytest.raises(TypeError, match="one example"):
        model(Value(1.0))
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP(2, [3, 1], activation="swish")
    with pytest.raises(ValueError, match="nouts lists the width"):
        nn.MLP(2, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dropout"):
        nn.MLP(2, [3, 1], dropout=1.0)


def test_a_failed_load_state_dict_leaves_the_model_untouched() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    bad_states = [
        {**before, "layers.0.neurons.0.w1": float("nan")},
        {**before, "layers.9.neurons.0.w1": 1.0},
        {k: v for k, v in before.items() if k != "layers.1.neurons.0.b"},
        {**before, "layers.1.neurons.0.b": "0.5"},
        {**{k: 7.0 for k in before}, "layers.1.neurons.0.b": True},
    ]
    for state in bad_states:
        with pytest.raises(ValueError, match="layers"):
            model.load_state_dict(state)
        assert model.state_dict() == before


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = nn.MLP(2, [4, 3], activation="tanh", output_activation="linear", dropout=0.1, seed=1)
    path = tmp_path / "model.json"
    nn.save(model, path)
    document = json.loads(path.read_text())
    assert document["format"] == "microgradx-model" and document["version"] == 1
    again = nn.load(path)
    assert isinstance(again, nn.MLP) and again.state_dict() == model.state_dict()
    assert again.architecture() == model.architecture()
    X = np.random.default_rng(0).normal(size=(5, 2))
    model.eval()
    again.eval()
    assert [o.data.tolist() for o in model(X)] == [o.data.tolist() for o in again(X)]


def test_save_writes_atomically_and_refuses_nan(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    model = nn.MLP(2, [2, 1], seed=0)
    nn.save(model, path)
    good = path.read_text()
    model.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.0\.w1"):
        nn.save(model, path)
    assert path.read_text() == good and [p.name for p in tmp_path.iterdir()] == ["model.json"]


@pytest.mark.parametrize(
    "text, complaint",
    [
        ('{"format": "microgradx-model", "version": 1, "archi', "not valid JSON"),
        ("", "not valid JSON"),
        ('{"weights": [1, 2]}', "not a microgradx model"),
        ('{"format": "microgradx-model", "version": 7}', "version 7"),
        ('{"format": "microgradx-model", "version": 1, "architecture": {"type": "CNN"}}', "type"),
    ],
)
def test_a_corrupt_file_names_the_file_and_the_problem(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=complaint) as raised:
        nn.load(path)
    assert "broken.json" in str(raised.value)


def test_a_file_whose_parameters_do_not_match_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    document = json.loads(path.read_text())
    document["architecture"]["nouts"] = [4, 1]
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"model.json: .* implies 17 parameters, .* holds 13"):
        nn.load(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        nn.load(tmp_path / "missing.json")


def test_more_wrong_inputs_say_what_to_do(tmp_path: Path) -> None:
    model = nn.MLP(2, [2, 1])
    with pytest.raises(TypeError, match=r"for a batch, pass a 2-D NumPy array"):
        model([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match=r"for several examples pass a 2-D array"):
        model([1.0, "2"])
    with pytest.raises(
        ValueError, match=r"a batch as a 2-D array \(batch, 2\); got shape \(4, 2, 1\)"
    ):
        model(np.ones((4, 2, 1)))
    with pytest.raises(ValueError, match="dropout"):
        nn.MLP(2, [1], dropout=5)
    with pytest.raises(FileNotFoundError, match=r"folder .* does not exist"):
        nn.save(model, tmp_path / "missing" / "model.json")
    assert repr(nn.MLP(2, np.array([3, 1]))) == "MLP(2 → [3] → 1, 13 parameters)"
    path = tmp_path / "huge.json"
    nn.save(model, path)
    huge = '"layers.0.neurons.0.b": 1' + "0" * 400
    path.write_text(path.read_text().replace('"layers.0.neurons.0.b": 0.0', huge, 1))
    with pytest.raises(ValueError, match=r"huge\.json"):
        nn.load(path)


def test_parameters_follow_a_modules_own_named_parameters() -> None:
    """A module that names its parameters itself (here: hiding a frozen scale) is trained on
    exactly those: parameters() and state_dict() agree, and the optimizer leaves the rest."""

    class Frozen(nn.Module):
        def __init__(self) -> None:
            self.inner = nn.Neuron(2, "linear", seed=0)
            self.scale = Value(2.0)

        def named_parameters(self) -> Iterator[tuple[str, Value]]:
            yield from ((f"inner.{n}", p) for n, p in self.inner.named_parameters())

        def __call__(self, x: Any) -> Value:
            return self.inner(x) * self.scale

    model = Frozen()
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert len(model.parameters()) == len(model.state_dict()) == 3
    sgd = optim.SGD(model, lr=0.1)
    model([1.0, 2.0]).backward()
    sgd.step()
    assert model.scale.data == 2.0


def test_parameters_are_in_the_order_of_their_names() -> None:
    model = nn.MLP(3, [4, 2], seed=0)
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert model.layers[0].neurons[1].parameters() == [*model.layers[0].neurons[1].w,
                                                       model.layers[0].neurons[1].b]  # fmt: skip


@given(
    kind=st.sampled_from(["Neuron", "Layer", "MLP"]),
    examples=st.integers(1, 6),
    nin=st.integers(1, 4),
    width=st.integers(1, 4),
    rows=st.sampled_from([list, tuple, np.array]),
    seed=st.integers(0, 100),
)
def test_a_batch_as_a_list_of_lists_says_to_pass_a_2d_array(
    kind: str, examples: int, nin: int, width: int, rows: Any, seed: int
) -> None:
    model = {"Neuron": nn.Neuron(nin, seed=0), "Layer": nn.Layer(nin, 2, seed=0),
             "MLP": nn.MLP(nin, [3, 1], seed=0)}[kind]  # fmt: skip
    X = np.random.default_rng(seed).normal(size=(examples, width))
    with pytest.raises(TypeError) as caught:
        model([rows(row) for row in X.tolist()])  # X.tolist(), its rows as lists, tuples, arrays
    message = str(caught.value)
    assert message.startswith(f"{kind} got a list of {type(rows(X[0])).__name__}s")
    assert f"(shape ({examples}, {width}))" in message
    assert f"pass a 2-D NumPy array of shape (batch, {nin})" in message
    assert message.endswith("model(np.asarray(X))")
    if width == nin:  # the advice works: the same outputs as the array itself
        following = model(np.asarray(X.tolist()))
        outputs = following if isinstance(following, list) else [following]
        expected = model(X)
        for out, same in zip(outputs, expected if isinstance(expected, list) else [expected]):
            np.testing.assert_array_equal(out.data, same.data)
