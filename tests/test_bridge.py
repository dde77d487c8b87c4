"""interop.to_torch and from_torch: the same network on both sides.

Oracle: PyTorch itself. For random architectures, weights and batches, the torch module's
outputs, parameter gradients and running statistics agree with the MLP's to 1e-12 in
float64, both ways; a round trip gives back every number exactly. The weights are compared
by position (row j of layer k's weight is neuron j's), read here without the module's help.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

import numpy as np
import pytest
from conftest import need_module
from hypothesis import given
from hypothesis import strategies as st

from microgradx import nn

CLOSE = {"rtol": 1e-12, "atol": 1e-12}
ACTIVATIONS = list(nn.ACTIVATIONS)  # every activation a neuron may use


@pytest.fixture(scope="module")
def torch() -> Any:
    need_module("torch")
    import torch

    return torch


@pytest.fixture(scope="module")
def interop(torch: Any) -> Any:
    from microgradx import interop

    return interop


@st.composite
def architectures(draw: st.DrawFn) -> dict[str, Any]:
    """The arguments of a random nn.MLP (dropout only with eval mode, which turns it off)."""
    training = draw(st.booleans())
    return {
        "nin": draw(st.integers(1, 4)),
        "nouts": draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)),
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "output_activation": draw(st.sampled_from(ACTIVATIONS)),
        "init": draw(st.sampled_from(nn.INITS)),
        "dropout": 0.0 if training else draw(st.sampled_from([0.0, 0.25])),
        "batch_norm": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
        "training": training,
    }


def make_mlp(arguments: dict[str, Any]) -> nn.MLP:
    """The MLP, with random running statistics (BatchNorm), in the drawn mode."""
    arguments = dict(arguments)
    training = arguments.pop("training")
    model = nn.MLP(**arguments)
    rng = np.random.default_rng(arguments["seed"] + 1)
    buffers = model.buffer_dict()
    model.load_buffer_dict(
        {name: rng.uniform(0.5, 2) if "var" in name else rng.normal() for name in buffers}
    )
    model.train(training)
    return model


def batch(nin: int, seed: int, size: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-3, 3, (size, nin))


def run_mlp(model: nn.MLP, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The MLP's outputs (batch, nout); backward from Σ weights·outputs."""
    outputs = model(X)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    loss = sum(float(w) * out for w, out in zip(weights, outputs)).sum()  # type: ignore[union-attr]
    loss.backward()
    return np.array([out.data for out in outputs]).T


