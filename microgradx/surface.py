"""Loss surfaces and the paths optimizers take across them: the numbers (`plot` draws them).

The loss is a function of every weight. With two weights (a linear neuron's w1 and b) it is a
surface, and `loss_surface` computes it exactly over a grid. A bigger model's loss lives in
as many dimensions as it has weights; `loss_surface` then cuts a 2-D slice through its
weights, along two random directions normalized per neuron: each neuron's block of a direction
is scaled to the norm of that neuron's weights (its w and b), so a step of 1 moves every neuron
by its own size and slices of different models compare (the filter normalization of Li et al.,
2018, "Visualizing the Loss Landscape of Neural Nets").

A `Trajectory` (a `fit` callback) records the weights before training and after every optimizer
step; `descend` trains from one start once per `Run` (an optimizer, a batch size) and returns
the trajectories; `loss_surface(..., paths=...)` projects them onto the surface's plane.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from microgradx import checks, language
from microgradx.engine import Value
from microgradx.nn import Module, Neuron
from microgradx.optim import Optimizer
from microgradx.recording import no_grad
from microgradx.train import Callback, Diverged, Loss, TrainingState, evaluate, evaluating, fit

__all__ = [
    "PlanePath",
    "Run",
    "Surface",
    "Trajectory",
    "axis_name",
    "descend",
    "filter_normalized_directions",
    "loss_surface",
    "weights_of",
]

Array = NDArray[np.float64]

# The names of a slice's axes, English then Chinese: `loss_surface` names them in the language
# in use, and `axis_name` says them in the language in use when they are drawn.
_AXIS_NAMES = (
    ("direction 1", "方向 1"),
    ("direction 2", "方向 2"),
    ("towards the start", "朝向起点"),
    ("random direction", "随机方向"),
)


@dataclass
class Run:
    """One way down the surface: a label, how to make the optimizer from the parameters
    (`lambda p: optim.SGD(p, lr=0.1)`), the batch size (None: the full batch; 1: SGD) and the
    number of epochs (None: what `descend` is given)."""

    label: str
    optimizer: Callable[[list[Value]], Optimizer]
    batch_size: int | None = None
    epochs: int | None = None


class Trajectory(Callback):
    """The path the weights take: all of them as one vector (in `model.parameters()` order)
    before training and after every optimizer step. Pass it to fit(callbacks=[...])."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.points: list[Array] = []
        self.diverged = False  # descend sets it when training diverged (the path stops there)

    def on_train_start(self, state: TrainingState) -> None:
        self.points = [weights_of(state.model)]

    def on_step_end(self, state: TrainingState) -> None:
        self.points.append(weights_of(state.model))

    @property
    def weights(self) -> Array:
        """The path as an array: one row per point (steps + 1), one column per parameter."""
        return np.array(self.points, dtype=float)

    def __repr__(self) -> str:
        return f"Trajectory({self.label!r}, {max(len(self.points) - 1, 0)} steps)"


@dataclass
class PlanePath:
    """A trajectory as the surface shows it: (a, b) coordinates in the surface's plane, one row
    per point, and the loss at each of those points of the plane."""

    label: str
    points: Array
    loss: Array
    diverged: bool = False


@dataclass
class Surface:
    """The loss over a plane of weights: weights(a, b) = center + a·directions[0] +
    b·directions[1], and loss[i, j] is the loss at a = a[j], b = b[i] (NaN where it is not a
    finite number). Exact (two parameters): center is 0 and the directions are the two
    parameters themselves, so (a, b) are the weights. A slice: center is the trained weights
    (the origin) and the directions are filter-normalized."""

    a: Array
    b: Array
    loss: Array
    center: Array
    directions: Array
    exact: bool
    labels: tuple[str, str]
    paths: list[PlanePath] = field(default_factory=list)

    def weights_at(self, a: float, b: float) -> Array:
        """All the model's weights at the point (a, b) of the plane."""
        weights: Array = self.center + a * self.directions[0] + b * self.directions[1]
        return weights

    def project(self, weights: Any) -> Array:
        """(a, b) for each row of `weights` (one weight vector per row): the point of the plane
        nearest to it (least squares); for an exact surface, the weights themselves."""
        rows: Array = np.atleast_2d(np.asarray(weights, dtype=float))
        if rows.shape[1] != self.center.size:
            raise ValueError(
                f"weights have {rows.shape[1]} numbers each; this surface's model has "
                f"{self.center.size} parameters"
            )
        if self.exact:
            exact: Array = rows.copy()
            return exact
        found = np.linalg.lstsq(self.directions.T, (rows - self.center).T, rcond=None)[0]
        projected: Array = np.asarray(found, dtype=float).T
        return projected

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "slice"
        return (
            f"Surface({kind}, {self.labels[0]} × {self.labels[1]}, "
            f"{self.loss.shape[1]}×{self.loss.shape[0]} points, {len(self.paths)} paths)"
        )


