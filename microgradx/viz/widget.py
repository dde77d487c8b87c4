"""The live graph in a notebook: move an input or a weight, and the engine runs forward and
backward again on the same graph; every value and gradient on the picture changes in place.

    viz.live(lambda x, w: (x * w).tanh(), x=2.0, w=(-3.0, -5, 5))   # a number, or (it, low, high)
    viz.live(model, [0.5, -1.0])                # an nn model at one example: inputs and weights
    train.fit(..., callbacks=[viz.live(model, example, X=X, y=y)])   # training, as it happens

An anywidget (`pip install 'microgradx[widget]'`): its view is the step-by-step player (the
same module, player.js) on a layout made once, with a slider for each input and parameter.
Python owns the numbers: a slider sets `values`, the engine recomputes (functional.recompute)
and walks backward (the player's own steps), and `film`, `grads` and `output` go back to the
view, which rewrites texts only. Its display data also carries a picture (SVG) of the graph
with every gradient known, which a saved notebook shows where nothing runs.

As a training callback it also shows, once training starts, the loss curve so far (`curve`)
and, for a model of 2 inputs, its output over a grid of the input plane (`grid`): the decision
boundary, with the training points X, y if given. Both follow the graph every `every` steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

try:
    import anywidget
    import traitlets
except ImportError:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "viz.live needs anywidget: pip install 'microgradx[widget]' (or pip install anywidget)"
    ) from None

from microgradx.checks import _clip, finite_number, whole_number
from microgradx.engine import Value
from microgradx.functional import recompute
from microgradx.nn import Module
from microgradx.train import decision_threshold, on_plane, plane_around
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
from microgradx.viz.scene import FIGURE_SPACE, field_word, number

ROOM = "-0.000e-00"  # the widest number a box may show (number() writes 4 figures): boxes fit it
Range = tuple[float, float, float]  # (value, low, high)
CURVE_POINTS = 200  # the loss curve sent: at most about this many step losses
GRID = 32  # the decision boundary: the model's output on GRID x GRID points (8 KB as float64)
PLANE = (-1.5, 1.5, -1.5, 1.5)  # the input plane drawn when no X is given: x1 from, to; x2 ...


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
    # while training (fit(callbacks=[live])): the panels beside the graph; hidden until then
    training = traitlets.Bool(False).tag(sync=True)
    curve: traitlets.List[float] = traitlets.List().tag(sync=True)  # sample_losses(step_loss)
    steps = traitlets.Int(0).tag(sync=True)  # optimizer steps so far (the curve's last x)
    # the model's output on the grid, row by row from the top (x2 high) and left (x1 low):
    # GRID * GRID little-endian float64 (sent as binary); empty unless the model has 2 inputs
    grid = traitlets.Bytes(b"").tag(sync=True)
    grid_size = traitlets.Int(0).tag(sync=True)
    plane: traitlets.List[float] = traitlets.List().tag(sync=True)  # [x1 low, high, x2 low, high]
    threshold = traitlets.Float(0.0).tag(sync=True)  # train.decision_threshold(model)
    points: traitlets.List[Any] = traitlets.List().tag(sync=True)  # [x1, x2, 1 if y > 0 else 0]

    def __init__(
        self,
        root: Value,
        leaves: Mapping[str, Value],
        ranges: Mapping[str, tuple[float, float]],
        every: int = 10,
        collapse: str | None = None,
        height: int = 560,
        model: Module | None = None,
        plane: tuple[float, float, float, float] | None = None,
        points: Sequence[tuple[float, float, int]] = (),
    ) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every must be a whole number of steps, 1 or more; got {every!r}")
        whole_number("height (pixels)", height)
        self._root, self._leaves, self._collapse = root, dict(leaves), collapse
        self.every = every
        self._model = model  # the boundary's model: one of 2 inputs (else None, no boundary)
        self._plane = plane
        self._film = frames(root, collapse=collapse)
        data, grads, params = self._film.widest()
        svg = _svg(  # the layout, once: every box wide enough for any number it may show
            self._film.scene,
            {n: _pad(t, f"{field_word('data')} {ROOM}") for n, t in data.items()},
            {n: _pad(t, f"{field_word('grad')} {ROOM}") for n, t in grads.items()},
            {g: _pad(t, t + FIGURE_SPACE * (len(t) // 2)) for g, t in params.items()},
        )
        sliders = [
            {"name": name, "low": low, "high": high, "step": _step(low, high)}
            for name, (low, high) in ranges.items()
        ]
        boundary: dict[str, Any] = {}
        if model is not None and plane is not None:
            boundary = {
                "plane": list(plane),
                "threshold": decision_threshold(model),
                "points": [[float(a), float(b), int(c)] for a, b, c in points],
            }
        super().__init__(
            view=view_html(svg), inputs=sliders, height=height, **boundary, **self._state()
        )

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
        found: dict[Value, Any] = {self._root: 1.0}  # the engine's, from the film's own walk
        for step in self._film.steps:
            for edge in step.contributions:
                found[edge.parent] = edge.grad_after
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

    def on_train_start(self, state: Any) -> None:
        """Training begins: show the loss curve and the decision boundary beside the graph."""
        self._follow(state)

    def on_step_end(self, state: Any) -> None:
        """Every `every` optimizer steps: the example's values and gradients at the new weights,
        the loss curve so far and the model's output over the plane."""
        if state.step % self.every == 0:
            try:
                self.refresh()
            except (ValueError, ArithmeticError) as error:  # the example too large for them
                said = f"viz.live cannot redraw its graph at the weights after step {state.step}"
                raise type(error)(f"{said}: {error}") from error
            self._follow(state)

    def on_train_end(self, state: Any) -> None:
        """At the end: the trained (or restored best) weights. fit calls it however training
        ended, so a graph it cannot redraw is said in the view, never raised: an error here
        would take the place of the one that ended training (and the History it carries)."""
        try:
            self.refresh()
        except (ValueError, ArithmeticError) as error:
            self.error = f"viz.live cannot redraw its graph at the weights training left: {error}"
        self._follow(state)

    def _follow(self, state: Any) -> None:
        """The panels' numbers now: the sampled step losses and the model's output on the grid."""
        with self.hold_sync():
            self.training = True
            self.curve = sample_losses(state.history.step_loss)
            self.steps = len(state.history.step_loss)
            if self._model is not None and self._plane is not None:
                self.grid = boundary_grid(self._model, self._plane).astype("<f8").tobytes()
                self.grid_size = GRID

    @property
    def film_frames(self) -> Frames:
        """The player's steps at the point shown (viz.player's data, for tests and pictures)."""
        return self._film


