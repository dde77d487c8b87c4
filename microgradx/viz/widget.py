"""The live graph in a notebook: move an input or a weight, and the engine runs forward and
backward again on the same graph; every value and gradient on the picture changes in place.

    viz.live(lambda x, w: (x * w).tanh(), x=2.0, w=(-3.0, -5, 5))   # a number, or (it, low, high)
    viz.live(model, [0.5, -1.0])                # an nn model at one example: inputs and weights
    train.fit(..., callbacks=[viz.live(model, example, every=10)])   # training, as it happens

An anywidget (`pip install 'microgradx[widget]'`): its view is the step-by-step player (the
same module, player.js) on a layout made once, with a slider for each input and parameter.
Python owns the numbers: a slider sets `values`, the engine recomputes (functional.recompute)
and walks backward (the player's own steps), and `film`, `grads` and `output` go back to the
view, which rewrites texts only. Its display data also carries a picture (SVG) of the graph
with every gradient known, which a saved notebook shows where nothing runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

try:
    import anywidget
    import traitlets
except ImportError:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "viz.live needs anywidget: pip install 'microgradx[widget]' (or pip install anywidget)"
    ) from None

from microgradx.engine import Value, backpropagate
from microgradx.functional import recompute
from microgradx.nn import Module
from microgradx.viz.player import (
    Frames,
    _last_picture,
    _pad,
    _svg,
    film_data,
    frames,
    source,
    view_html,
)
from microgradx.viz.scene import FIGURE_SPACE, number

ROOM = "-0.000e-00"  # the widest number a box may show (number() writes 4 figures): boxes fit it
Range = tuple[float, float, float]  # (value, low, high)


class Live(anywidget.AnyWidget):
    """The graph behind one output, live: `values` (inputs' and parameters' numbers by name) in,
    `grads` (d output / d each of them), `output` and the player's texts (`film`) out."""

    _esm = source("player.js") + "\n" + source("widget.js")  # one module: the player, and its view
    _css = source("player.css")
    view = traitlets.Unicode("").tag(sync=True)  # the player's markup and the picture: sent once
    film = traitlets.Dict().tag(sync=True)  # every step's texts at the point shown
    inputs: traitlets.List[Any] = traitlets.List().tag(sync=True)  # sliders: name, low, high, step
    values = traitlets.Dict().tag(sync=True)  # name -> its number now
    grads = traitlets.Dict().tag(sync=True)  # name -> d(output)/d(it) now
    output = traitlets.Float(0.0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)  # why the last move was refused ("" if it was not)
    height = traitlets.Int(560).tag(sync=True)  # px

    def __init__(
        self,
        root: Value,
        leaves: Mapping[str, Value],
        ranges: Mapping[str, tuple[float, float]],
        every: int = 10,
        collapse: str | None = None,
        height: int = 560,
    ) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every must be a whole number of steps, 1 or more; got {every!r}")
        self._root, self._leaves, self._collapse = root, dict(leaves), collapse
        self.every = every
        self._film = frames(root, collapse=collapse)
        data, grads, params = self._film.widest()
        svg = _svg(  # the layout, once: every box wide enough for any number it may show
            self._film.scene,
            {n: _pad(t, f"data {ROOM}") for n, t in data.items()},
            {n: _pad(t, f"grad {ROOM}") for n, t in grads.items()},
            {g: _pad(t, t + FIGURE_SPACE * (len(t) // 2)) for g, t in params.items()},
        )
        sliders = [
            {"name": name, "low": low, "high": high, "step": _step(low, high)}
            for name, (low, high) in ranges.items()
        ]
        super().__init__(view=view_html(svg), inputs=sliders, height=height, **self._state())

    def __repr__(self) -> str:
        scene = self._film.scene
        return (
            f"Live({scene.names[scene.root]} = {number(self._root.data)}, "
            f"{len(self._leaves)} inputs and parameters: {', '.join(self._leaves)})"
        )

    def set(self, **values: float) -> None:
        """Move some inputs or parameters, as their sliders do: live.set(x=1.0, w=-2.0)."""
        unknown = [name for name in values if name not in self._leaves]
        if unknown:
            known = ", ".join(self._leaves)
            raise TypeError(f"live.set: no input or parameter named {unknown[0]!r}; known: {known}")
        self.values = {**self.values, **values}

    def refresh(self) -> None:
        """Forward and backward again on the graph as its inputs are now (after a slider, or an
        optimizer step changed them); the view's texts follow. No node's .grad is touched."""
        recompute(self._root)
        self._film = frames(self._root, collapse=self._collapse)
        with self.hold_sync():
            for name, value in self._state().items():
                setattr(self, name, value)

    def _state(self) -> dict[str, Any]:
        """What the view is sent: the film, and every input's value and gradient."""
        found = backpropagate(self._root)  # the engine's gradients (frames walked the same)
        return {
            "film": film_data(self._film),
            "values": {name: float(leaf.data) for name, leaf in self._leaves.items()},
            "grads": {name: float(found.get(leaf, 0.0)) for name, leaf in self._leaves.items()},
            "output": float(self._root.data),
            "error": "",
        }

    @traitlets.observe("values")
    def _moved(self, change: dict[str, Any]) -> None:
        """A slider moved (or Python set values): recompute, or say why not and move back."""
        moved = {
            name: float(value)
            for name, value in change["new"].items()
            if name in self._leaves and self._leaves[name].data != value
        }
        if not moved:
            return
        before = {name: self._leaves[name].data for name in moved}
        for name, value in moved.items():
            self._leaves[name].data = value
        try:
            self.refresh()
        except (ValueError, ArithmeticError) as error:  # log(-1), an overflow: say it, go back
            for name, value in before.items():
                self._leaves[name].data = value
            self.refresh()
            self.error = str(error)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and for viewers that run no script the graph with every gradient known."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:  # pragma: no cover - a widget without a view
            return None
        data, metadata = bundle
        return {**data, "image/svg+xml": _last_picture(self._film)}, metadata

    # As a training callback (train.fit(callbacks=[live])): the graph follows the weights.

    def on_step_end(self, state: Any) -> None:
        """Every `every` optimizer steps: the example's values and gradients at the new weights."""
        if state.step % self.every == 0:
            self.refresh()

    def on_train_end(self, state: Any) -> None:
        """At the end: the trained (or restored best) weights."""
        self.refresh()

    @property
    def film_frames(self) -> Frames:
        """The player's steps at the point shown (viz.player's data, for tests and pictures)."""
        return self._film


def live(
    target: Callable[..., Any] | Module,
    example: Any = None,
    every: int = 10,
    collapse: str | None = None,
    height: int = 560,
    **inputs: float | tuple[float, float, float],
) -> Live:
    """A live graph: live(f, x=2.0, w=(-3.0, -5, 5)) for a function of named numbers (each a
    number, or (number, low, high) for its slider's range), or live(model, example) for an nn
    model at one example (its inputs x1, x2, ... and every parameter get a slider; moving a
    parameter's changes the model's weight). every: refresh every that many optimizer steps
    when passed to train.fit(callbacks=[...]). collapse="neuron" draws a neuron as one box."""
    given: dict[str, Range] = {}
    if isinstance(target, Module):
        if inputs:
            raise TypeError(f"viz.live(model, example) takes no named inputs; got {list(inputs)}")
        if example is None:
            raise TypeError("viz.live(model, example): give one example, e.g. [0.5, -1.0]")
        numbers = [float(x) for x in example]
        leaves = {f"x{i + 1}": Value(x, label=f"x{i + 1}") for i, x in enumerate(numbers)}
        root = target(list(leaves.values()))
        leaves.update(target.named_parameters())
    else:
        if example is not None:
            raise TypeError("viz.live(f, x=..., w=...): name f's inputs, as f's parameters")
        if not callable(target) or not inputs:
            raise TypeError("viz.live(f, x=2.0, w=-3.0): a function and a number for each input")
        given = {name: _range(name, spec) for name, spec in inputs.items()}
        leaves = {name: Value(spec[0], label=name) for name, spec in given.items()}
        root = target(**leaves)
    if not isinstance(root, Value):
        raise TypeError(
            f"viz.live draws the graph behind one Value; the call gave {type(root).__name__} "
            "(a model with several outputs: pass a loss, or sum them, in a function)"
        )
    ranges = {}
    for name, leaf in leaves.items():
        spec = given.get(name)
        ranges[name] = (spec[1], spec[2]) if spec else _around(float(leaf.data))
    return Live(root, leaves, ranges, every, collapse, height)


def _range(name: str, spec: float | tuple[float, float, float]) -> Range:
    """An input's (value, low, high): a number gets a range around it."""
    if isinstance(spec, tuple):
        if len(spec) != 3 or not spec[1] < spec[2]:
            raise ValueError(f"{name}: give a number, or (number, low, high) with low < high")
        value, low, high = (float(x) for x in spec)
        return value, min(low, value), max(high, value)
    value = float(spec)
    return (value, *_around(value))


def _step(low: float, high: float) -> float:
    """A slider's step: a round number (0.01, 0.1, ...), a hundred or more steps across."""
    return float(10 ** math.floor(math.log10((high - low) / 100)))


def _around(value: float) -> tuple[float, float]:
    """A slider's range about a value: ±2|value|, and at least ±1."""
    half = max(1.0, 2 * abs(value))
    return value - half, value + half
