"""nn.BatchNorm: the formula, running statistics, gradients, MLP(batch_norm=True), save/load.

Oracles: NumPy formulas written here, central differences, and PyTorch's BatchNorm1d when
torch is installed (the tests that need it skip otherwise).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, data, losses, nn, optim, train, viz
from microgradx.engine import topological_order
from microgradx.testing import numerical_grad

sizes = st.integers(2, 20)  # examples in a batch
widths = st.integers(1, 5)  # features
seeds = st.integers(0, 2**16)


def batch(size: int, width: int, seed: int) -> np.ndarray:
    """A random batch whose features have different means and spreads."""
    rng = np.random.default_rng(seed)
    return rng.normal(rng.uniform(-3, 3, width), rng.uniform(0.5, 3, width), (size, width))


def numpy_batch_norm(X: np.ndarray, gamma: Any, beta: Any, eps: float) -> np.ndarray:
    """γ·(x − mean)/√(var + eps) + β per column, with the biased variance."""
    return gamma * ((X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps)) + beta


def outputs(norm: nn.BatchNorm, X: Any) -> np.ndarray:
    """The module's outputs as an array (batch, features)."""
    return np.array([out.data for out in norm.forward(X)]).T


def randomized(norm: nn.BatchNorm, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Give γ and β random values; return them."""
    rng = np.random.default_rng(seed + 1)
    gamma, beta = rng.uniform(0.5, 2, norm.n), rng.normal(0, 1, norm.n)
    norm.load_state_dict(
        {**{f"gamma{i + 1}": g for i, g in enumerate(gamma)},
         **{f"beta{i + 1}": b for i, b in enumerate(beta)}}
    )  # fmt: skip
    return gamma, beta


# --- forward ------------------------------------------------------------------------------


@given(sizes, widths, seeds)
def test_training_forward_is_the_formula(size: int, width: int, seed: int) -> None:
    norm = nn.BatchNorm(width, eps=1e-3)
    gamma, beta = randomized(norm, seed)
    X = batch(size, width, seed)
    assert np.allclose(outputs(norm, X), numpy_batch_norm(X, gamma, beta, 1e-3), 1e-12, 1e-12)


@given(sizes, widths, seeds, st.integers(1, 6), st.sampled_from([0.0, 0.1, 0.5, 1.0]))
def test_running_statistics_follow_the_recurrence(
    size: int, width: int, seed: int, steps: int, momentum: float
) -> None:
    """running = (1 − m)·running + m·statistic, the variance unbiased; then eval uses them."""
    norm = nn.BatchNorm(width, momentum=momentum)
    gamma, beta = randomized(norm, seed)
    mean, var = np.zeros(width), np.ones(width)
    for step in range(steps):
        X = batch(size, width, seed + step)
        norm.forward(X)
        mean = (1 - momentum) * mean + momentum * X.mean(axis=0)
        var = (1 - momentum) * var + momentum * X.var(axis=0, ddof=1)
    assert np.allclose(norm.running_mean, mean, 1e-12, 1e-12)
    assert np.allclose(norm.running_var, var, 1e-12, 1e-12)
    norm.eval()
    X, learned = batch(size, width, seed + steps), norm.buffer_dict()
    expected = gamma * ((X - mean) / np.sqrt(var + 1e-5)) + beta
    assert np.allclose(outputs(norm, X), expected, 1e-12, 1e-12)
    assert norm.buffer_dict() == learned  # eval mode leaves them alone
    for row, want in zip(X, expected):  # and takes one example at a time
        single = norm.forward(list(row))
        assert np.allclose([out.data for out in single], want, 1e-12, 1e-12)


def test_defaults_are_pytorchs() -> None:
    norm = nn.BatchNorm(3)
    assert (norm.eps, norm.momentum) == (1e-5, 0.1)
    assert norm.running_mean.tolist() == [0.0] * 3 and norm.running_var.tolist() == [1.0] * 3
    assert [p.data for p in norm.parameters()] == [1.0] * 3 + [0.0] * 3
    assert repr(norm) == "BatchNorm(3 features, eps=1e-05, momentum=0.1)"


def test_a_feature_that_does_not_vary_becomes_beta() -> None:
    norm = nn.BatchNorm(1)
    out = norm.forward([Value(np.full(4, 7.0))])[0]
    assert out.data.tolist() == [0.0] * 4


# --- gradients ----------------------------------------------------------------------------


@given(st.integers(2, 8), st.integers(1, 3), seeds)
def test_gradients_agree_with_central_differences(size: int, width: int, seed: int) -> None:
    """d/dx, d/dγ, d/dβ of Σ c·y (random weights c: a plain sum's gradient in x is 0)."""
    X = batch(size, width, seed)
    weights = np.random.default_rng(seed + 2).normal(0, 1, (size, width))
    gamma, beta = np.random.default_rng(seed + 1).uniform(0.5, 2, (2, width))

    def loss(*numbers: Any) -> Value:
        columns, g, b = numbers[:width], numbers[width : 2 * width], numbers[2 * width :]
        norm = nn.BatchNorm(width)  # a fresh one: training moves the running statistics
        for i in range(width):
            norm.gamma[i], norm.beta[i] = g[i], b[i]
        ys = norm.forward(list(columns))
        return sum(((y * weights[:, i]).sum() for i, y in enumerate(ys)), Value(0.0))

    inputs = [Value(X[:, i]) for i in range(width)]
    parameters = [Value(float(x)) for x in (*gamma, *beta)]
    loss(*inputs, *parameters).backward()
    numeric = numerical_grad(
        lambda *n: loss(*(Value(x) for x in n)), *[X[:, i] for i in range(width)], *gamma, *beta
    )
    for value, slope in zip([*inputs, *parameters], numeric):
        assert np.allclose(value.grad, slope, rtol=1e-5, atol=1e-6)


# --- PyTorch as an oracle -----------------------------------------------------------------


@given(sizes, widths, seeds, st.integers(1, 4))
def test_agrees_with_pytorchs_batchnorm1d(size: int, width: int, seed: int, steps: int) -> None:
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm(width, eps=1e-4, momentum=0.3)
    gamma, beta = randomized(ours, seed)
    theirs = torch.nn.BatchNorm1d(width, eps=1e-4, momentum=0.3, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    weights = np.random.default_rng(seed + 2).normal(0, 1, (size, width))
    for step in range(steps):
        X = batch(size, width, seed + step)
        columns = [Value(X[:, i]) for i in range(width)]
        ys = ours.forward(columns)
        sum(((y * weights[:, i]).sum() for i, y in enumerate(ys)), Value(0.0)).backward()
        x = torch.tensor(X, requires_grad=True)
        torch_out = theirs(x)
        (torch_out * torch.tensor(weights)).sum().backward()
        ours_out = np.array([out.data for out in ys]).T
        assert np.allclose(ours_out, torch_out.detach().numpy(), 1e-12, 1e-12)
        grads = np.array([c.grad for c in columns]).T
        assert np.allclose(grads, x.grad.numpy(), 1e-9, 1e-10)
    assert np.allclose(ours.running_mean, theirs.running_mean.numpy(), 1e-12, 1e-12)
    assert np.allclose(ours.running_var, theirs.running_var.numpy(), 1e-12, 1e-12)
    gamma_grads = [p.grad for p in ours.gamma]  # summed over the steps, as torch accumulates
    assert np.allclose(gamma_grads, theirs.weight.grad.numpy(), 1e-9, 1e-10)
    assert np.allclose([p.grad for p in ours.beta], theirs.bias.grad.numpy(), 1e-9, 1e-10)
    ours.eval()
    theirs.eval()
    X = batch(size, width, seed + steps)
    assert np.allclose(outputs(ours, X), theirs(torch.tensor(X)).detach().numpy(), 1e-12, 1e-12)


# --- in an MLP ----------------------------------------------------------------------------


def test_mlp_with_batch_norm_has_a_norm_per_hidden_layer() -> None:
    model = nn.MLP(2, [4, 3, 1], batch_norm=True, seed=0)
    assert [layer.norm is not None for layer in model.layers] == [True, True, False]
    names = [name for name, _ in model.named_parameters()]
    assert names[12:20] == [f"layers.0.norm.gamma{i}" for i in range(1, 5)] + [
        f"layers.0.norm.beta{i}" for i in range(1, 5)
    ]
    assert len(names) == len(set(names)) == 45 and "layers.1.norm.beta3" in names
    assert list(model.buffer_dict())[:2] == [
        "layers.0.norm.running_mean1",
        "layers.0.norm.running_mean2",
    ]
    assert len(model.buffer_dict()) == 2 * (4 + 3)
    assert repr(model) == "MLP(2 → [4, 3] → 1, batch norm, 45 parameters)"
    assert model.architecture()["batch_norm"] is True
    assert model.layers[0].norm.scope.parent is model.layers[0].scope


def test_the_norm_sits_between_the_weighted_sum_and_the_activation() -> None:
    model = nn.MLP(2, [3, 1], activation="tanh", batch_norm=True, seed=0)
    X = batch(6, 2, 0)
    layer = model.layers[0]
    Z = np.array([[n.b.data + sum(w.data * x for w, x in zip(n.w, row)) for n in layer.neurons]
                  for row in X])  # fmt: skip
    expected = np.tanh(numpy_batch_norm(Z, 1.0, 0.0, 1e-5))
    assert np.allclose(np.array([o.data for o in layer.forward(X)]).T, expected, 1e-12, 1e-12)


def test_the_optimizer_moves_gamma_and_beta_but_not_the_running_statistics() -> None:
    model = nn.MLP(2, [3, 1], batch_norm=True, seed=0)
    adam = optim.Adam(model.parameters(), lr=0.1)
    losses.mse(model(batch(8, 2, 0)), np.ones(8)).backward()
    buffers = model.buffer_dict()
    adam.step()
    assert model.buffer_dict() == buffers
    assert any(p.data != 1.0 for p in model.layers[0].norm.gamma)


def test_mlp_with_batch_norm_learns_two_moons_and_survives_save_and_load(tmp_path: Path) -> None:
    X, y = data.make_moons(n_samples=200, noise=0.1, seed=0)
    X_test, y_test = data.make_moons(n_samples=200, noise=0.1, seed=1)
    model = nn.MLP(2, [8, 8, 1], batch_norm=True, seed=0)
    train.fit(model, X, y, loss=losses.binary_cross_entropy_with_logits,
              optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=40, batch_size=32,
              seed=0, progress=False)  # fmt: skip
    assert train.accuracy(model, X_test, y_test) >= 0.95
    assert not np.allclose(model.layers[0].norm.running_var, 1.0)  # they were learned
    path = tmp_path / "model.json"
    nn.save(model, path)
    document = json.loads(path.read_text())
    assert document["buffers"] == model.buffer_dict()
    again = nn.load(path)
    assert again.state_dict() == model.state_dict()
    assert again.buffer_dict() == model.buffer_dict()
    model.eval()
    again.eval()
    assert model(X_test).data.tolist() == again(X_test).data.tolist()  # type: ignore[union-attr]


def test_a_standalone_batch_norm_saves_and_loads(tmp_path: Path) -> None:
    norm = nn.BatchNorm(3, eps=1e-3, momentum=0.25)
    randomized(norm, 0)
    norm.forward(batch(5, 3, 0))
    nn.save(norm, tmp_path / "norm.json")
    again = nn.load(tmp_path / "norm.json")
    assert isinstance(again, nn.BatchNorm) and repr(again) == repr(norm)
    assert again.buffer_dict() == norm.buffer_dict() and again.state_dict() == norm.state_dict()


def test_the_default_mlp_is_unchanged() -> None:
    """The numbers below were taken from microgradx before BatchNorm existed: the same
    parameters, outputs, gradients and graph (op by op) for a seed; no new fields saved."""
    model = nn.MLP(2, [3, 2, 1], activation="tanh", seed=7)
    state = json.dumps(list(model.state_dict().items())).encode()
    assert hashlib.sha256(state).hexdigest() == (
        "71edb0a0f6d802c5b55d05a07d9163bdd359876468d3f47489e6d982cdb2b303"
    )
    out = model(np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]]))
    assert isinstance(out, Value)
    assert out.data.tolist() == [-0.21015596356736424, 0.17716366623397767, 0.34974268556914617]
    order = topological_order(out)
    ops = " ".join(str(node.op) for node in order).encode()
    assert len(order) == 33 and hashlib.sha256(ops).hexdigest() == (
        "74f3abd4d0d6627552b58cc4a4103686768009a258c9c5252929823084e85db6"
    )
    out.sum().backward()
    assert np.allclose([p.grad for p in model.parameters()][:4], [
        0.40781629560945887, 0.1988210814085379, 0.7428570856137154, -0.21387046431155649
    ], rtol=1e-14, atol=0)  # fmt: skip  # (a layer's gradients now come from one matrix product)
    assert "batch_norm" not in model.architecture() and model.buffer_dict() == {}
    assert all(layer.norm is None for layer in model.layers)