def sample_losses(step_loss: Sequence[float], most: int = CURVE_POINTS) -> list[float]:
    """The loss curve sent to the view: every step's loss while there are at most `most`; past
    that every k-th from the first, k = ceil(len / most), and always the latest."""
    stride = max(1, math.ceil(len(step_loss) / most))
    sampled = [float(x) for x in step_loss[::stride]]
    if step_loss and (len(step_loss) - 1) % stride:
        sampled.append(float(step_loss[-1]))
    return sampled


def boundary_grid(
    model: Module, plane: tuple[float, float, float, float], size: int = GRID
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The model's output at size x size points of the plane (x1 from plane[0] to plane[1], left
    to right; x2 from plane[3] down to plane[2], top to bottom), flat, row by row: in eval mode
    and without a graph, as train.predict runs it; the model's mode is restored after."""
    x1, x2 = np.linspace(plane[0], plane[1], size), np.linspace(plane[3], plane[2], size)
    output = on_plane(model, x1, x2)
    if not isinstance(output, Value):
        raise TypeError("viz.live draws the decision boundary of a model with one output")
    return np.asarray(output.data, dtype=np.float64).reshape(-1)


def live(
    target: Callable[..., Any] | Module,
    example: Any = None,
    every: int = 10,
    collapse: str | None = None,
    height: int = 560,
    X: Any = None,
    y: Any = None,
    **inputs: float | tuple[float, float, float],
) -> Live:
    """A live graph: live(f, x=2.0, w=(-3.0, -5, 5)) for a function of named numbers (each a
    number, or (number, low, high) for its slider's range), or live(model, example) for an nn
    model at one example (its inputs x1, x2, ... and every parameter get a slider; moving a
    parameter's changes the model's weight). every: refresh every that many optimizer steps
    when passed to train.fit(callbacks=[...]); while training the view also shows the loss curve
    and, for a model of 2 inputs with one output, its decision boundary over the plane X spans
    (without X: [-1.5, 1.5]²), with the points X coloured by y (1 where y > 0, else 0).
    collapse="neuron" draws a neuron as one box."""
    given: dict[str, Range] = {}
    model: Module | None = None
    plane: tuple[float, float, float, float] | None = None
    points: list[tuple[float, float, int]] = []
    if (X is not None or y is not None) and not isinstance(target, Module):
        raise TypeError("viz.live(model, example, X=X, y=y): X and y are a model's training data")
    if isinstance(target, Module):
        if inputs:
            raise TypeError(f"viz.live(model, example) takes no named inputs; got {list(inputs)}")
        if example is None or not isinstance(example, (list, tuple, np.ndarray)):
            got = "" if example is None else f"; got {type(example).__name__} {_clip(example)}"
            raise TypeError(f"viz.live(model, example): give one example, e.g. [0.5, -1.0]{got}")
        fix = "an example is a finite number for each of the model's inputs: [0.5, -1.0]"
        numbers = [_finite(f"example[{i}]", x, fix) for i, x in enumerate(example)]
        given = {f"x{i + 1}": _range(f"example[{i}]", x) for i, x in enumerate(numbers)}
        leaves = {name: Value(spec[0], label=name) for name, spec in given.items()}
        root = target(list(leaves.values()))
        leaves.update(target.named_parameters())
        if len(numbers) == 2 and isinstance(root, Value):
            model, plane, points = target, *_plane_and_points(X, y)
        elif X is not None or y is not None:
            raise ValueError(
                f"viz.live: X, y are drawn on the decision boundary of a model of 2 inputs; "
                f"this example has {len(numbers)} (leave X and y out: the loss curve is shown)"
            )
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
    for name, leaf in leaves.items():  # the parameters' too: a weight of 1e308 has no slider
        _, low, high = given.get(name) or _range(name, leaf.data)
        ranges[name] = (low, high)
    return Live(root, leaves, ranges, every, collapse, height, model, plane, points)


