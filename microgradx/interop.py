"""To PyTorch and back: an `nn.MLP` as a `torch.nn.Sequential` with the same weights, and back.

`to_torch(model)` gives, for every layer of the MLP, a `Linear`, then a `BatchNorm1d` if the
model has batch norm (with its running statistics), then the activation's module (`Identity`
for a linear layer), then a `Dropout` if the layer has dropout: float64 throughout, in the
model's training or eval mode, so outputs and gradients agree with microgradx's to float64
rounding. `from_torch(module)` reads such a Sequential back into an `nn.MLP`. Needs PyTorch
(`pip install 'microgradx[torch]'`), imported only when one of them is called.

    from microgradx import nn, interop
    model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    net = interop.to_torch(model)           # Sequential(Linear, Tanh, Linear, Identity)
    interop.from_torch(net)                 # MLP(2 → [4] → 1, 17 parameters)
"""

from __future__ import annotations

import importlib
import itertools
from typing import Any

from microgradx import nn

ACTIVATION_MODULES = {
    "linear": "Identity",
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "softplus": "Softplus",
    "softsign": "Softsign",
    "leaky_relu": "LeakyReLU",
}
"""Each activation a neuron may use, and the torch.nn module that computes it."""
LEAKY_SLOPE = nn.ACTIVATION_ROWS["leaky_relu"].params[0]  # the slope of nn's leaky_relu
SOFTPLUS_THRESHOLD = 40.0  # above it torch's Softplus returns x, as ln(1 + eˣ) is in float64
NORM_DEFAULTS = {"eps": 1e-5, "momentum": 0.1}  # the BatchNorm an MLP builds


def to_torch(model: nn.MLP) -> Any:
    """The MLP as a `torch.nn.Sequential` with the same weights (and running statistics),
    float64, in the same training or eval mode. Changing one never changes the other."""
    torch = _torch()
    if not isinstance(model, nn.MLP):
        raise TypeError(
            f"to_torch converts an nn.MLP, got {type(model).__name__}: "
            "wrap a layer in an MLP (nn.MLP(nin, [nout], ...)) to convert it"
        )
    modules: list[Any] = []
    for layer in model.layers:
        linear = torch.nn.utils.skip_init(  # no random initial weights: they are set next
            torch.nn.Linear, layer.nin, layer.nout, dtype=torch.float64
        )
        _fill(torch, linear.weight, [[w.data for w in n.w] for n in layer.neurons])
        _fill(torch, linear.bias, [n.b.data for n in layer.neurons])
        modules.append(linear)
        if layer.norm is not None:
            norm = torch.nn.BatchNorm1d(
                layer.nout, eps=layer.norm.eps, momentum=layer.norm.momentum, dtype=torch.float64
            )
            _fill(torch, norm.weight, [gamma.data for gamma in layer.norm.gamma])
            _fill(torch, norm.bias, [beta.data for beta in layer.norm.beta])
            _fill(torch, norm.running_mean, layer.norm.running_mean.tolist())
            _fill(torch, norm.running_var, layer.norm.running_var.tolist())
            modules.append(norm)
        modules.append(_activation_module(torch, layer.activation))
        if layer.dropout > 0:
            modules.append(torch.nn.Dropout(layer.dropout))
    return torch.nn.Sequential(*modules).train(model.training)


def from_torch(module: Any) -> nn.MLP:
    """An `nn.MLP` with the weights (and running statistics) of a `torch.nn.Sequential` of
    `Linear` layers, each perhaps followed by a `BatchNorm1d`, an activation and a `Dropout`
    in that order, in the Sequential's training or eval mode. What an MLP cannot be (another
    layer, hidden layers with different activations, batch norm or dropout on some hidden
    layers only) is refused with an error naming the layer. A Linear without a bias gets
    b = 0. A `Softplus` needs beta=1; above its threshold (20 by default) torch returns x
    where microgradx keeps ln(1 + eˣ), which differs by less than e^-threshold."""
    torch = _torch()
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(
            "from_torch converts a torch.nn.Sequential of Linear layers and activations, "
            f"got {type(module).__name__}"
        )
    layers: list[dict[str, Any]] = []  # per Linear: the modules that follow it
    for name, child in module._modules.items():  # (named_children skips a module used twice)
        if isinstance(child, torch.nn.Linear):
            layers.append({"linear": child, "name": name})
            continue
        if not layers:
            raise ValueError(f"from_torch: layer {name} ({child}) comes before any Linear layer")
        found, what = layers[-1], _kind(torch, name, child)
        order = ["norm", "activation", "dropout"]
        if any(earlier in found for earlier in order[order.index(what) :]):
            raise ValueError(
                f"from_torch: layer {name} ({child}) is out of place: after each Linear an MLP "
                "has at most one BatchNorm1d, one activation and one Dropout, in that order"
            )
        found[what] = child
    if not layers:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    for found in layers:  # names and numbers instead of modules
        found["activation"] = _activation_name(torch, found.get("activation"))
        found["dropout"] = float(found["dropout"].p) if "dropout" in found else 0.0
    return _build(torch, layers, module.training)


# --- helpers ------------------------------------------------------------------------------