def test_pictures_draw_a_batch_norm_model() -> None:
    model = nn.MLP(2, [3, 1], activation="tanh", batch_norm=True, seed=0)
    loss = losses.mse(model(batch(3, 2, 0)), [1.0, 0.0, 1.0])
    loss.backward()
    layers = viz.to_dot(loss, collapse="layer")
    assert "layers.0|3 neurons with batch norm, 15 parameters" in layers
    assert "layers.0.norm" not in layers  # the norm is drawn inside its layer's box
    assert "layers.0.norm.gamma1" in viz.to_dot(loss)
    assert viz.backprop_steps(loss, collapse="neuron")


# --- errors -------------------------------------------------------------------------------


def test_training_needs_a_batch_of_at_least_two() -> None:
    model = nn.MLP(2, [3, 1], batch_norm=True, seed=0)
    with pytest.raises(
        ValueError, match=r"layers\.0\.norm .*at least 2 examples.*got one ex.*eval"
    ):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match=r"at least 2 examples.*got a batch of 1 example"):
        model(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"^BatchNorm in training mode"):
        nn.BatchNorm(2)([1.0, 2.0])
    with pytest.raises(ValueError, match="different batch sizes"):
        nn.BatchNorm(2).forward([Value(np.ones(3)), Value(1.0)])
    model.eval()  # the fix the message names: the running statistics
    assert isinstance(model([1.0, 2.0]), Value)
    assert isinstance(model(np.ones((1, 2))), Value)