def loss_surface(
    model: Module,
    X: Any,
    y: Any,
    loss: Loss,
    paths: Sequence[Trajectory] = (),
    *,
    resolution: int = 41,
    span: float = 1.0,
    margin: float = 0.15,
    seed: int | None = None,
    directions: str = "random",
) -> Surface:
    """The loss of `model` on (X, y) over a grid of resolution × resolution weights.

    Two parameters: the exact surface, over the box that holds the model's weights and every
    path (`margin` of its size added on each side), at least `span` either side of the
    model's weights. More: a slice through the model's weights (the trained ones: the origin)
    along two filter-normalized random directions (drawn with `seed`), from -span to +span
    in each, widened to hold the paths' projections. Random directions in many dimensions are
    nearly orthogonal to any path, so paths look short there; directions="start" makes the
    first direction the step from the trained weights to the first path's start (which then
    lies in the plane, at (1, 0)) and keeps the second random, orthogonal to it. The model
    keeps its weights."""
    checks.choice("directions", directions, ("random", "start"))
    checks.whole_number("resolution", resolution, least=2)
    for name, number in (("span", span), ("margin", margin)):
        checks.non_negative(name, number)
    parameters = model.parameters()
    if not parameters:
        raise ValueError(f"{model!r} has no parameters, so it has no loss surface")
    evaluate(model, X, y, loss)  # bad data, or weights that overflow: said here, once
    trained = weights_of(model)
    for path in paths:
        if not isinstance(path, Trajectory) or not path.points:
            raise ValueError(f"paths must be Trajectory objects that recorded a run; got {path!r}")
        if path.weights.shape[1] != trained.size:
            raise ValueError(
                f"path {path.label!r} has {path.weights.shape[1]} weights per point; this model "
                f"has {trained.size}: was it recorded on another model?"
            )
    exact = len(parameters) == 2
    if exact:
        center, plane = np.zeros(2), np.eye(2)
        labels = (parameters[0].label or "w1", parameters[1].label or "w2")
    else:
        center = trained
        plane = filter_normalized_directions(model, seed=seed)
        labels = (language.say(*_AXIS_NAMES[0]), language.say(*_AXIS_NAMES[1]))
        if directions == "start":
            plane = _towards_start(plane, trained, paths)
            labels = (language.say(*_AXIS_NAMES[2]), language.say(*_AXIS_NAMES[3]))
    surface = Surface(np.zeros(0), np.zeros(0), np.zeros((0, 0)), center, plane, exact, labels)
    projected = [surface.project(path.weights) for path in paths]
    middle = surface.project(trained)[0]
    low, high = middle - span, middle + span
    if projected:
        everything = np.vstack([*projected, middle[None, :]])
        box_low, box_high = everything.min(axis=0), everything.max(axis=0)
        pad = margin * np.maximum(box_high - box_low, 1e-9)
        low, high = np.minimum(low, box_low - pad), np.maximum(high, box_high + pad)
    surface.a = np.linspace(low[0], high[0], resolution)
    surface.b = np.linspace(low[1], high[1], resolution)
    measure = _loss_on(model, X, y, loss, surface)
    surface.loss = np.array([[measure(a, b) for a in surface.a] for b in surface.b])
    surface.paths = [
        PlanePath(path.label, points, np.array([measure(a, b) for a, b in points]), path.diverged)
        for path, points in zip(paths, projected)
    ]
    return surface


