"""Neurons, layers and multi-layer perceptrons made of Values; parameter names; save and load.

A `Neuron` computes act(b + w1·x1 + ... + wn·xn): one weighted-sum node (a row of the op
table) and one activation node, or, with `expanded=True`, the products and sums one by one as
the lecture builds them (the same numbers and gradients, a bigger graph). A `Layer` is several
neurons side by side; an `MLP` is layers one after the other. Call a model with one example (a
sequence of numbers or Values) to get a small scalar graph, or with a whole batch (a 2-D array,
one row per example) to send every example through one graph at once. A `BatchNorm`
normalizes each feature over the batch; `Layer(..., batch_norm=True)` and
`MLP(..., batch_norm=True)` put one between a layer's weighted sums and its activation.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from microgradx import checks, ops
from microgradx.engine import UNREACHED, Value, record, record_each
from microgradx.errors import NUMBERS
from microgradx.files import destination, open_regular, write_text
from microgradx.recording import LAYER, MODEL, NEURON, Scope, scope

ACTIVATION_ROWS = {
    row.name: row for row in (*ops.ROWS, *(make() for make in ops.CALLS.values())) if row.init
}
"""The op table's activation rows by name (a family such as leaky_relu with its default)."""
ACTIVATIONS = ("linear", *ACTIVATION_ROWS)  # the activations a neuron may use
INITS = ("auto", "he", "xavier", "uniform")
FORMAT, VERSION = "microgradx-model", 1
MAX_BYTES = 2**24  # the largest model file load reads unless told (16 MiB, 50 bytes a parameter)
FIELDS = {  # what a model file's architecture may hold for each type: what architecture() writes
    "Neuron": ("nin", "activation", "init"),
    "Layer": ("nin", "nout", "activation", "init", "dropout", "batch_norm"),
    "MLP": ("nin", "nouts", "activation", "output_activation", "init", "dropout", "batch_norm"),
    "BatchNorm": ("n", "eps", "momentum"),
}
SIZES = {"Neuron": ("nin",), "Layer": ("nin", "nout"), "MLP": ("nin", "nouts"), "BatchNorm": ("n",)}
DROPOUT = "is the fraction of outputs to zero,"
NORM = "norm"  # the kind of a BatchNorm's scope: inside a layer, collapse="layer" draws it there


