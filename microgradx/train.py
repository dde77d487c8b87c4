"""The training loop: predict, score the prediction with a loss, step the optimizer; repeat.

`fit` trains on the full batch by default, on mini-batches when given a `batch_size` (1 is
stochastic gradient descent), records loss and accuracy per epoch, and can stop early when
the validation loss stops improving, keeping the best weights it saw. Callbacks watch (and
may stop) training: at its start and end, at the start and end of every epoch, and after every
optimizer step (see `Callback` and `TrainingState`).

`search` compares the three ways of looking for good weights that the classic lessons compare:
random search, random local search and gradient descent, on the same budget of loss evaluations.

Accuracy is measured only for classification: when the loss declares that task (every
built-in loss but `mse` does; see `losses.for_task`), or when `fit` is given
`task="classification"`. A loss of your own that declares nothing gets no accuracy.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import math
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from microgradx import checks, losses
from microgradx.data import batches
from microgradx.engine import Value
from microgradx.losses import Task
from microgradx.nn import ACTIVATION_ROWS, Module
from microgradx.optim import Optimizer, Schedule
from microgradx.recording import no_grad

__all__ = [
    "HOOKS",
    "STRATEGIES",
    "Callback",
    "Diverged",
    "History",
    "Loss",
    "TrainingState",
    "accuracy",
    "decision_threshold",
    "evaluate",
    "evaluating",
    "fit",
    "on_plane",
    "plane_around",
    "predict",
    "search",
]

Loss = Callable[[Any, Any], Value]
Hook = Callable[["TrainingState"], object]
HOOKS = ("on_train_start", "on_epoch_start", "on_step_end", "on_epoch_end", "on_train_end")
STRATEGIES = ("random", "local", "gradient")


class Diverged(FloatingPointError):
    """Training stopped: the loss (or a gradient) stopped being a finite number. From `fit`,
    `history` holds the History of the epochs that ran, and the message says which weights the
    model was left with (the best, with early stopping; else the last whose loss was finite)."""

    history: History | None = None


@dataclass
class History:
    """What happened during training, one entry per epoch (and `step_loss`, one per optimizer
    step). accuracy and val_accuracy are None unless the task is classification: a
    classification loss (losses.task_of tells), or fit(..., task="classification") for a loss of
    your own that declares no task."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    # 1-based: the epoch with the lowest validation loss (training loss without validation
    # data); with early stopping, the model keeps the weights it had after that epoch.
    best_epoch: int | None = None
    stopped_early: bool = False  # early stopping ended training
    # the loss of every optimizer step, in order: its batch's mean loss, before the step
    step_loss: list[float] = field(default_factory=list)
    # True when fit put back the weights of best_epoch at the end (early stopping was on)
    restored_best: bool = False
    # what ended training before its last epoch: "early stopping", or the callback that set
    # state.stop (its class's name, or a function's name); None when every epoch ran
    stopped_by: str | None = None

    @property
    def epochs(self) -> int:
        return len(self.loss)

    @property
    def steps(self) -> int:
        """How many optimizer steps were taken."""
        return len(self.step_loss)

    def last(self) -> dict[str, float]:
        """The latest epoch's numbers, by name (for progress bars and logs)."""
        return self.at(self.epochs) if self.loss else {}

    def at(self, epoch: int) -> dict[str, float]:
        """Epoch `epoch`'s numbers (1-based), by name; accuracy only where it was measured."""
        found: dict[str, list[Any]] = {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
        }
        return {
            name: v[epoch - 1]
            for name, v in found.items()
            if len(v) >= epoch > 0 and v[epoch - 1] is not None
        }

    def __repr__(self) -> str:
        if not self.loss:
            return "History(no epochs)"
        if self.restored_best and self.best_epoch not in (None, self.epochs):
            return self._restored_repr()
        text = f"History({self.epochs} epochs: loss {self.loss[0]:.4f} → {self.loss[-1]:.4f}"
        if self.accuracy[-1] is not None:
            text += f", accuracy {self.accuracy[-1]:.1%}"
        if self.val_accuracy and self.val_accuracy[-1] is not None:
            text += f", val_accuracy {self.val_accuracy[-1]:.1%}"
        return text + f", best epoch {self.best_epoch}{self._stop()})"

    def _restored_repr(self) -> str:
        """The numbers of the epoch whose weights the model holds, not of the last one."""
        best = self.at(self.best_epoch or 0)
        text = (
            f"History({self.epochs} epochs, best epoch {self.best_epoch} of {self.epochs} "
            f"(restored): loss {self.loss[0]:.4f} → {best['loss']:.4f}"
        )
        for name in ("accuracy", "val_loss", "val_accuracy"):
            if name in best:
                text += f", {name} {best[name]:{'.1%' if 'accuracy' in name else '.4f'}}"
        return text + f"{self._stop()})"

    def _stop(self) -> str:
        if self.stopped_early:
            return ", stopped early"
        if self.stopped_by is not None:
            return f", stopped by {self.stopped_by} after step {self.steps}"
        return ""


