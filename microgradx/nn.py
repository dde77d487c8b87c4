"""Neurons, layers and multi-layer perceptrons made of Values; parameter names; save and load.

A `Neuron` computes act(b + w1·x1 + ... + wn·xn): one weighted-sum node (a row of the op
table) and one activation node, or, with `expanded=True`, the products and sums one by one as
the lecture builds them (the same numbers and gradients, a bigger graph). A `Layer` is several
neurons side by side; an `MLP` is layers one after the other. Call a model with one example (a
sequence of numbers or Values) to get a small scalar graph, or with a whole batch (a 2-D array,
one row per example) to send every example through one graph at once.
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
from microgradx.engine import Value, record
from microgradx.files import write_text
from microgradx.recording import LAYER, MODEL, NEURON, Scope, scope

ACTIVATION_ROWS = {
    row.name: row for row in (*ops.ROWS, *(make() for make in ops.CALLS.values())) if row.init
}
"""The op table's activation rows by name (a family such as leaky_relu with its default)."""
ACTIVATIONS = ("linear", *ACTIVATION_ROWS)  # the activations a neuron may use
INITS = ("auto", "he", "xavier", "uniform")
FORMAT, VERSION = "microgradx-model", 1
DROPOUT = "is the fraction of outputs to zero,"


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
        """Set every parameter's gradient to 0 (gradients accumulate otherwise)."""
        for parameter in self.parameters():
            parameter.grad = 0.0

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
            for _, child in module._children():
                child.scope.parent = module.scope
        for name, parameter in self.named_parameters():
            parameter.label = name

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by dotted name: plain numbers, ready for JSON."""
        return {name: float(parameter.data) for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from `state`. Everything is checked before anything is set,
        so a failed load leaves the model as it was."""
        if not isinstance(state, Mapping):
            raise TypeError(
                f"a state dict maps parameter names to numbers, got {type(state).__name__}"
            )
        own = dict(self.named_parameters())
        missing, unexpected = sorted(own.keys() - state.keys()), sorted(state.keys() - own.keys())
        if missing or unexpected:
            raise ValueError(
                f"the state dict does not match this model ({len(own)} parameters, {len(state)} "
                f"given): missing {_few(missing)}, unexpected {_few(unexpected)}"
            )
        for name in own:
            number = state[name]
            if (
                isinstance(number, bool)
                or not isinstance(number, (int, float))
                or not math.isfinite(number)
            ):
                raise ValueError(f"parameter {name!r} must be a finite number, got {number!r}")
        for name, parameter in own.items():
            parameter.data = float(state[name])

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

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        return zip(_neuron_names(len(self.w)), [*self.w, self.b])

    def _children(self) -> Iterator[tuple[str, Module]]:  # a neuron holds no modules
        return iter(()) if type(self) is Neuron else super()._children()

    def __call__(self, x: Any) -> Value:
        return self.forward(_inputs(x, self.nin, type(self).__name__))

    def forward(self, inputs: list[Any]) -> Value:
        """The output for nin inputs: Values (numbers, or batch columns), or numbers."""
        if len(inputs) != self.nin or set(map(type, inputs)) != {Value}:
            inputs = _inputs(inputs, self.nin, type(self).__name__)  # checked, as Values
        with scope(self.scope):
            if self.expanded:  # b + w1·x1 + w2·x2 + ..., one product and one sum at a time
                act = self.b
                for wi, xi in zip(self.w, inputs):
                    act = act + wi * xi
            else:  # the same sum as one node of the op table
                act = record(ops.weighted_sum(self.nin), (*self.w, *inputs, self.b))
            out = activate(act, self.activation)
        out.label = self.name or out.label  # in a model, the output is named after the neuron
        return out

    def architecture(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        return f"Neuron({self.nin} inputs, {self.activation})"


class Layer(Module):
    """`nout` neurons that all see the same inputs; dropout (in training mode) on its outputs."""

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
    ) -> None:
        self.nin, self.nout = checks.whole_number("nin", nin), checks.whole_number("nout", nout)
        dropout = checks.fraction("dropout", dropout, DROPOUT)
        self.activation, self.init, self.dropout = activation, init, dropout
        self.output_activation = activation
        self._rng = rng if rng is not None else np.random.default_rng(seed)
        self.neurons = [
            Neuron(nin, activation, init, rng=self._rng, nout=nout, expanded=expanded)
            for _ in range(nout)
        ]
        several = f"{nout} neurons, {nout * (nin + 1)} parameters"
        self.scope.detail = several if nout > 1 else self.neurons[0].scope.detail
        self._name_everything()

    def forward(self, x: Any) -> list[Value]:
        """Every neuron's output, as a list (dropout applied in training mode)."""
        inputs = _inputs(x, self.nin, type(self).__name__)
        with scope(self.scope):
            outputs = [neuron.forward(inputs) for neuron in self.neurons]
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
        return {
            "type": "Layer",
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
            "init": self.init,
            "dropout": self.dropout,
        }

    def __repr__(self) -> str:
        return f"Layer({self.nin} → {self.nout}, {self.activation})"


class MLP(Module):
    """A multi-layer perceptron: fully connected layers, one after the other."""

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
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "init": self.init,
            "dropout": self.dropout,
        }

    def __repr__(self) -> str:
        hidden = f" → {self.nouts[:-1]}" if len(self.nouts) > 1 else ""
        return f"MLP({self.nin}{hidden} → {self.nouts[-1]}, {len(self.parameters())} parameters)"


def activate(x: Value, activation: str) -> Value:
    """Apply an activation by name: linear (none), or an activation row of the op table."""
    return x if activation == "linear" else record(ACTIVATION_ROWS[activation], (x,))


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write the model as JSON (format, version, architecture, parameters), atomically: the
    file is either the complete new model or untouched."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save {path}: the folder {path.parent} does not exist")
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.architecture(),
        "parameters": model.state_dict(),
    }
    try:
        text = json.dumps(document, indent=1, allow_nan=False)
    except ValueError:
        bad = [name for name, number in document["parameters"].items() if not math.isfinite(number)]
        raise ValueError(
            f"cannot save {path}: parameters {_few(bad)} are not finite numbers"
        ) from None
    write_text(path, text)


def load(path: str | os.PathLike[str]) -> Module:
    """Read a model written by `save`. A truncated, corrupt or mismatching file is an error
    that names the file and the problem."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ValueError(
            f"{path} is not a microgradx model: it is not valid JSON ({error}); "
            "is the file truncated?"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path} is not a microgradx model: no "format": "{FORMAT}" field')
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path} has model format version {document.get('version')!r}; "
            f"this microgradx reads version {VERSION}"
        )
    architecture, parameters = document.get("architecture"), document.get("parameters")
    builders = {"MLP": MLP, "Layer": Layer, "Neuron": Neuron}
    if not isinstance(architecture, dict) or architecture.get("type") not in builders:
        raise ValueError(f"{path}: the architecture must name a type among {sorted(builders)}")
    arguments = {key: value for key, value in architecture.items() if key != "type"}
    try:
        model: Module = builders[architecture["type"]](**arguments)
        model.load_state_dict(parameters)  # type: ignore[arg-type]  # checked there
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
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


def _few(names: Sequence[str], limit: int = 5) -> str:
    if not names:
        return "none"
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