class Module:
    """Anything with parameters. Parameters are named by their place in the module tree,
    with dots: `layers.0.neurons.3.w1` is weight 1 of neuron 3 of the first layer."""

    training = True
    name = ""  # its dotted place in the model ("layers.0.neurons.3"), set by the model
    kind = "module"  # the kind of its scope: pictures collapse by NEURON or LAYER
    output_activation = "linear"  # the activation of its output (train reads the threshold)

    @property
    def scope(self) -> Scope:
        """The scope every node this module makes points to (its parameters included)."""
        try:
            return self._scope
        except AttributeError:
            self._scope: Scope = Scope(self.name or type(self).__name__, self.kind)
            return self._scope

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not say how to compute its output")

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) pairs, in a fixed order."""
        found: list[tuple[str, Value]] = []
        for name, value in vars(self).items():
            _parameters_in(value, name, found)
        return iter(found)

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of named_parameters(); a quick walk (training asks at
        every step), unless the module names its parameters itself."""
        if type(self).named_parameters is not Module.named_parameters:
            return [parameter for _, parameter in self.named_parameters()]
        found: list[Value] = []
        stack = list(vars(self).values())[::-1]
        while stack:
            value = stack.pop()
            if isinstance(value, Value):
                found.append(value)
            elif isinstance(value, Module):
                found.extend(value.parameters())
            elif isinstance(value, (list, tuple)):
                stack.extend(reversed(value))
        return found

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (gradients accumulate otherwise), marked as not
        reached yet, so that optimizers skip a parameter the next backward() does not reach."""
        for parameter in self.parameters():
            parameter.grad = UNREACHED

    def expand(self, expanded: bool = True) -> Module:
        """Record every neuron's weighted sum as products and sums (expanded=True), or as one
        weighted-sum node (False). Outputs and gradients stay the same. Returns the module."""
        expanded = checks.flag("expanded", expanded)
        for module in self.modules():
            if isinstance(module, Neuron):
                module.expanded = expanded
        return self

    def train(self, mode: bool = True) -> Module:
        """Training mode: dropout is active. Returns the module, for chaining."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout is off, so the same input always gives the same output."""
        return self.train(False)

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it."""
        yield from (module for _, module in self.named_modules())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ("") and every module inside it."""
        yield prefix, self
        for path, child in self._children():
            yield from child.named_modules(f"{prefix}.{path}" if prefix else path)

    def _children(self) -> Iterator[tuple[str, Module]]:
        """(attribute path, module) for the modules directly inside this one."""
        for attribute, value in vars(self).items():
            items = enumerate(value) if isinstance(value, (list, tuple)) else [(None, value)]
            for i, item in items:
                if isinstance(item, Module):
                    yield (attribute if i is None else f"{attribute}.{i}"), item

    def _name_everything(self) -> None:
        """Give every inner module, its scope and every parameter its dotted name (pictures and
        errors show it); each module's scope sits inside its parent's, as the modules do."""
        for name, module in self.named_modules():
            module.name, module.scope.name = name, name or type(module).__name__
            module.scope.parameters = tuple(module.parameters())  # (pictures show their grads)
            for _, child in module._children():
                child.scope.parent = module.scope
        for name, parameter in self.named_parameters():
            parameter.label = name

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by dotted name: plain numbers, ready for JSON."""
        return {name: float(parameter.data) for name, parameter in self.named_parameters()}

    def named_buffers(self) -> Iterator[tuple[str, float]]:
        """(dotted name, number) for the state a module keeps that is not a parameter, so the
        optimizer never moves it: BatchNorm's running means and variances."""
        for prefix, module in self.named_modules():
            for name, number in module._own_buffers():
                yield (f"{prefix}.{name}" if prefix else name), number

    def buffer_dict(self) -> dict[str, float]:
        """Every buffer's value by dotted name (empty for a model without BatchNorm)."""
        return dict(self.named_buffers())

    def load_buffer_dict(self, state: Mapping[str, Any]) -> None:
        """Set every buffer from `state`, checked as load_state_dict checks parameters (the
        same names, finite numbers; variances >= 0) before anything is set."""
        numbers = _checked_state(self.buffer_dict(), state, "buffer")
        negative = [name for name, x in numbers.items() if ".running_var" in name and x < 0]
        if negative:
            raise ValueError(f"buffers {_few(negative)} are variances: they must be >= 0")
        for prefix, module in self.named_modules():
            for name, _ in module._own_buffers():
                module._set_buffer(name, numbers[f"{prefix}.{name}" if prefix else name])

    def _own_buffers(self) -> Iterator[tuple[str, float]]:
        """This module's own buffers (not its children's): none, unless the module has some."""
        return iter(())

    def _set_buffer(self, name: str, number: float) -> None:
        raise KeyError(f"{type(self).__name__} has no buffer {name!r}")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from `state`. Everything is checked before anything is set,
        so a failed load leaves the model as it was."""
        own = dict(self.named_parameters())
        numbers = _checked_state(own, state, "parameter")
        for name, parameter in own.items():
            parameter.data = numbers[name]

    def architecture(self) -> dict[str, Any]:
        """What it takes to build this module again (saved by `save`)."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot be saved: it has no architecture()"
        )