@dataclass
class TrainingState:
    """What a callback sees. fit updates it in place as training goes; a callback may read
    anything and set `stop`."""

    model: Module
    optimizer: Optimizer
    history: History
    epochs: int  # the number of epochs asked for
    epoch: int = 0  # the current epoch, 1-based (0 before the first)
    step: int = 0  # optimizer steps taken so far, over all epochs (0 before the first)
    batch_loss: float | None = None  # the latest step's loss (history.step_loss[-1])
    # set it to True to end training: after this step (in on_step_end: the epoch ends there and
    # is recorded over the examples it saw), after this epoch (on_epoch_end), before this epoch
    # (on_epoch_start: it is not run) or before the first (on_train_start)
    stop: bool = False


class Callback:
    """Watches training: override any of these methods; fit calls each with the TrainingState.
    Subclassing is optional (an object with any of these methods will do), and a plain
    function of one argument, passed as a callback, runs as on_epoch_end."""

    def on_train_start(self, state: TrainingState) -> None:
        """Once, before the first epoch."""

    def on_epoch_start(self, state: TrainingState) -> None:
        """At the start of every epoch (state.epoch is the new one)."""

    def on_step_end(self, state: TrainingState) -> None:
        """After every optimizer step (state.step, state.batch_loss are the step's)."""

    def on_epoch_end(self, state: TrainingState) -> None:
        """After every epoch, once the History holds its numbers."""

    def on_train_end(self, state: TrainingState) -> None:
        """Once at the end, however training ended (even by an error, so that a callback can
        close what it opened); after early stopping has put back the best weights."""