def test_bad_arguments_say_what_they_must_be() -> None:
    with pytest.raises(ValueError, match=r"expects 3 inputs per example.*\(4, 2\)"):
        nn.BatchNorm(3).forward(batch(4, 2, 0))
    with pytest.raises(ValueError, match="expects 3 inputs per example, got 2"):
        nn.BatchNorm(3).forward([Value(np.ones(4)), Value(np.zeros(4))])
    with pytest.raises(ValueError, match="number of features"):
        nn.BatchNorm(0)
    for eps in (0.0, -1e-5, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="eps"):
            nn.BatchNorm(2, eps=eps)
    for momentum in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="momentum"):
            nn.BatchNorm(2, momentum=momentum)
    with pytest.raises(TypeError, match="eps"):
        nn.BatchNorm(2, eps="small")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="batch_norm must be True or False"):
        nn.MLP(2, [3, 1], batch_norm=1)  # type: ignore[arg-type]


def test_a_file_without_running_statistics_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    nn.save(nn.MLP(2, [3, 1], batch_norm=True, seed=0), path)
    document = json.loads(path.read_text())
    good = dict(document["buffers"])
    broken = {
        "lacking.json": {k: v for k, v in document.items() if k != "buffers"},
        "one_missing.json": {**document, "buffers": {k: good[k] for k in list(good)[1:]}},
        "negative.json": {**document, "buffers": {**good, "layers.0.norm.running_var2": -1.0}},
        "text.json": {**document, "buffers": {**good, "layers.0.norm.running_mean1": "0"}},
        "not_a_dict.json": {**document, "buffers": [0.0] * len(good)},
    }
    complaints = ["buffer dict does not match", "missing 'layers.0.norm.running_mean1'",
                  "must be >= 0", "must be a finite number", "maps buffer names"]  # fmt: skip
    for (name, broken_document), complaint in zip(broken.items(), complaints):
        (tmp_path / name).write_text(json.dumps(broken_document))
        with pytest.raises(ValueError, match=complaint) as raised:
            nn.load(tmp_path / name)
        assert name in str(raised.value)