class Neuron(Module):
    """act(b + w1·x1 + ... + wn·xn): a weighted sum of the inputs, then an activation.

    The weighted sum is one node of the graph (the op table's weighted_sum row, whose local
    derivatives are xi, wi and 1); expanded=True records it as products and sums instead, one
    node each, as the lecture builds a neuron. Both give the same outputs and gradients (on a
    batch, to float rounding: a matrix product adds in its own order)."""

    kind = NEURON

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        init: str = "auto",
        seed: int | None = None,
        *,
        rng: np.random.Generator | None = None,
        nout: int = 1,
        expanded: bool = False,
    ) -> None:
        checks.choice("activation", activation, ACTIVATIONS)
        checks.choice("init", init, INITS)
        self.nin = checks.whole_number("nin", nin)
        self.activation = self.output_activation = activation
        self.init, self.expanded = init, checks.flag("expanded", expanded)
        rng = rng if rng is not None else np.random.default_rng(seed)
        with scope(self.scope):  # the parameters belong to the neuron
            self.w = [
                Value(float(x), label=f"w{i + 1}")
                for i, x in enumerate(_draw(init, activation, nin, nout, rng))
            ]
            self.b = Value(0.0, label="b")
        self.scope.detail = f"{activation} neuron, {nin + 1} parameters"
        self.scope.parameters = (*self.w, self.b)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        return zip(_neuron_names(len(self.w)), [*self.w, self.b])

    def _children(self) -> Iterator[tuple[str, Module]]:  # a neuron holds no modules
        return iter(()) if type(self) is Neuron else super()._children()

    def __call__(self, x: Any) -> Value:
        return self.forward(_inputs(x, self.nin, type(self).__name__))

    def forward(self, inputs: list[Any]) -> Value:
        """The output for nin inputs: Values (numbers, or batch columns), or numbers."""
        return self.activated(self.pre_activation(inputs))

    def pre_activation(self, inputs: list[Any]) -> Value:
        """z = b + w1·x1 + ... + wn·xn, the neuron's output before its activation."""
        if len(inputs) != self.nin or set(map(type, inputs)) != {Value}:
            inputs = _inputs(inputs, self.nin, type(self).__name__)  # checked, as Values
        with scope(self.scope):
            if self.expanded:  # b + w1·x1 + w2·x2 + ..., one product and one sum at a time
                z = self.b
                for wi, xi in zip(self.w, inputs):
                    z = z + wi * xi
            else:  # the same sum as one node of the op table
                z = record(ops.weighted_sum(self.nin), (*self.w, *inputs, self.b))
        return z

    def activated(self, z: Value) -> Value:
        """act(z): the neuron's activation of z (its pre-activation, perhaps normalized)."""
        with scope(self.scope):
            out = activate(z, self.activation)
        out.label = self.name or out.label  # in a model, the output is named after the neuron
        return out

    def architecture(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        return f"Neuron({self.nin} inputs, {self.activation})"


class Layer(Module):
    """`nout` neurons that all see the same inputs; dropout (in training mode) on its outputs.

    On a batch, the layer records its neurons' nodes together (`engine.record_each`): the
    weighted sums as one matrix product, the activations as one NumPy call. They are the nodes
    each neuron records alone (the same inputs, scopes and labels; the sums to float rounding).

    With batch_norm=True a `BatchNorm` (`self.norm`) normalizes the neurons' weighted sums
    over the batch before their activation: act(BatchNorm(b + Σ wᵢ·xᵢ)). (Subtracting the
    batch mean cancels b, so in training it gets no gradient: β shifts instead. b is kept, so
    the neurons are the same with or without batch norm.)"""

    kind = LAYER

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        init: str = "auto",
        dropout: float = 0.0,
        seed: int | None = None,
        *,
        rng: np.random.Generator | None = None,
        expanded: bool = False,
        batch_norm: bool = False,
    ) -> None:
        self.nin, self.nout = checks.whole_number("nin", nin), checks.whole_number("nout", nout)
        dropout = checks.fraction("dropout", dropout, DROPOUT)
        batch_norm = checks.flag("batch_norm", batch_norm)
        self.activation, self.init, self.dropout = activation, init, dropout
        self.output_activation = activation
        self._rng = rng if rng is not None else np.random.default_rng(seed)
        self.neurons = [
            Neuron(nin, activation, init, rng=self._rng, nout=nout, expanded=expanded)
            for _ in range(nout)
        ]
        self.norm = BatchNorm(nout) if batch_norm else None  # after the neurons: its names last
        several = f"{nout} neurons, {nout * (nin + 1)} parameters"
        self.scope.detail = several if nout > 1 else self.neurons[0].scope.detail
        if self.norm is not None:
            self.scope.detail = (
                f"{nout} neurons with batch norm, {len(self.parameters())} parameters"
            )
        self._name_everything()

    def forward(self, x: Any) -> list[Value]:
        """Every neuron's output, as a list (dropout applied in training mode)."""
        inputs = _inputs(x, self.nin, type(self).__name__)
        neurons, scopes = self.neurons, [neuron.scope for neuron in self.neurons]
        with scope(self.scope):  # each neuron's nodes in its scope, as neuron.forward makes them
            if neurons[0].expanded:
                sums = [neuron.pre_activation(inputs) for neuron in neurons]
            else:  # on a batch, the layer's weighted sums in one matrix product
                weights = [(*neuron.w, *inputs, neuron.b) for neuron in neurons]
                sums = record_each(ops.weighted_sum(self.nin), weights, scopes)
            if self.norm is not None:  # normalized over the batch, before the activation
                sums = self.norm.forward(sums)
            if self.activation == "linear":
                outputs = [neuron.activated(z) for neuron, z in zip(neurons, sums)]
            else:
                row = ACTIVATION_ROWS[self.activation]
                outputs = record_each(row, [(z,) for z in sums], scopes)
                for neuron, out in zip(neurons, outputs):
                    out.label = neuron.name or out.label  # named after the neuron (activated)
        if self.training and self.dropout > 0:
            keep = 1.0 - self.dropout  # inverted dropout: survivors are scaled by 1/keep
            for i, (neuron, out) in enumerate(zip(self.neurons, outputs)):
                mask = (self._rng.random(_batch_shape(out)) < keep) / keep
                with scope(neuron.scope):  # the dropped-out output is still the neuron's
                    outputs[i] = out * mask
                outputs[i].label = out.label
        return outputs

    def __call__(self, x: Any) -> Value | list[Value]:
        outputs = self.forward(x)
        return outputs[0] if self.nout == 1 else outputs

    def architecture(self) -> dict[str, Any]:
        found = {
            "type": "Layer",
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
            "init": self.init,
            "dropout": self.dropout,
        }
        return found | ({"batch_norm": True} if self.norm is not None else {})

    def __repr__(self) -> str:
        norm = ", batch norm" if self.norm is not None else ""
        return f"Layer({self.nin} → {self.nout}, {self.activation}{norm})"