def fit(
    model: Module,
    X: Any,
    y: Any,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    validation: tuple[Any, Any] | None = None,
    early_stopping: int | None = None,
    progress: bool = True,
    seed: int | None = None,
    schedule: Schedule | None = None,
    task: Task | None = None,
    callbacks: Sequence[Any] | None = None,
) -> History:
    """Train `model` on (X, y) and return its History; the model is left in eval mode.

    batch_size: None for the full batch, n for mini-batches of n (shuffled with `seed`), 1 for
    stochastic gradient descent. early_stopping=k stops after k epochs without a better
    validation loss (training loss without validation data) and restores the best weights.
    A loss that stops being a finite number ends training with `Diverged`, naming the epoch.
    Nothing learned is lost: on Diverged, Ctrl-C or any other error, the error carries the
    History so far (`error.history`) and the model is left at its best weights with early
    stopping, else at its last weights whose loss was finite (after Diverged; optimizer state
    and BatchNorm statistics too) or after its last whole step (Ctrl-C); the message says which.
    The data, the validation set (a first batch through the model and the loss), the schedule
    and the callbacks are checked before the first step; a first step that fails (a loss that
    cannot take the model's output, or is not a number at the starting weights) changes
    nothing.
    task: "classification" (accuracy is recorded; labels must be whole numbers: 0/1, -1/+1
    or 0..k-1), "regression" (no accuracy), or None for the task the loss declares. A loss of
    your own declares none, so it gets no accuracy unless you pass task="classification".
    callbacks: a list of `Callback`s (objects with any of its methods) or functions of the
    TrainingState (run after every epoch); they are called in order, after the progress bar.
    The optimizer must hold some of the model's parameters (it may leave some out: a frozen
    part), else fit refuses it before training, as it refuses a callback it could not call.
    """
    task = _task(loss, task)
    X, y = _examples(model, X, y, "X, y", task)
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise ValueError("validation must be a pair (X_val, y_val)")
        validation = _examples(model, *validation, "validation", task)
    for name, count in [
        ("epochs", epochs),
        ("batch_size", batch_size),
        ("early_stopping", early_stopping),
    ]:
        if count is not None:
            checks.whole_number(name, count)
    parameters = _trained_parameters(model, optimizer)
    _check_schedule(schedule, optimizer)
    if validation is not None:  # (first used after an epoch: run a first batch now, to see)
        first = batch_size or len(X)
        _check_loss(model, validation[0][:first], validation[1][:first], loss, "validation")
    buffers = bool(model.buffer_dict())  # BatchNorm's running statistics go with the weights
    if buffers and batch_size is not None and len(X) % batch_size == 1:
        raise ValueError(
            f"{len(X)} examples in batches of {batch_size} leave a last batch of 1, which "
            "BatchNorm cannot normalise: choose a batch_size that leaves 0 or at least 2"
        )
    checked = _checked_callbacks(callbacks)  # before the progress bar opens
    report = _Progress(epochs, progress)
    call = _Callbacks([("progress", {hook: getattr(report, hook) for hook in HOOKS}), *checked])
    rng = np.random.default_rng(seed)
    history, best_loss, best = History(), math.inf, _Weights(model, parameters, None, buffers)
    state = TrainingState(model, optimizer, history, epochs)
    start = good = _Weights(model, parameters, optimizer, buffers)  # a step's; the last good
    good_after, in_step = 0, False  # good: the last weights whose loss was finite (after step n)
    failed: BaseException | None = None  # what ended training, if anything did
    try:
        call("on_train_start", state)
        epoch = 0
        while epoch < epochs and not (state.stop or history.stopped_early):
            epoch = state.epoch = epoch + 1
            call("on_epoch_start", state)
            if state.stop:
                break
            model.train()
            total_loss, correct, seen = 0.0, 0.0, 0
            for X_batch, y_batch in batches(
                X, y, batch_size or len(X), batch_size is not None, rng
            ):
                start, in_step = _Weights(model, parameters, optimizer, buffers), True
                with _diverging(epoch, optimizer, at_start=state.step == 0):
                    optimizer.zero_grad()
                    output = _output(model, X_batch)
                    with np.errstate(over="ignore", invalid="ignore"):  # caught by _checked
                        value = _checked(loss(output, y_batch))
                good, good_after = start, state.step  # (its loss is finite)
                with _diverging(epoch, optimizer):
                    value.backward()
                    optimizer.step()
                state.step, state.batch_loss, in_step = state.step + 1, value.item(), False
                history.step_loss.append(state.batch_loss)
                total_loss += state.batch_loss * len(X_batch)
                seen += len(X_batch)
                if task == "classification":
                    correct += np.sum(_classes(output, model) == _class_labels(y_batch, "y"))
                call("on_step_end", state)
                if state.stop:
                    break
            if schedule is not None:
                schedule.step()
            epoch_accuracy = float(correct) / seen if task == "classification" else None
            with _diverging(epoch, optimizer):
                measured = None if validation is None else evaluate(model, *validation, loss, task)
                if measured is not None:
                    watched = measured[0]
                elif early_stopping:  # the weights as they are now (measured on the way)
                    watched = evaluate(model, X, y, loss, task)[0]
                else:
                    watched = total_loss / seen
            history.loss.append(total_loss / seen)  # the epoch, whole or not at all
            history.accuracy.append(epoch_accuracy)
            if measured is not None:
                history.val_loss.append(measured[0])
                history.val_accuracy.append(measured[1])
            if watched < best_loss:
                best_loss, history.best_epoch = watched, epoch
                best = _Weights(model, parameters, None, buffers)  # the best weights so far
            if early_stopping and epoch - (history.best_epoch or 0) >= early_stopping:
                state.stop = history.stopped_early = True
                history.stopped_by = "early stopping"
            call("on_epoch_end", state)
        if early_stopping:
            best.restore()
            history.restored_best = True
        elif validation is None and max(abs(p.data) for p in parameters) > 1e30:  # diverged?
            with _diverging(epoch, optimizer):  # the last step's weights, never measured
                evaluate(model, X, y, loss, task)
    except BaseException as error:  # keep what was learned, and the History
        failed, steps, kept = error, state.step, None
        if early_stopping and history.best_epoch is not None:
            kept, history.restored_best = best, True
            left = f"is back at its best weights, of epoch {history.best_epoch}"
        elif isinstance(error, Diverged):
            kept, steps, left = good, good_after, "is back at its last weights with a finite loss"
        elif in_step:  # a step cut short: the one before it is whole
            kept, left = start, "is back at its weights"
        else:
            left = "keeps its weights"
        if kept is not None:
            kept.restore()
        if not history.restored_best:
            left += f", after step {steps}" if steps else ", from before the first step"
        note = f"the model {left}; the History so far is error.history"
        history.stopped_by = (
            "divergence" if isinstance(error, Diverged)
            else "Ctrl-C" if isinstance(error, KeyboardInterrupt)
            else type(error).__name__  # (a callback's error, say)
        )  # fmt: skip
        if isinstance(error, (Diverged, KeyboardInterrupt)):
            what = f"training stopped by Ctrl-C in epoch {state.epoch}" if not error.args else error
            error.args = (f"{what}; {note}",)
        elif add_note := getattr(error, "add_note", None):  # (Python 3.11+) an error of its
            add_note(f"fit: {note}")  # own, a callback's say: its message stays, with a note
        with contextlib.suppress(AttributeError):  # (an exception with __slots__)
            error.history = history  # type: ignore[attr-defined]
        raise
    finally:
        model.eval()
        _train_end(call, state, failed)
    return history


