"""The training loop: predict, score the prediction with a loss, step the optimizer; repeat.

`fit` trains on the full batch by default, on mini-batches when given a `batch_size` (1 is
stochastic gradient descent), records loss and accuracy per epoch, and can stop early when
the validation loss stops improving, keeping the best weights it saw.

Accuracy is measured only for classification: when the loss declares that task (every
built-in loss but `mse` does; see `losses.for_task`), or when `fit` is given
`task="classification"`. A loss of your own that declares nothing gets no accuracy.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
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
    "Diverged",
    "History",
    "Loss",
    "accuracy",
    "decision_threshold",
    "evaluate",
    "evaluating",
    "fit",
    "predict",
]

Loss = Callable[[Any, Any], Value]


class Diverged(FloatingPointError):
    """Training stopped: the loss (or a gradient) stopped being a finite number."""


@dataclass
class History:
    """What happened during training, one entry per epoch. accuracy and val_accuracy are None
    unless the task is classification: a classification loss (losses.task_of tells), or
    fit(..., task="classification") for a loss of your own that declares no task."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    # 1-based: the epoch with the lowest validation loss (training loss without validation
    # data); with early stopping, the model keeps the weights it had after that epoch.
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def last(self) -> dict[str, float]:
        """The latest epoch's numbers, by name (for progress bars and logs)."""
        found: dict[str, list[Any]] = {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
        }
        return {name: v[-1] for name, v in found.items() if v and v[-1] is not None}

    def __repr__(self) -> str:
        if not self.loss:
            return "History(no epochs)"
        text = f"History({self.epochs} epochs: loss {self.loss[0]:.4f} → {self.loss[-1]:.4f}"
        if self.accuracy[-1] is not None:
            text += f", accuracy {self.accuracy[-1]:.1%}"
        if self.val_accuracy and self.val_accuracy[-1] is not None:
            text += f", val_accuracy {self.val_accuracy[-1]:.1%}"
        return (
            text
            + f", best epoch {self.best_epoch}{', stopped early' if self.stopped_early else ''})"
        )


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
) -> History:
    """Train `model` on (X, y) and return its History; the model is left in eval mode.

    batch_size: None for the full batch, n for mini-batches of n (shuffled with `seed`), 1 for
    stochastic gradient descent. early_stopping=k stops after k epochs without a better
    validation loss (training loss without validation data) and restores the best weights.
    A loss that stops being a finite number ends training with an error naming the epoch.
    task: "classification" (accuracy is recorded; labels must be whole numbers: 0/1, -1/+1
    or 0..k-1), "regression" (no accuracy), or None for the task the loss declares. A loss of
    your own declares none, so it gets no accuracy unless you pass task="classification".
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
    rng = np.random.default_rng(seed)
    parameters = model.parameters()
    history, best_loss, best = History(), math.inf, [p.data for p in parameters]
    report, epoch = _Progress(epochs, progress), 0
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            total_loss, correct = 0.0, 0.0
            for X_batch, y_batch in batches(
                X, y, batch_size or len(X), batch_size is not None, rng
            ):
                optimizer.zero_grad()
                with np.errstate(
                    over="ignore", invalid="ignore"
                ):  # a diverging loss is caught below
                    output = model(X_batch)
                    value = _checked(loss(output, y_batch), epoch, optimizer)
                value.backward()
                optimizer.step()
                total_loss += value.item() * len(X_batch)
                if task == "classification":
                    correct += np.sum(_classes(output, model) == _class_labels(y_batch, "y"))
            if schedule is not None:
                schedule.step()
            history.loss.append(total_loss / len(X))
            history.accuracy.append(float(correct) / len(X) if task == "classification" else None)
            if validation is not None:
                val_loss, val_accuracy = evaluate(model, *validation, loss, task)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_accuracy)
            if validation is not None:
                watched = history.val_loss[-1]
            elif early_stopping:  # the weights as they are now (the loss was measured on the way)
                watched = evaluate(model, X, y, loss, task)[0]
            else:
                watched = history.loss[-1]
            if watched < best_loss:
                best_loss, history.best_epoch = watched, epoch
                best = [p.data for p in parameters]  # the best weights so far
            report.update(epoch, history)
            if early_stopping and epoch - (history.best_epoch or 0) >= early_stopping:
                history.stopped_early = True
                break
    except Diverged:
        raise
    except ArithmeticError as error:  # an overflow or an infinite derivative deep in the graph
        raise Diverged(
            f"at epoch {epoch}: {error}. If training diverged, try a smaller learning rate "
            f"(now {optimizer.lr:g})"
        ) from error
    finally:
        report.close(history)
        model.eval()
    if early_stopping:
        for parameter, data in zip(parameters, best):
            parameter.data = data
    return history


def predict(model: Module, X: Any) -> NDArray[np.int64]:
    """The predicted class of every example (eval mode, no graph): for one output, 1 where the
    output is above `decision_threshold(model)`; for several outputs, the index of the largest."""
    X = _as_batch(X)
    with evaluating(model), no_grad():
        return _classes(model(X), model)


def accuracy(model: Module, X: Any, y: Any) -> float:
    """The fraction of examples whose predicted class is right (labels 0/1, -1/+1 or 0..k-1)."""
    return float(np.mean(predict(model, X) == _class_labels(y, "y")))


def evaluate(
    model: Module, X: Any, y: Any, loss: Loss, task: Task | None = None
) -> tuple[float, float | None]:
    """(loss, accuracy) on (X, y) in eval mode; accuracy is None unless the task (as in `fit`)
    is classification."""
    task = _task(loss, task)
    X, y = _as_batch(X), np.asarray(y)
    labels = _class_labels(y, "y") if task == "classification" else None
    with evaluating(model), no_grad():
        output = model(X)
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


# --- helpers ------------------------------------------------------------------------------


def _checked(value: Value, epoch: int, optimizer: Optimizer) -> Value:
    if not isinstance(value, Value) or isinstance(value.data, np.ndarray):
        raise TypeError("the loss function must return a single-number Value (the batch mean)")
    if not math.isfinite(value.data):
        raise Diverged(
            f"the loss became {value.data} at epoch {epoch}: training diverged; "
            f"try a smaller learning rate (now {optimizer.lr:g})"
        )
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
    batch: NDArray[np.float64] = np.asarray(X, dtype=float)
    return batch.reshape(1, -1) if batch.ndim == 1 else batch


def _examples(
    model: Module, X: Any, y: Any, what: str, task: Task | None
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(X) == 0:
        raise ValueError(
            f"{what}: X must be a 2-D array (examples, features) and y a 1-D array with one "
            f"label per example; got shapes {X.shape} and {y.shape}"
        )
    for name, array in (("X", X), ("y", y)):
        if not np.all(np.isfinite(array.astype(float))):
            row = int(np.argwhere(~np.isfinite(array.astype(float)))[0][0])
            raise ValueError(f"{what}: {name} holds a number that is not finite at example {row}")
    if task == "classification":
        _class_labels(y, what)
    return X, y


class _Progress:
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

    def update(self, epoch: int, history: History) -> None:
        numbers = history.last()
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in numbers.items()}, refresh=False)
            self.bar.update(1)
        elif self.every and (epoch % self.every == 0 or epoch in (1, self.epochs)):
            self._line(epoch, numbers)

    def close(self, history: History) -> None:
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