def descend(
    model: Module,
    X: Any,
    y: Any,
    loss: Loss,
    runs: Sequence[Run],
    epochs: int,
    seed: int | None = 0,
) -> list[Trajectory]:
    """Train `model` once per run, each from the weights it has now, and return each run's
    Trajectory (in order). A run that diverges keeps its path up to its last finite step, with
    `diverged` set. The model is left with the weights it had (the common start), BatchNorm's
    running statistics included, and in the mode it was in: every run starts from the same
    model."""
    checks.whole_number("epochs", epochs)
    if not runs or not all(isinstance(run, Run) for run in runs):
        raise ValueError("runs must be a non-empty list of surface.Run(label, optimizer, ...)")
    start, buffers, training = model.state_dict(), model.buffer_dict(), model.training
    found = []
    try:
        for run in runs:
            model.load_state_dict(start)
            model.load_buffer_dict(buffers)
            trajectory = Trajectory(run.label)
            try:
                fit(
                    model,
                    X,
                    y,
                    loss,
                    run.optimizer(model.parameters()),
                    run.epochs or epochs,
                    batch_size=run.batch_size,
                    progress=False,
                    seed=seed,
                    callbacks=[trajectory],
                )
            except (Diverged, FloatingPointError):
                trajectory.diverged = True
            found.append(trajectory)
    finally:
        model.load_state_dict(start)
        model.load_buffer_dict(buffers)
        model.train(training)  # (fit leaves a model in eval mode)
    return found


def filter_normalized_directions(model: Module, seed: int | None = None) -> Array:
    """Two random directions in weight space, shape (2, number of parameters): Gaussian, then
    each neuron's block (its weights and bias) scaled to the norm of that neuron's weights. A
    parameter outside every neuron is a block of its own."""
    rng = np.random.default_rng(seed)
    weights = weights_of(model)
    directions = rng.standard_normal((2, weights.size))
    for block in _blocks(model):
        size = np.linalg.norm(weights[block])
        for direction in directions:
            length = np.linalg.norm(direction[block])
            direction[block] *= size / length if length > 0 else 0.0
    return directions


def axis_name(label: str) -> str:
    """A surface's axis label in the language in use: the name `loss_surface` gave a slice's
    axis (in either language) said again, now; any other label (a parameter's) as it is."""
    for names in _AXIS_NAMES:
        if label in names:
            return language.say(*names)
    return label


def weights_of(model: Module) -> Array:
    """Every parameter's value as one vector, in `model.parameters()` order."""
    return np.array([p.data for p in model.parameters()], dtype=float)


# --- helpers ------------------------------------------------------------------------------


def _blocks(model: Module) -> list[list[int]]:
    """The positions (in model.parameters()) of each neuron's parameters, then one block for
    each parameter that belongs to no neuron."""
    position = {id(p): i for i, p in enumerate(model.parameters())}
    blocks, placed = [], set()
    for module in model.modules():
        if isinstance(module, Neuron):
            block = [position[id(p)] for p in module.parameters() if id(p) in position]
            blocks.append(block)
            placed.update(block)
    return blocks + [[i] for i in range(len(position)) if i not in placed]


def _towards_start(plane: Array, trained: Array, paths: Sequence[Trajectory]) -> Array:
    """The plane through the trained weights and the first path's start."""
    first = paths[0].weights[0] - trained if paths else np.zeros_like(trained)
    if not np.any(first):
        raise ValueError(
            'directions="start" needs a path that starts away from the model\'s weights: '
            "pass paths=[...] and give the model its trained weights first"
        )
    second = plane[1] - (plane[1] @ first) / (first @ first) * first
    second *= np.linalg.norm(plane[1]) / max(float(np.linalg.norm(second)), 1e-300)
    return np.array([first, second])


def _loss_on(
    model: Module, X: Any, y: Any, loss: Loss, surface: Surface
) -> Callable[[float, float], float]:
    """The loss at a point (a, b) of the plane (NaN if not finite); the model keeps its weights."""
    parameters = model.parameters()
    X = np.asarray(X, dtype=float)

    def measure(a: float, b: float) -> float:
        kept = [p.data for p in parameters]
        try:
            for parameter, number in zip(parameters, surface.weights_at(a, b).tolist()):
                parameter.data = number
            with evaluating(model), no_grad(), np.errstate(all="ignore"):
                found = loss(model(X), y).item()
        except ArithmeticError:
            found = math.nan
        finally:
            for parameter, data in zip(parameters, kept):
                parameter.data = data
        return found if math.isfinite(found) else math.nan

    return measure