def search(
    model: Module,
    X: Any,
    y: Any,
    loss: Loss,
    strategy: str = "gradient",
    evaluations: int = 100,
    seed: int | None = None,
    scale: float = 1.0,
    step_size: float = 0.1,
    lr: float = 0.1,
) -> list[float]:
    """Look for the weights with the lowest loss on (X, y), using `evaluations` evaluations of
    the loss on the whole batch; return the best loss so far after each evaluation (a
    non-increasing curve), and leave the model at the best weights found.

    strategy: "random" (random search: fresh weights ~ N(0, scale²) every time, keep the best),
    "local" (random local search: the best weights so far plus a random step ~ N(0,
    step_size²), kept if the loss is lower), or "gradient" (gradient descent, w ← w - lr·∂loss/∂w,
    one evaluation per step). "local" and "gradient" start from the model's weights; the first
    evaluation scores them. The loss is measured in eval mode; `seed` makes it repeatable.
    To compare the three on one start, keep `model.state_dict()` and load it before each.
    """
    checks.choice("strategy", strategy, STRATEGIES)
    checks.whole_number("evaluations", evaluations)
    for name, number in (("scale", scale), ("step_size", step_size), ("lr", lr)):
        checks.non_negative(name, number)
    X, y = _examples(model, X, y, "X, y", None)
    parameters = model.parameters()
    if not parameters:
        raise ValueError(f"{model!r} has no parameters to search over")
    rng = np.random.default_rng(seed)
    start = np.array([p.data for p in parameters], dtype=float)
    best_weights, best_loss, curve = start, math.inf, []
    weights = start if strategy != "random" else rng.normal(0.0, scale, len(parameters))
    try:
        with evaluating(model):
            for evaluation in range(1, evaluations + 1):
                for parameter, number in zip(parameters, weights.tolist()):
                    parameter.data = number
                if strategy == "gradient":
                    found, gradient = _loss_and_gradient(
                        model, X, y, loss, parameters, evaluation, lr
                    )
                else:
                    found = _loss_or_inf(model, X, y, loss)
                if found < best_loss:
                    best_loss, best_weights = found, weights
                curve.append(best_loss)
                if strategy == "random":
                    weights = rng.normal(0.0, scale, len(parameters))
                elif strategy == "local":
                    weights = best_weights + rng.normal(0.0, step_size, len(parameters))
                else:
                    weights = weights - lr * gradient
        if best_loss == math.inf:  # (random or local: every loss overflowed)
            raise FloatingPointError(
                f"search found no weights with a finite loss in {evaluations} evaluations: "
                f"try a smaller scale (now {scale:g}) or step_size (now {step_size:g})"
            )
    finally:  # the best weights found, even when gradient descent diverged
        for parameter, number in zip(parameters, best_weights.tolist()):
            parameter.data = number
    return curve


def predict(model: Module, X: Any) -> NDArray[np.int64]:
    """The predicted class of every example (eval mode, no graph): for one output, 1 where the
    output is above `decision_threshold(model)`; for several outputs, the index of the largest."""
    X = _as_batch(X)
    with evaluating(model), no_grad():
        return _classes(_output(model, X), model)


def accuracy(model: Module, X: Any, y: Any) -> float:
    """The fraction of examples whose predicted class is right (labels 0/1, -1/+1 or 0..k-1)."""
    labels, X = _class_labels(y, "y"), _as_batch(X)
    if len(labels) != len(X):
        raise ValueError(f"{len(X)} examples in X but {len(labels)} labels in y")
    return float(np.mean(predict(model, X) == labels))