def run_torch(torch: Any, module: Any, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    out = module(torch.tensor(X))
    (out * torch.tensor(weights)).sum().backward()
    return np.asarray(out.detach().numpy())


def torch_layers(torch: Any, module: Any) -> list[tuple[Any, Any]]:
    """(Linear, the BatchNorm1d after it or None) for each Linear of the Sequential."""
    children = list(module)
    found = []
    for i, child in enumerate(children):
        if isinstance(child, torch.nn.Linear):
            after = children[i + 1] if i + 1 < len(children) else None
            found.append((child, after if isinstance(after, torch.nn.BatchNorm1d) else None))
    return found


def assert_same_network(torch: Any, model: nn.MLP, module: Any, grads: bool) -> None:
    """Every weight, bias, γ, β and running statistic (and their gradients) by position."""
    pairs = torch_layers(torch, module)
    assert len(pairs) == len(model.layers)
    for layer, (linear, norm) in zip(model.layers, pairs):
        ours = [[[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons]]
        no_bias = torch.zeros(linear.out_features, dtype=torch.float64)  # b = 0 stands for it
        theirs = [linear.weight, no_bias if linear.bias is None else linear.bias]
        if layer.norm is not None:
            ours += [[g.data for g in layer.norm.gamma], [b.data for b in layer.norm.beta]]
            ours += [layer.norm.running_mean, layer.norm.running_var]
            theirs += [norm.weight, norm.bias, norm.running_mean, norm.running_var]
        else:
            assert norm is None
        for mine, tensor in zip(ours, theirs):
            np.testing.assert_allclose(mine, tensor.detach().numpy(), **CLOSE)
        if grads:
            ours = [
                [[w.grad for w in n.w] for n in layer.neurons],
                [n.b.grad for n in layer.neurons],
            ]
            if layer.norm is not None:
                ours += [[g.grad for g in layer.norm.gamma], [b.grad for b in layer.norm.beta]]
            for mine, tensor in zip(ours, theirs):
                if tensor is not no_bias:
                    np.testing.assert_allclose(mine, tensor.grad.numpy(), **CLOSE)


# --- microgradx to torch --------------------------------------------------------------------


@given(architectures(), st.integers(0, 2**16))
def test_to_torch_computes_the_same_outputs_gradients_and_statistics(
    torch: Any, interop: Any, arguments: dict[str, Any], seed: int
) -> None:
    model = make_mlp(arguments)
    module = interop.to_torch(model)
    assert module.training == model.training
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert_same_network(torch, model, module, grads=False)  # the weights, before any step

    X = batch(model.nin, seed)
    weights = np.random.default_rng(seed + 1).normal(size=model.nouts[-1])
    np.testing.assert_allclose(
        run_mlp(model, X, weights), run_torch(torch, module, X, weights), **CLOSE
    )
    assert_same_network(torch, model, module, grads=True)  # running statistics moved alike


def test_to_torch_spells_each_layer_as_pytorch_does(torch: Any, interop: Any) -> None:
    model = nn.MLP(2, [3, 3, 1], "leaky_relu", "sigmoid", dropout=0.5, batch_norm=True, seed=0)
    names = [type(child).__name__ for child in interop.to_torch(model)]
    layer = ["Linear", "BatchNorm1d", "LeakyReLU", "Dropout"]
    assert names == [*layer, *layer, "Linear", "Sigmoid"]
    assert interop.to_torch(nn.MLP(2, [1], "tanh", "linear"))[1].__class__.__name__ == "Identity"


def test_the_two_models_are_independent(torch: Any, interop: Any) -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    module = interop.to_torch(model)
    with torch.no_grad():
        module[0].weight.add_(1.0)
    assert model.state_dict() == before


def test_to_torch_takes_an_mlp(interop: Any) -> None:
    with pytest.raises(TypeError, match=r"to_torch converts an nn\.MLP, got Layer: wrap a layer"):
        interop.to_torch(nn.Layer(2, 3))


# --- torch to microgradx --------------------------------------------------------------------


@st.composite
def sequentials(draw: st.DrawFn, torch: Any) -> Any:
    """A random Sequential that an MLP can be: numbers from NumPy, every module in its
    default settings (Softplus's threshold raised: see the next test), sometimes a Linear
    without bias, a linear layer with or without Identity."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    sizes = [draw(st.integers(1, 4)), *draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))]
    modules = {
        "relu": torch.nn.ReLU(),
        "tanh": torch.nn.Tanh(),
        "sigmoid": torch.nn.Sigmoid(),
        "softplus": torch.nn.Softplus(threshold=40.0),
        "softsign": torch.nn.Softsign(),
        "leaky_relu": torch.nn.LeakyReLU(),
        "linear": torch.nn.Identity(),
        "none": None,
    }
    hidden, output = draw(st.sampled_from(sorted(modules))), draw(st.sampled_from(sorted(modules)))
    batch_norm, dropout = draw(st.booleans()), draw(st.sampled_from([0.0, 0.5]))
    layers: list[Any] = []
    for k, (nin, nout) in enumerate(itertools.pairwise(sizes)):
        last = k == len(sizes) - 2
        linear = torch.nn.Linear(nin, nout, bias=draw(st.booleans()), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(rng.normal(0, nin**-0.5, (nout, nin))))
        layers.append(linear)
        if batch_norm and not last:
            norm = torch.nn.BatchNorm1d(nout, dtype=torch.float64)
            with torch.no_grad():
                for tensor in (norm.weight, norm.bias, norm.running_mean):
                    tensor.copy_(torch.tensor(rng.normal(size=nout)))
                norm.running_var.copy_(torch.tensor(rng.uniform(0.5, 2, nout)))
            layers.append(norm)
        activation = modules[output if last else hidden]
        layers += [] if activation is None else [activation]
        layers += [torch.nn.Dropout(dropout)] if dropout and not last else []
    training = not dropout and draw(st.booleans())
    return torch.nn.Sequential(*layers).train(training)


@given(st.data(), st.integers(0, 2**16))
def test_from_torch_computes_the_same_outputs_gradients_and_statistics(
    torch: Any, interop: Any, data: st.DataObject, seed: int
) -> None:
    module = data.draw(sequentials(torch))
    model = interop.from_torch(module)
    assert model.training == module.training
    assert_same_network(torch, model, module, grads=False)

    X = batch(model.nin, seed)
    weights = np.random.default_rng(seed + 1).normal(size=model.nouts[-1])
    theirs = run_torch(torch, module, X, weights)
    np.testing.assert_allclose(run_mlp(model, X, weights), theirs, **CLOSE)
    assert_same_network(torch, model, module, grads=True)


def test_softplus_above_torchs_threshold_differs_by_less_than_its_gap(
    torch: Any, interop: Any
) -> None:
    """torch's default Softplus returns x above 20, where ln(1 + eˣ) = x + ln(1 + e⁻ˣ)."""
    module = torch.nn.Sequential(torch.nn.Linear(1, 1, dtype=torch.float64), torch.nn.Softplus())
    with torch.no_grad():
        module[0].weight.fill_(1.0)
        module[0].bias.fill_(0.0)
    model = interop.from_torch(module)
    theirs = module(torch.tensor([[5.0], [20.5], [30.0]], dtype=torch.float64)).detach()
    ours = np.array(model(np.array([[5.0], [20.5], [30.0]])).data)
    assert np.abs(ours - theirs.numpy()[:, 0]).max() <= np.log1p(np.exp(-20.0))
    assert ours[1] != theirs[1, 0]  # (a real difference, which from_torch's docstring states)


# --- round trips ---------------------------------------------------------------------------


@given(architectures())
def test_a_round_trip_from_microgradx_keeps_every_number(
    torch: Any, interop: Any, arguments: dict[str, Any]
) -> None:
    model = make_mlp(arguments)
    back = interop.from_torch(interop.to_torch(model))
    assert back.state_dict() == model.state_dict()
    assert back.buffer_dict() == model.buffer_dict()
    assert back.training == model.training
    assert what_it_computes(back) == what_it_computes(model)


def what_it_computes(model: nn.MLP) -> dict[str, Any]:
    """The architecture without what does not change the function: the initialization, and
    without hidden layers, the hidden layers' activation, dropout and batch norm."""
    unused = {"init"} | (
        {"activation", "dropout", "batch_norm"} if len(model.nouts) == 1 else set()
    )
    return {key: value for key, value in model.architecture().items() if key not in unused}


@given(st.data())
def test_a_round_trip_from_torch_keeps_the_state_dict(
    torch: Any, interop: Any, data: st.DataObject
) -> None:
    module = data.draw(sequentials(torch))
    back = interop.to_torch(interop.from_torch(module))
    assert back.training == module.training
    # the same modules in the same order, but for Identity (a linear layer without it gains
    # it) and bias=False (a Linear without bias gains one of zeros)
    assert spelled(torch, back) == spelled(torch, module)
    for ours, theirs in zip(torch_layers(torch, back), torch_layers(torch, module)):
        for tensor, before in zip(numbers(torch, *ours), numbers(torch, *theirs)):
            assert torch.equal(tensor, before)


def spelled(torch: Any, module: Any) -> list[str]:
    found = [repr(child) for child in module if not isinstance(child, torch.nn.Identity)]
    return [text.replace("bias=False", "bias=True") for text in found]


def numbers(torch: Any, linear: Any, norm: Any) -> list[Any]:
    """Every tensor of a Linear and its BatchNorm1d (a missing bias as zeros); not
    num_batches_tracked, which microgradx does not count (it matters only with momentum=None,
    which from_torch refuses)."""
    bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features)
    found = [linear.weight, bias.to(torch.float64)]
    if norm is not None:
        found += [norm.weight, norm.bias, norm.running_mean, norm.running_var]
    return found


# --- what is refused -------------------------------------------------------------------------


def refused(torch: Any) -> list[tuple[Any, str]]:
    """Sequentials an MLP cannot be, and what the error says."""
    Seq, Linear, Tanh, Norm = (
        getattr(torch.nn, n) for n in ("Sequential", "Linear", "Tanh", "BatchNorm1d")
    )
    return [
        (Seq(Linear(2, 3), torch.nn.Conv1d(1, 1, 1)), r"layer 1 \(Conv1d.*Linear layers"),
        (Seq(torch.nn.ReLU(), Linear(2, 3)), r"layer 0 \(ReLU\(\)\) comes before any Linear"),
        (Seq(Linear(2, 3), torch.nn.ReLU(), Linear(3, 1), Tanh(), Linear(1, 1)),
         r"different activations \(relu, tanh\)"),
        (Seq(Linear(2, 3), Tanh(), Norm(3)), "layer 2 .* out of place"),
        (Seq(Linear(2, 3), Tanh(), Tanh()), "layer 2 .* out of place"),
        (Seq(Linear(2, 3), torch.nn.LeakyReLU(0.2)), "slope 0.2, while nn.MLP's leaky_relu"),
        (Seq(Linear(2, 3), torch.nn.Softplus(beta=2)), "needs beta=1"),
        (Seq(Linear(2, 3), Linear(4, 1)), r"layer 1 \(Linear.* takes 4 inputs, but the Linear"),
        (Seq(Linear(2, 3), Norm(3)), "the output layer has batch norm"),
        (Seq(Linear(2, 3), torch.nn.Dropout(0.1)), "the output layer has dropout"),
        (Seq(Linear(2, 3), Norm(3, eps=1e-3), Linear(3, 1)), "eps=1e-05, momentum=0.1"),
        (Seq(Linear(2, 3), Norm(3), Linear(3, 3), Linear(3, 1)), "some hidden layers have batch"),
        (Seq(), "no Linear layer"),
    ]  # fmt: skip


def test_from_torch_refuses_what_an_mlp_cannot_be(torch: Any, interop: Any) -> None:
    for module, message in refused(torch):
        with pytest.raises(ValueError, match=message):
            interop.from_torch(module)
    with pytest.raises(TypeError, match=r"a torch\.nn\.Sequential .* got Linear"):
        interop.from_torch(torch.nn.Linear(2, 3))


def test_without_torch_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from microgradx import interop  # importing the module does not need torch

    monkeypatch.setitem(sys.modules, "torch", None)  # as if it were not installed
    for convert in (interop.to_torch, interop.from_torch):
        with pytest.raises(ImportError, match=r"need PyTorch.*pip install 'microgradx\[torch\]'"):
            convert(nn.MLP(2, [1]))