class MLP(Module):
    """A multi-layer perceptron: fully connected layers, one after the other.

    batch_norm=True puts a `BatchNorm` in every hidden layer, after its weighted sums and
    before its activation (`layers.i.norm`); the output layer has none. Train it on batches
    of at least 2 examples; `eval()` makes it use the running statistics."""

    kind = MODEL

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        init: str = "auto",
        dropout: float = 0.0,
        seed: int | None = None,
        *,
        rng: np.random.Generator | None = None,
        expanded: bool = False,
        batch_norm: bool = False,
    ) -> None:
        if isinstance(nouts, np.ndarray):
            nouts = nouts.tolist()
        dropout = checks.fraction("dropout", dropout, DROPOUT)
        if isinstance(nouts, int) or not nouts:
            raise ValueError(
                f"nouts lists the width of every layer, such as [16, 16, 1]; got {nouts!r}"
            )
        checks.choice("activation", activation, ACTIVATIONS)
        checks.choice("output_activation", output_activation, ACTIVATIONS)
        self.nin = checks.whole_number("nin", nin)
        self.nouts = [checks.whole_number("nouts", n) for n in nouts]
        self.activation, self.output_activation = activation, output_activation
        self.init, self.dropout = init, dropout
        self.batch_norm = checks.flag("batch_norm", batch_norm)
        rng = rng if rng is not None else np.random.default_rng(seed)
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                output_activation if i == last else activation,
                init,
                0.0 if i == last else dropout,
                rng=rng,
                expanded=expanded,
                batch_norm=batch_norm and i != last,
            )
            for i in range(len(self.nouts))
        ]
        self._name_everything()

    def __call__(self, x: Any) -> Value | list[Value]:
        """One example (nin numbers) or a batch (an array of shape (batch, nin))."""
        outputs: Any = _inputs(x, self.nin, type(self).__name__)
        with scope(self.scope):
            for layer in self.layers:
                outputs = layer.forward(outputs)
        result: Value | list[Value] = outputs[0] if len(outputs) == 1 else outputs
        return result

    def architecture(self) -> dict[str, Any]:
        found = {
            "type": "MLP",
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "init": self.init,
            "dropout": self.dropout,
        }
        return found | ({"batch_norm": True} if self.batch_norm else {})

    def __repr__(self) -> str:
        hidden = f" → {self.nouts[:-1]}" if len(self.nouts) > 1 else ""
        norm = ", batch norm" if self.batch_norm else ""
        count = len(self.parameters())
        return f"MLP({self.nin}{hidden} → {self.nouts[-1]}{norm}, {count} parameters)"