def _torch() -> Any:
    """The torch package, imported now (it takes a while), or an error saying how to get it."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise ImportError(
            "to_torch and from_torch need PyTorch, which is not installed: "
            "pip install 'microgradx[torch]' (or pip install torch)"
        ) from None


def _fill(torch: Any, tensor: Any, numbers: Any) -> None:
    with torch.no_grad():
        tensor.copy_(torch.tensor(numbers, dtype=torch.float64))


def _activation_module(torch: Any, activation: str) -> Any:
    if activation == "leaky_relu":
        return torch.nn.LeakyReLU(LEAKY_SLOPE)
    if activation == "softplus":
        return torch.nn.Softplus(beta=1.0, threshold=SOFTPLUS_THRESHOLD)
    return getattr(torch.nn, ACTIVATION_MODULES[activation])()


def _kind(torch: Any, name: str, child: Any) -> str:
    """What a module after a Linear is to an MLP: "norm", "activation" or "dropout"."""
    if isinstance(child, torch.nn.BatchNorm1d):
        return "norm"
    if isinstance(child, torch.nn.Dropout):
        return "dropout"
    if type(child).__name__ in ACTIVATION_MODULES.values():
        return "activation"
    supported = ", ".join(sorted({*ACTIVATION_MODULES.values(), "BatchNorm1d", "Dropout"}))
    raise ValueError(
        f"from_torch cannot convert layer {name} ({child}): an nn.MLP is made of Linear layers, "
        f"each perhaps followed by {supported}"
    )


def _activation_name(torch: Any, child: Any) -> str:
    """The microgradx name of an activation module, if an MLP's neuron computes the same."""
    if child is None:
        return "linear"  # no activation module
    if isinstance(child, torch.nn.LeakyReLU) and child.negative_slope != LEAKY_SLOPE:
        raise ValueError(
            f"from_torch: {child} has slope {child.negative_slope:g}, while nn.MLP's "
            f"leaky_relu has slope {LEAKY_SLOPE:g}"
        )
    if isinstance(child, torch.nn.Softplus) and (child.beta != 1 or child.threshold < 20):
        raise ValueError(
            f"from_torch: {child} is not ln(1 + eˣ): nn.MLP's softplus needs beta=1 "
            "(and a threshold of at least 20, torch's default)"
        )
    return next(name for name, kind in ACTIVATION_MODULES.items() if kind == type(child).__name__)


def _build(torch: Any, layers: list[dict[str, Any]], training: bool) -> nn.MLP:
    """The MLP that the layers describe, checked to be one, with their numbers."""
    for before, after in itertools.pairwise(layers):
        if before["linear"].out_features != after["linear"].in_features:
            raise ValueError(
                f"from_torch: layer {after['name']} ({after['linear']}) takes "
                f"{after['linear'].in_features} inputs, but the Linear before it gives "
                f"{before['linear'].out_features}"
            )
    hidden, output = layers[:-1], layers[-1]
    activations = sorted({found["activation"] for found in hidden})
    dropouts = sorted({found["dropout"] for found in hidden})
    norms = [isinstance(found.get("norm"), torch.nn.BatchNorm1d) for found in hidden]
    problems = [
        f"its hidden layers use different activations ({', '.join(activations)})"
        if len(activations) > 1
        else "",
        "its hidden layers have different dropouts" if len(dropouts) > 1 else "",
        "the output layer has dropout" if output["dropout"] > 0 else "",
        "the output layer has batch norm" if "norm" in output else "",
        "some hidden layers have batch norm and others not" if len(set(norms)) > 1 else "",
    ]
    for found in hidden:
        norm = found.get("norm")
        if norm is not None and (
            {"eps": norm.eps, "momentum": norm.momentum} != NORM_DEFAULTS
            or not (norm.affine and norm.track_running_stats)
        ):
            problems.append(
                f"{norm} is not nn.BatchNorm's (affine, running statistics, "
                f"eps={NORM_DEFAULTS['eps']:g}, momentum={NORM_DEFAULTS['momentum']:g})"
            )
    if any(problems):
        raise ValueError(
            "from_torch: this Sequential is not an nn.MLP: "
            + "; ".join(problem for problem in problems if problem)
            + ". An MLP has one activation, dropout and batch norm (or none) on every hidden "
            "layer, and neither dropout nor batch norm on its output layer"
        )
    model = nn.MLP(
        layers[0]["linear"].in_features,
        [found["linear"].out_features for found in layers],
        activation=activations[0] if hidden else "relu",
        output_activation=output["activation"],
        dropout=dropouts[0] if hidden else 0.0,
        batch_norm=any(norms),
    )
    parameters: dict[str, float] = {}
    buffers: dict[str, float] = {}
    for k, found in enumerate(layers):
        linear = found["linear"]
        weights = _numbers(torch, linear.weight)
        biases = _numbers(torch, linear.bias) if linear.bias is not None else [0.0] * len(weights)
        for j, (row, bias) in enumerate(zip(weights, biases)):
            parameters |= {f"layers.{k}.neurons.{j}.w{i + 1}": w for i, w in enumerate(row)}
            parameters[f"layers.{k}.neurons.{j}.b"] = bias
        if (norm := found.get("norm")) is not None:
            for name, tensor in (("gamma", norm.weight), ("beta", norm.bias)):
                numbers = enumerate(_numbers(torch, tensor))
                parameters |= {f"layers.{k}.norm.{name}{j + 1}": x for j, x in numbers}
            for name in ("running_mean", "running_var"):
                numbers = enumerate(_numbers(torch, getattr(norm, name)))
                buffers |= {f"layers.{k}.norm.{name}{j + 1}": x for j, x in numbers}
    model.load_state_dict(parameters)
    model.load_buffer_dict(buffers)
    model.train(training)
    return model


def _numbers(torch: Any, tensor: Any) -> Any:
    return tensor.detach().to(device="cpu", dtype=torch.float64).tolist()