def evaluate(
    model: Module, X: Any, y: Any, loss: Loss, task: Task | None = None
) -> tuple[float, float | None]:
    """(loss, accuracy) on (X, y) in eval mode; accuracy is None unless the task (as in `fit`)
    is classification."""
    task = _task(loss, task)
    X, y = _as_batch(X), np.asarray(y)
    if len(y.reshape(-1)) != len(X):
        raise ValueError(f"{len(X)} examples in X but {len(y.reshape(-1))} labels or targets in y")
    labels = _class_labels(y, "y") if task == "classification" else None
    with evaluating(model), no_grad():
        output = _output(model, X)
        value = loss(output, y).item()
    correct = None if labels is None else float(np.mean(_classes(output, model) == labels))
    return value, correct


def decision_threshold(model: Module) -> float:
    """Where one output splits two classes: the output's activation at 0 (0.5 after a sigmoid,
    0 after tanh or none), so that class 1 means a raw score above 0. A Module says its
    `output_activation` (a Module of your own: "linear", a raw score)."""
    row = ACTIVATION_ROWS.get(model.output_activation)
    return float(row.forward(0.0)) if row is not None else 0.0


@contextmanager
def evaluating(model: Module) -> Iterator[Module]:
    """Eval mode inside a `with` block, then the mode the model had before (even after an error)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def plane_around(X: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The corners (low, high) of the input plane that 2-D examples X span, with a margin of a
    tenth of their extent and 0.1 on each side: where pictures draw a decision boundary."""
    X = _as_batch(X)  # (finite numbers, at least one example)
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    return X.min(axis=0) - margin, X.max(axis=0) + margin


def on_plane(model: Module, xs: Any, ys: Any) -> Any:
    """The model's output at every point of the grid xs × ys (eval mode, no graph), as one
    batch: row by row, ys the rows and xs the columns (reshape to (len(ys), len(xs)))."""
    columns, rows = np.meshgrid(xs, ys)
    with evaluating(model), no_grad():
        return model(np.column_stack([columns.ravel(), rows.ravel()]))


# --- helpers ------------------------------------------------------------------------------


def _trained_parameters(model: Module, optimizer: Optimizer) -> list[Value]:
    """The model's parameters, once the optimizer is known to hold some of them (compared by
    identity: an optimizer made for an earlier model trains nothing of this one)."""
    parameters = model.parameters()
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be one of microgradx.optim's (optim.SGD(model.parameters(), lr=0.1),"
            f" ...), got {type(optimizer).__name__}"
        )
    ours = {id(p) for p in parameters}
    held = sum(id(p) in ours for p in optimizer.params)
    if held == 0:
        kind = type(optimizer).__name__
        raise ValueError(
            f"the optimizer holds 0 of this model's {len(parameters)} parameters: it was made "
            f"for another model (an earlier one, perhaps from another notebook cell), so fit "
            f"would train nothing; make it with optim.{kind}(model.parameters(), ...)"
        )
    return parameters