class BatchNorm(Module):
    """Batch normalization of n features: yᵢ = γᵢ·(xᵢ − mean)/√(var + eps) + βᵢ, feature by
    feature, as PyTorch's BatchNorm1d computes it (the same defaults).

    In training mode, mean and var are feature i's mean and biased variance over the batch,
    so it needs a batch of at least 2 examples; the running statistics then move towards
    them: running = (1 − momentum)·running + momentum·statistic, the variance unbiased
    (var·m/(m − 1) for a batch of m). In eval mode the running statistics take their place,
    so one example at a time works. γ (starting at 1) and β (at 0) are parameters (`gamma1`,
    ..., `beta1`, ...); the running statistics are buffers (`running_mean1`, ...,
    `running_var1`, ...): saved with the model, never moved by an optimizer. Every node is an
    ordinary op (mean, -, **2, sqrt, /, ·, +), so backward is the engine's own."""

    kind = NORM

    def __init__(self, n: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        self.n = checks.whole_number("n (the number of features)", n)
        self.eps = checks.finite_number("eps", eps)
        if not self.eps > 0:
            raise ValueError(f"eps must be > 0: it keeps √(var + eps) away from 0; got {eps!r}")
        self.momentum = checks.finite_number("momentum", momentum)
        if not 0 <= self.momentum <= 1:
            raise ValueError(
                "momentum must be in [0, 1]: how far the running statistics move towards each "
                f"batch's (PyTorch's default is 0.1); got {momentum!r}"
            )
        with scope(self.scope):  # the parameters belong to the normalization
            self.gamma = [Value(1.0, label=f"gamma{i + 1}") for i in range(self.n)]
            self.beta = [Value(0.0, label=f"beta{i + 1}") for i in range(self.n)]
        self.running_mean, self.running_var = np.zeros(self.n), np.ones(self.n)
        self.scope.detail = f"batch norm of {self.n} features, {2 * self.n} parameters"
        self.scope.parameters = (*self.gamma, *self.beta)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        names = [f"{which}{i + 1}" for which in ("gamma", "beta") for i in range(self.n)]
        return zip(names, [*self.gamma, *self.beta])

    def __call__(self, x: Any) -> Value | list[Value]:
        """n features: Values (one per feature, each a batch), a 2-D array (batch, n), or in
        eval mode also one example (n numbers)."""
        outputs = self.forward(x)
        return outputs[0] if self.n == 1 else outputs

    def forward(self, x: Any) -> list[Value]:
        """Every feature normalized: over the batch in training mode (which also updates the
        running statistics), with the running statistics in eval mode."""
        features = _inputs(x, self.n, type(self).__name__)
        if not self.training:
            with scope(self.scope):
                return [
                    self.gamma[i] * ((feature - mean) / math.sqrt(var + self.eps)) + self.beta[i]
                    for i, (feature, mean, var) in enumerate(
                        zip(features, self.running_mean.tolist(), self.running_var.tolist())
                    )
                ]
        size = self._batch_size(features)
        outputs = []
        with scope(self.scope):
            for i, feature in enumerate(features):
                mean = feature.mean()
                centered = feature - mean
                variance = (centered**2).mean()  # biased: divided by the batch size
                outputs.append(
                    self.gamma[i] * (centered / (variance + self.eps).sqrt()) + self.beta[i]
                )
                unbiased = variance.data * size / (size - 1)
                keep, move = 1.0 - self.momentum, self.momentum
                self.running_mean[i] = keep * self.running_mean[i] + move * mean.data
                self.running_var[i] = keep * self.running_var[i] + move * unbiased
        return outputs

    def architecture(self) -> dict[str, Any]:
        return {"type": "BatchNorm", "n": self.n, "eps": self.eps, "momentum": self.momentum}

    def __repr__(self) -> str:
        return f"BatchNorm({self.n} features, eps={self.eps:g}, momentum={self.momentum:g})"

    def _own_buffers(self) -> Iterator[tuple[str, float]]:
        for stat in ("running_mean", "running_var"):
            for i, number in enumerate(getattr(self, stat).tolist()):
                yield f"{stat}{i + 1}", number

    def _set_buffer(self, name: str, number: float) -> None:
        stat = name.rstrip("0123456789")  # running_mean3: entry 2 of running_mean
        getattr(self, stat)[int(name[len(stat) :]) - 1] = number

    def _batch_size(self, features: list[Value]) -> int:
        """The batch size, if it is at least 2 for every feature (the variance over one
        example is 0), else an error saying what to do."""
        sizes = {f.data.size if isinstance(f.data, np.ndarray) else 0 for f in features}
        if len(sizes) == 1 and min(sizes) >= 2:
            return sizes.pop()
        got = {0: "one example (numbers, not a batch)", 1: "a batch of 1 example"}.get(
            max(sizes) if len(sizes) == 1 else -1, "features of different batch sizes"
        )
        who = f"BatchNorm {self.name}" if self.name else "BatchNorm"
        raise ValueError(
            f"{who} in training mode normalizes each feature over the batch, so it needs a "
            f"batch of at least 2 examples (a 2-D array, one row per example); got {got}. "
            "Train on batches of 2 or more (fit's batch_size >= 2), or call model.eval() "
            "first to use the running statistics"
        )


def activate(x: Value, activation: str) -> Value:
    """Apply an activation by name: linear (none), or an activation row of the op table."""
    return x if activation == "linear" else record(ACTIVATION_ROWS[activation], (x,))


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write the model as JSON (format, version, architecture, parameters, and buffers if it
    has any: BatchNorm's running statistics), atomically: the file is either the complete new
    model or untouched."""
    path = destination(path)  # not empty, not a folder
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save {path}: the folder {path.parent} does not exist")
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.architecture(),
        "parameters": model.state_dict(),
    }
    if buffers := model.buffer_dict():  # BatchNorm's running statistics (a model without
        document["buffers"] = buffers  # any writes the same file as before they existed)
    try:
        text = json.dumps(document, indent=1, allow_nan=False)
    except ValueError:
        numbers = {**document["parameters"], **buffers}
        bad = [name for name, number in numbers.items() if not math.isfinite(number)]
        raise ValueError(
            f"cannot save {path}: parameters {_few(bad)} are not finite numbers"
        ) from None
    write_text(path, text)


def load(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Module:
    """Read a model written by `save`. A truncated, corrupt or mismatching file (a BatchNorm
    model's without its running statistics too) is a ValueError that names the file and the
    problem. Everything is checked before the model is built: the file must hold exactly the
    parameters its architecture implies. A file larger than `max_bytes` is refused unread,
    and anything but a regular file (a FIFO, a socket, a device such as /dev/zero) unopened."""
    path = Path(path)
    max_bytes = checks.whole_number("max_bytes", max_bytes)
    with open_regular(path) as file:  # not a FIFO (open() would hang) nor a device
        content = file.read(max_bytes + 1)  # no more: a file may never end (/dev/zero)
    if len(content) > max_bytes:
        raise ValueError(
            f"{path} is larger than max_bytes={max_bytes:,} bytes, the most nn.load reads (a "
            f"model of about {max_bytes // 50:,} parameters); if it is a model you trust, "
            "pass a larger max_bytes: nn.load(path, max_bytes=...)"
        )
    try:
        document = json.loads(content.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, a 5,000-digit int
        raise ValueError(
            f"{path} is not a microgradx model: it is not valid JSON ({error}); "
            "is the file truncated?"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path} is not a microgradx model: no "format": "{FORMAT}" field')
    version = document.get("version")
    if type(version) is not int or version != VERSION:  # (True == 1, but is not a version)
        raise ValueError(
            f"{path} has model format version {_shown(version)}; "
            f"this microgradx reads version {VERSION}"
        )
    try:
        build, arguments = _checked_architecture(document)
        model = build(**arguments)
        model.load_state_dict(document["parameters"])
        model.load_buffer_dict(document.get("buffers", {}))  # BatchNorm's running statistics
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    return model


# --- helpers ------------------------------------------------------------------------------


def _parameters_in(value: Any, name: str, found: list[tuple[str, Value]]) -> None:
    """Add (dotted name, parameter) to found for a Value, a Module, or a list of them."""
    if isinstance(value, Value):
        found.append((name, value))
    elif isinstance(value, Module):
        found.extend((f"{name}.{inner}", p) for inner, p in value.named_parameters())
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _parameters_in(item, f"{name}.{i}", found)


def _inputs(x: Any, nin: int, who: str) -> list[Any]:
    """One example (a sequence of nin numbers or Values) or a batch (array (batch, nin)), as a
    list of nin Values: numbers become inputs x1, x2, ...; a batch gives one column each."""
    if x.__class__ is list and len(x) == nin and set(map(type, x)) == {Value}:
        return x  # a layer's outputs, as the next layer gets them
    if isinstance(x, np.ndarray) and x.ndim > 2:
        raise ValueError(f"{who} takes a batch as a 2-D array (batch, {nin}); got shape {x.shape}")
    if isinstance(x, np.ndarray) and x.ndim == 2:
        if x.shape[1] != nin:
            raise ValueError(
                f"{who} expects {nin} inputs per example, "
                f"got a batch of shape {x.shape} ({x.shape[1]} inputs)"
            )
        return [Value(x[:, j], label=f"x{j + 1}") for j in range(nin)]
    if isinstance(x, Value) or not isinstance(x, Iterable) or isinstance(x, (str, bytes)):
        raise TypeError(
            f"{who} takes a sequence of {nin} numbers or Values (one example), or a "
            f"2-D array of shape (batch, {nin}); got {type(x).__name__}"
        )
    items = list(x)
    rows = [item for item in items if isinstance(item, (list, tuple, np.ndarray))]
    if rows:  # a batch written as a list of lists (X.tolist())
        try:
            shape = f"shape {np.shape(items)}"
        except ValueError:
            shape = "rows of different lengths"
        got = f"{type(x).__name__} of {type(rows[0]).__name__}s ({shape})"
        batch = f"a 2-D NumPy array of shape (batch, {nin}), one row per example"
        raise TypeError(f"{who} got a {got}: for a batch, pass {batch}: model(np.asarray(X))")
    if len(items) != nin:
        raise ValueError(f"{who} expects {nin} inputs per example, got {len(items)}")
    for item in items:
        if not isinstance(item, (int, float, np.integer, np.floating, Value)) or isinstance(
            item, bool
        ):
            raise TypeError(
                f"{who} takes one example as {nin} numbers or Values; got an item of type "
                f"{type(item).__name__}: for several examples pass a 2-D array (batch, {nin})"
            )
    return [x if isinstance(x, Value) else Value(x, label=f"x{j + 1}") for j, x in enumerate(items)]


@functools.lru_cache(maxsize=64)
def _neuron_names(nin: int) -> tuple[str, ...]:
    return (*(f"w{i + 1}" for i in range(nin)), "b")


def _batch_shape(value: Value) -> tuple[int, ...]:
    return value.data.shape if isinstance(value.data, np.ndarray) else ()


def _draw(init: str, activation: str, nin: int, nout: int, rng: np.random.Generator) -> Any:
    """Initial weights: He for ReLU-like activations, Xavier for the others, or U(-1, 1)."""
    if init == "auto":  # as the activation's row says; a linear neuron takes xavier
        row = ACTIVATION_ROWS.get(activation)
        init = row.init if row is not None and row.init is not None else "xavier"
    if init == "uniform":
        return rng.uniform(-1, 1, nin)
    scale = math.sqrt(2 / nin) if init == "he" else math.sqrt(2 / (nin + nout))
    return rng.normal(0, scale, nin)


def _checked_state(own: Mapping[str, Any], state: Any, what: str) -> dict[str, float]:
    """state's numbers for exactly own's names, as floats; else an error saying which names
    are missing or unexpected, or which entry is not a finite number (what: "parameter")."""
    dict_name = "state dict" if what == "parameter" else f"{what} dict"
    if not isinstance(state, Mapping):
        raise TypeError(f"a {dict_name} maps {what} names to numbers, got {type(state).__name__}")
    missing, unexpected = sorted(own.keys() - state.keys()), sorted(state.keys() - own.keys())
    if missing or unexpected:
        raise ValueError(
            f"the {dict_name} does not match this model ({len(own)} {what}s, {len(state)} "
            f"given): missing {_few(missing)}, unexpected {_few(unexpected)}"
        )
    for name in own:
        number = state[name]
        if not isinstance(number, NUMBERS) or isinstance(number, bool):
            got = f"{type(number).__name__} {_shown(number)}"
            raise ValueError(
                f"{what} {name!r} must be a finite number (an int or a float), got {got}"
            )
        try:
            finite = math.isfinite(number)  # (a NumPy float too: compared as a float)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise ValueError(f"{what} {name!r} must be a finite number, got {_shown(number)}")
    return {name: float(state[name]) for name in own}


def _checked_architecture(document: dict[str, Any]) -> tuple[type[Module], dict[str, Any]]:
    """The class and the keyword arguments a model file's architecture asks for, once its sizes
    are known to imply exactly the parameters the file holds (computed, not built), and those
    parameters are finite numbers with the right names; else a ValueError saying what is wrong."""
    architecture, parameters = document.get("architecture"), document.get("parameters")
    builders: dict[str, type[Module]] = {
        "MLP": MLP, "Layer": Layer, "Neuron": Neuron, "BatchNorm": BatchNorm
    }  # fmt: skip
    if not isinstance(architecture, dict) or architecture.get("type") not in tuple(builders):
        raise ValueError(f"the architecture must name a type among {sorted(builders)}")
    kind = architecture["type"]  # (compared with ==, as a tuple's items: a list is no type)
    arguments = {key: value for key, value in architecture.items() if key != "type"}
    fields, sizes = FIELDS[kind], SIZES[kind]
    unknown = [key for key in arguments if key not in fields]
    missing = [key for key in sizes if key not in arguments]
    if unknown or missing:
        problem = f"unknown fields {_few(unknown)}" if unknown else f"no {_few(missing)}"
        raise ValueError(
            f"the {kind} architecture has {problem}: it needs {', '.join(sizes)} and may "
            f"have {', '.join(key for key in fields if key not in sizes)}"
        )
    if not isinstance(parameters, dict):
        raise ValueError(
            f'"parameters" must map parameter names to numbers, got {_shown(parameters)}'
        )
    implied = _parameter_count(kind, arguments)
    if implied != len(parameters):
        raise ValueError(
            f"the architecture ({', '.join(f'{key}={_shown(arguments[key])}' for key in sizes)}) "
            f"implies {_count(implied)} parameters, but the file holds {len(parameters):,}"
        )
    _checked_state(dict.fromkeys(_parameter_names(kind, arguments)), parameters, "parameter")
    return builders[kind], arguments


def _parameter_count(kind: str, architecture: Mapping[str, Any]) -> int:
    """How many parameters a model of this architecture has, computed without building it."""
    if kind == "MLP":
        return sum(_parameter_count("Layer", layer) for layer in _mlp_layers(architecture))
    if kind == "Neuron":
        return checks.whole_number("nin", architecture["nin"]) + 1
    if kind == "BatchNorm":
        return 2 * checks.whole_number("n", architecture["n"])
    nin = checks.whole_number("nin", architecture["nin"])
    nout = checks.whole_number("nout", architecture["nout"])
    norm = checks.flag("batch_norm", architecture.get("batch_norm", False))
    return nout * (nin + 1) + (2 * nout if norm else 0)


def _parameter_names(kind: str, architecture: Mapping[str, Any]) -> Iterator[str]:
    """The names of a model's parameters, in order, without building it (sizes checked)."""
    if kind == "Neuron":
        yield from _neuron_names(architecture["nin"])
    elif kind == "BatchNorm":
        n = architecture["n"]
        yield from (f"{which}{i + 1}" for which in ("gamma", "beta") for i in range(n))
    elif kind == "Layer":
        for j in range(architecture["nout"]):
            yield from (f"neurons.{j}.{name}" for name in _neuron_names(architecture["nin"]))
        if architecture.get("batch_norm", False):
            norm = _parameter_names("BatchNorm", {"n": architecture["nout"]})
            yield from (f"norm.{name}" for name in norm)
    else:
        for i, layer in enumerate(_mlp_layers(architecture)):
            yield from (f"layers.{i}.{name}" for name in _parameter_names("Layer", layer))


def _mlp_layers(architecture: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The sizes of an MLP's layers (nin, nout, batch_norm), as MLP() makes them."""
    nouts = architecture["nouts"]
    if not isinstance(nouts, list) or not nouts:
        raise ValueError(
            f"nouts lists the width of every layer, such as [16, 16, 1]; got {_shown(nouts)}"
        )
    sizes = [architecture["nin"], *nouts]
    norm = checks.flag("batch_norm", architecture.get("batch_norm", False))
    last = len(nouts) - 1
    return [
        {"nin": sizes[i], "nout": sizes[i + 1], "batch_norm": norm and i != last}
        for i in range(len(nouts))
    ]


def _count(n: int) -> str:
    """A count with thousands separators, or its order of magnitude (a count of 10^8000)."""
    return f"{n:,}" if n < 10**15 else f"about 10^{int(n.bit_length() * math.log10(2))}"


def _shown(x: Any, limit: int = 40) -> str:
    """repr(x), clipped to `limit` characters (an int too long to print: said so)."""
    try:
        text = repr(x)
    except ValueError:  # Python refuses to print an int of more than 4,300 digits
        return "an int too long to print"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _few(names: Sequence[str], limit: int = 5) -> str:
    if not names:
        return "none"
    shown = ", ".join(_shown(name, 60) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