def test_a_failed_load_buffer_dict_leaves_the_model_unchanged() -> None:
    model = nn.MLP(2, [3, 1], batch_norm=True, seed=0)
    model(batch(5, 2, 0))  # running statistics that are not the defaults
    before, parameters = model.buffer_dict(), model.state_dict()
    bad_states = [
        {**before, "layers.0.norm.running_var3": float("nan")},
        {**before, "layers.0.norm.running_var1": -0.5},
        {**before, "layers.9.norm.running_mean1": 0.0},
        {k: v for k, v in before.items() if k != "layers.0.norm.running_mean2"},
        {**{k: 5.0 for k in before}, "layers.0.norm.running_var3": True},
    ]
    for state in bad_states:
        with pytest.raises(ValueError, match="layers"):
            model.load_buffer_dict(state)
        assert model.buffer_dict() == before and model.state_dict() == parameters
    model.load_buffer_dict({k: 2.0 for k in before})
    assert (
        model.layers[0].norm is not None and model.layers[0].norm.running_var.tolist() == [2.0] * 3
    )


def test_early_stopping_restores_the_running_statistics_of_the_best_epoch() -> None:
    X, y = data.make_moons(120, noise=0.3, seed=1)
    model = nn.MLP(2, [8, 1], batch_norm=True, seed=1)
    seen: dict[int, dict[str, float]] = {}

    class Keep(train.Callback):
        def on_epoch_end(self, state: train.TrainingState) -> None:
            seen[state.epoch] = model.buffer_dict()

    history = train.fit(
        model,
        X[:80],
        y[:80],
        losses.binary_cross_entropy_with_logits,
        optim.SGD(model, lr=2.0),
        epochs=40,
        batch_size=16,
        validation=(X[80:], y[80:]),
        early_stopping=3,
        progress=False,
        seed=0,
        callbacks=[Keep()],
    )
    assert history.best_epoch is not None and history.best_epoch < history.epochs
    assert model.buffer_dict() == seen[history.best_epoch] != seen[history.epochs]