def _checked_callbacks(callbacks: Any) -> list[tuple[str, dict[str, Hook]]]:
    """Each callback's name and the hooks it has, or an error saying what is wrong with one."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            f"callbacks must be a list, got {type(callbacks).__name__}: "
            "write callbacks=[my_callback] for one"
        )
    return [_hooks_of(callback, i) for i, callback in enumerate(callbacks)]


def _hooks_of(callback: Any, i: int) -> tuple[str, dict[str, Hook]]:
    """The hooks fit will call on one callback (a function is one on_epoch_end), all checked."""
    name = getattr(callback, "__name__", type(callback).__name__)
    where = f"callbacks[{i}] ({name})"
    if isinstance(callback, type):
        raise TypeError(f"{where} is a class; pass an instance of it: {name}()")
    for attribute in dir(type(callback)):
        near = attribute.startswith("on_") and difflib.get_close_matches(attribute, HOOKS, 1, 0.8)
        if near and attribute not in HOOKS:
            raise TypeError(
                f"{where} has a method {attribute}, which fit never calls: did you mean {near[0]}?"
            )
    hooks = {hook: getattr(callback, hook) for hook in HOOKS if hasattr(callback, hook)}
    function = not hooks and callable(callback)
    if function:
        hooks = {"on_epoch_end": callback}  # a plain function: after every epoch
    elif not hooks:
        raise TypeError(
            f"{where}: {_clipped(callback)} is not a callback: give an object with any of the "
            f"methods {', '.join(HOOKS)} (subclass train.Callback and override those you need), "
            "or a function of one argument, the TrainingState, to run after every epoch"
        )
    for hook, method in hooks.items():
        if not callable(method):
            raise TypeError(f"{where}: its {hook} is {_clipped(method)}, not a method")
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):  # a built-in that does not say: trust it
            continue
        try:
            signature.bind(None)
        except TypeError:
            signature = _unannotated(signature)
            wrong = (
                f"is a function, which fit runs after every epoch with one argument, the "
                f"TrainingState, but it takes {signature}: write def {name}(state): ..."
                if function
                else f"has {hook}{signature}, which does not take the one argument fit passes, "
                f"the TrainingState: write def {hook}(self, state): ..."
            )
            raise TypeError(f"{where} {wrong}") from None
    return name, hooks


class _Callbacks:
    """Calls one hook of every callback, in order, and notes which one asked to stop."""

    def __init__(self, callbacks: list[tuple[str, dict[str, Hook]]]) -> None:
        self.callbacks = callbacks

    def __call__(self, hook: str, state: TrainingState) -> None:
        for name, hooks in self.callbacks:
            method = hooks.get(hook)
            if method is None:
                continue
            stopped = state.stop
            method(state)
            if state.stop and not stopped and state.history.stopped_by is None:
                state.history.stopped_by = name


@contextmanager
def _diverging(epoch: int, optimizer: Optimizer, at_start: bool = False) -> Iterator[None]:
    """An overflow or an infinite derivative deep in the graph, reported as divergence; at the
    starting weights, before any step (at_start), as what it is: no learning rate did it."""
    try:
        yield
    except (OverflowError, FloatingPointError) as error:  # (1/0 in a loss: a bug, not this)
        if at_start:
            raise _not_finite_at_start("", error) from error
        if isinstance(error, Diverged):
            raise
        raise _diverged(optimizer.lr, f"training diverged at epoch {epoch}", str(error)) from error


def _loss_or_inf(model: Module, X: Any, y: Any, loss: Loss) -> float:
    """The loss on the whole batch without a graph; an overflow counts as an infinite loss."""
    try:
        with no_grad(), np.errstate(all="ignore"):
            found = loss(model(X), y).item()
    except ArithmeticError:
        return math.inf
    return found if math.isfinite(found) else math.inf


def _loss_and_gradient(
    model: Module, X: Any, y: Any, loss: Loss, parameters: list[Value], evaluation: int, lr: float
) -> tuple[float, NDArray[np.float64]]:
    """The loss and its gradient for every parameter, or Diverged naming the evaluation."""
    try:
        for parameter in parameters:
            parameter.grad = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            value = loss(model(X), y)
        if math.isfinite(value.item()):
            value.backward()
            gradient = np.array([p.grad for p in parameters], dtype=float)
            if np.all(np.isfinite(gradient)):
                return value.item(), gradient
    except ArithmeticError as error:
        found: ArithmeticError | None = error
    else:
        found = None
    what = f"{found}; " if found is not None else "the loss or its gradient is not a number; "
    raise _diverged(
        lr,
        f"gradient descent diverged at loss evaluation {evaluation}",
        f"{what}the model keeps the best weights found before it",
    ) from found


def _train_end(call: _Callbacks, state: TrainingState, failed: BaseException | None) -> None:
    """The callbacks' on_train_end, however training ended. An error it raises carries the
    History; while another error is on its way, it is a note on that one, which goes on."""
    try:
        call("on_train_end", state)
    except BaseException as late:
        if failed is None:
            with contextlib.suppress(AttributeError):  # (an exception with __slots__)
                late.history = state.history  # type: ignore[attr-defined]
            raise
        if add_note := getattr(failed, "add_note", None):  # (Python 3.11+)
            add_note(f"fit: on_train_end raised {type(late).__name__}: {late}")


class _Weights:
    """A model's weights and buffers (BatchNorm's running statistics), and an optimizer's state
    (velocities, moments) if given, as they are now: restore() puts them back."""

    def __init__(
        self, model: Module, parameters: list[Value], optimizer: Optimizer | None, buffers: bool
    ) -> None:
        self.model, self.parameters, self.optimizer = model, parameters, optimizer
        self.data = [p.data for p in parameters]
        self.buffers = model.buffer_dict() if buffers else {}  # (walking the model takes time)
        self.state = optimizer.state_dict() if optimizer is not None else {}

    def restore(self) -> None:
        for parameter, data in zip(self.parameters, self.data):
            parameter.data = data
        if self.buffers:
            self.model.load_buffer_dict(self.buffers)
        if self.optimizer is not None:
            self.optimizer.load_state_dict(self.state)


def _check_loss(model: Module, X: Any, y: Any, loss: Loss, what: str) -> None:
    """The loss on a first batch (of the validation set: fit first uses it after an epoch), in
    eval mode and without a graph, so that data the model cannot take, a loss that cannot take
    the model's output, or a loss that is not a number at the starting weights fails before the
    first step, and is not mistaken for divergence."""
    with evaluating(model), no_grad():
        try:
            value = loss(_output(model, X), y)
            _single_number(value)
            if not math.isfinite(value.data):
                raise FloatingPointError(f"the loss is {value.data}")
        except ArithmeticError as error:
            raise _not_finite_at_start(f"{what}: ", error) from error
        except (ValueError, TypeError) as error:
            if type(error) not in (ValueError, TypeError):  # (a subclass: its own arguments)
                raise
            raise type(error)(f"{what}: {error}") from error


def _not_finite_at_start(what: str, error: ArithmeticError) -> FloatingPointError:
    """A loss that is not a number at the starting weights: not divergence (no step yet)."""
    return FloatingPointError(
        f"{what}the loss is not a finite number at the starting weights, before any step "
        f"({type(error).__name__}: {error}); check the loss, the data's scale and the weights"
    )


def _check_schedule(schedule: Any, optimizer: Optimizer) -> None:
    """A schedule must be one (a Schedule, or anything with step()) of this optimizer's."""
    if schedule is None:
        return
    if isinstance(schedule, type) or not callable(getattr(schedule, "step", None)):
        got = f"{type(schedule).__name__} {_clipped(schedule)}"
        example = "optim.CosineDecay(optimizer, steps=100)"
        raise TypeError(f"schedule must be a learning-rate schedule such as {example}; got {got}")
    if getattr(schedule, "optimizer", optimizer) is not optimizer:
        raise ValueError(
            "schedule changes the learning rate of another optimizer: make it with the one "
            "given to fit (optim.CosineDecay(optimizer, ...))"
        )