def _plane_and_points(
    X: Any, y: Any
) -> tuple[tuple[float, float, float, float], list[tuple[float, float, int]]]:
    """The plane to draw (train.plane_around(X), or PLANE) and the points (x1, x2,
    side), after checking X (n rows of 2 finite numbers) and y (n labels)."""
    if X is None and y is None:
        return PLANE, []
    if X is None or y is None:
        raise TypeError("viz.live: give both X=X and y=y (the training points), or neither")
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim != 2 or Xa.shape[1] != 2 or len(Xa) == 0:
        raise ValueError(
            f"viz.live: X must be n examples of 2 inputs, shape (n, 2); got {Xa.shape}"
        )
    if not np.all(np.isfinite(Xa)):
        raise ValueError("viz.live: X holds a NaN or an infinity")
    labels = np.asarray(y, dtype=float)
    if labels.shape != (len(Xa),):
        raise ValueError(
            f"viz.live: y must hold one label per example of X ({len(Xa)});"
            f" got shape {labels.shape}"
        )
    low, high = plane_around(Xa)
    plane = (float(low[0]), float(high[0]), float(low[1]), float(high[1]))
    points = [(float(a), float(b), int(c > 0)) for (a, b), c in zip(Xa, labels)]
    return plane, points


def _range(name: str, spec: Any) -> Range:
    """An input's (value, low, high), each a finite number: a number gets a range around it,
    ±2|number|. A slider steps across it in a hundredth of its width, so that must be a
    finite float above 0 too."""
    fix = f"give {name} a finite number, or (number, low, high) with low < high"
    if isinstance(spec, tuple):
        if len(spec) != 3:
            raise ValueError(f"viz.live: {name}={_clip(spec)}; {fix}")
        parts = ("its number", "its low", "its high")
        value, low, high = (_finite(f"{name}: {part}", x, fix) for part, x in zip(parts, spec))
        if not low < high:
            raise ValueError(f"viz.live: {name}={_clip(spec)}; {fix}")
        low, high, wide = min(low, value), max(high, value), "give low and high closer together"
    else:
        value = _finite(name, spec, fix)
        (low, high), wide = _around(value), "give a number within ±4e307"
    step = (high - low) / 100
    if step == math.inf:
        width = f"a slider from {low:g} to {high:g}, wider than a float holds"
        raise ValueError(f"viz.live: {name}={_clip(spec)} needs {width}; {wide}")
    if step == 0:  # low and high a few of the smallest floats apart
        close = "low and high too close for a slider to step between"
        raise ValueError(f"viz.live: {name}={_clip(spec)} has {close}; give them further apart")
    return value, low, high


def _finite(what: str, x: Any, fix: str) -> float:
    """x as a float, or an error naming `what` and its value, saying what to give instead."""
    try:
        return finite_number(what, x)
    except (TypeError, ValueError) as error:
        raise type(error)(f"viz.live: {error}; {fix}") from None


def _step(low: float, high: float) -> float:
    """A slider's step: a round number (0.01, 0.1, ...), a hundred or more steps across."""
    return float(10 ** math.floor(math.log10((high - low) / 100)))


def _around(value: float) -> tuple[float, float]:
    """A slider's range about a value: ±2|value|, and at least ±1."""
    half = max(1.0, 2 * abs(value))
    return value - half, value + half