def _unannotated(signature: inspect.Signature) -> inspect.Signature:
    """A signature as a learner wrote it, without type hints: (state, more)."""
    empty = inspect.Parameter.empty
    return signature.replace(
        parameters=[p.replace(annotation=empty) for p in signature.parameters.values()],
        return_annotation=empty,
    )


def _diverged(lr: float, where: str, what: str, limit: int = 300) -> Diverged:
    """The usual cure first, then where and what went wrong: on one line, every batch in the
    engine's message shortened to its first number, at most `limit` characters of detail."""

    def first_number(batch: re.Match[str]) -> str:
        numbers = batch.group(1).split(",")
        return f"[{numbers[0].strip()}{', ...' if len(numbers) > 1 else ''}]"

    what = " ".join(re.sub(r"array\(\[([^\]]*)\][^)]*\)", first_number, what).split())
    what = what if len(what) <= limit else what[: limit - 3] + "..."
    return Diverged(f"try a smaller learning rate (now lr={lr:g}): {where}; {what}")


def _output(model: Module, X: Any) -> Any:
    """The model's output on X (a Value or a list of them), or a FloatingPointError when it is
    not a finite number: weights grown too large, which a loss would report less clearly."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            output = model(X)
    except OverflowError as error:  # the engine found an inf or nan made inside the model
        raise FloatingPointError(
            f"the model's output is not a finite number: its weights grew too large ({error})"
        ) from error
    for value in output if isinstance(output, list) else [output]:
        finite = np.isfinite(getattr(value, "data", 0.0))
        if not np.all(finite):
            bad = f"{finite.size - np.count_nonzero(finite)} of {finite.size} examples"
            raise FloatingPointError(
                f"the model's output is not a finite number for {bad}: its weights grew too large"
            )
    return output


def _clipped(x: Any, limit: int = 60) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _single_number(value: Any) -> None:
    if not isinstance(value, Value) or isinstance(value.data, np.ndarray):
        got = f"{type(value).__name__} {_clipped(value)}"
        raise TypeError(
            f"the loss function must return a single-number Value (the batch mean); got {got}"
        )


def _checked(value: Value) -> Value:
    """The loss of a step: a single finite number (else fit reports divergence, or a loss that
    is not a number at the start)."""
    _single_number(value)
    if not math.isfinite(value.data):
        raise FloatingPointError(f"the loss became {value.data}")
    return value


def _classes(output: Any, model: Module) -> NDArray[np.int64]:
    """Predicted classes from a model's output (a Value, or a list of Values, one per class)."""
    if isinstance(output, list):
        scores = np.array([np.atleast_1d(o.data) for o in output])
        winners: NDArray[np.int64] = np.argmax(scores, axis=0).astype(np.int64)
        return winners
    above = np.atleast_1d(output.data) > decision_threshold(model)
    classes: NDArray[np.int64] = above.astype(np.int64)
    return classes


def _task(loss: Loss, task: Task | None) -> Task | None:
    """The task given, else the one the loss declares; None (unknown) means no accuracy."""
    if task is None:
        return losses.task_of(loss)
    checks.choice("task", task, losses.TASKS)
    return task


def _class_labels(y: Any, what: str) -> NDArray[np.int64]:
    """Labels as class indices (binary -1/+1 count as 0/1), or an error for a non-whole one."""
    labels = np.atleast_1d(np.asarray(y, dtype=float))
    fractional = labels != np.round(labels)  # nan too
    if np.any(fractional):
        i = int(np.argmax(fractional))
        raise ValueError(
            f"{what}: classification needs whole-number class labels (0/1, -1/+1 or 0..k-1), "
            f"but example {i} has label {labels[i]:g}; for targets that are not classes, "
            "pass task='regression' (then no accuracy is measured)"
        )
    if labels.size and labels.min() < 0:
        labels = labels > 0
    return labels.astype(np.int64)


def _as_batch(X: Any) -> NDArray[np.float64]:
    """X as examples (rows; one example may be a 1-D row), of finite numbers, at least one."""
    batch = _numbers(X, "X", "X")
    batch = batch.reshape(1, -1) if batch.ndim == 1 else batch
    if batch.size == 0:
        raise ValueError(f"X holds no examples (shape {batch.shape})")
    return batch


def _numbers(x: Any, name: str, what: str) -> NDArray[np.float64]:
    """x as an array of finite real numbers, or an error naming it and the first bad example."""
    what = "" if what == name else f"{what}: "
    try:
        array = np.asarray(x)
    except ValueError:  # rows of different lengths
        raise ValueError(f"{what}{name} has rows of different lengths") from None
    if array.dtype.kind not in "biuf":
        got = f"{array.dtype} {_clipped(array.ravel()[:3].tolist())}"
        raise TypeError(f"{what}{name} must hold real numbers, got {got}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        row = int(np.argwhere(~np.isfinite(array))[0][0])
        raise ValueError(f"{what}{name} holds a number that is not finite at example {row}")
    return array


def _examples(
    model: Module, X: Any, y: Any, what: str, task: Task | None
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    X, labels = _numbers(X, "X", what), _numbers(y, "y", what)
    if X.ndim != 2 or labels.ndim != 1 or len(X) != len(labels) or len(X) == 0:
        raise ValueError(
            f"{what}: X must be a 2-D array (examples, features) and y a 1-D array with one "
            f"label per example; got shapes {X.shape} and {labels.shape}"
        )
    y = np.asarray(y)  # (labels keep their type: 0/1 as ints)
    if task == "classification":
        _class_labels(y, what)
    return X, y


class _Progress(Callback):
    """A tqdm progress bar in a terminal or a notebook; otherwise a plain line now and then."""

    def __init__(self, epochs: int, enabled: bool) -> None:
        self.epochs, self.bar, self.every, self.printed = epochs, None, 0, 0
        if not enabled:
            return
        if sys.stderr.isatty() or _in_notebook():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=epochs, unit="epoch", desc="training")
        else:
            self.every = max(1, epochs // 10)

    def on_epoch_end(self, state: TrainingState) -> None:
        epoch, numbers = state.epoch, state.history.last()
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in numbers.items()}, refresh=False)
            self.bar.update(1)
        elif self.every and (epoch % self.every == 0 or epoch in (1, self.epochs)):
            self._line(epoch, numbers)

    def on_train_end(self, state: TrainingState) -> None:
        history = state.history
        if self.bar is not None:
            self.bar.close()
        elif self.every and history.epochs and self.printed != history.epochs:
            self._line(history.epochs, history.last())  # a run that stopped early, or failed
        if self.every and history.stopped_early:
            print(f"stopped early after epoch {history.epochs}; kept epoch {history.best_epoch}")

    def _line(self, epoch: int, numbers: dict[str, float]) -> None:
        shown = "  ".join(f"{k} {v:.4f}" for k, v in numbers.items())
        print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  {shown}", flush=True)
        self.printed = epoch


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"
