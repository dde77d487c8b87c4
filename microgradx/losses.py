"""Losses: how wrong the predictions are, as one number to make smaller.

Every loss returns the mean over the examples as a scalar `Value`, ready for `backward()`.
Predictions come either as one Value holding a batch (a 1-D array, one number per example),
or as a list of Values, one per example (the small scalar graphs used for teaching). Targets
are numbers, sequences or arrays with one entry per example.

Each loss declares the task it is for, "classification" or "regression", with `for_task`;
`train.fit` reads it (through `task_of`) to decide whether accuracy means anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np

from microgradx import checks
from microgradx.engine import Value
from microgradx.functional import weighted_sum
from microgradx.recording import LOSS, scope

__all__ = [
    "TASKS",
    "Task",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "for_task",
    "hinge",
    "l2",
    "mse",
    "task_of",
]

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")
EPS = 1e-12  # keeps log() of a probability finite at exactly 0 or 1

LossFunction = TypeVar("LossFunction", bound=Callable[..., Any])


def for_task(task: Task, formula: str = "") -> Callable[[LossFunction], LossFunction]:
    """Declare what a loss is for: `@for_task("classification")` above a loss of your own.
    The loss then computes inside a scope of kind "loss" named after it, so every node it makes
    points to that scope: pictures draw the loss as one box, showing `formula` if given."""
    checks.choice("task", task, TASKS)
    if not isinstance(formula, str):
        raise TypeError(f"formula must be text, such as 'mean((p - t)²)'; got {formula!r}")

    def declare(loss: LossFunction) -> LossFunction:
        @functools.wraps(loss)
        def scoped(*args: Any, **kwargs: Any) -> Any:
            with scope(getattr(loss, "__name__", "loss"), kind=LOSS) as opened:
                opened.detail = formula
                return loss(*args, **kwargs)

        scoped.task = task  # type: ignore[attr-defined]
        return scoped  # type: ignore[return-value]

    return declare


def task_of(loss: Callable[..., Any]) -> Task | None:
    """The task a loss declared with `for_task`, or None if it declared none."""
    declared = getattr(loss, "task", None)
    return next((task for task in TASKS if task == declared), None)


@for_task("regression", "mean((p - t)²)")
def mse(prediction: Any, target: Any) -> Value:
    """Mean squared error: mean((prediction - target)²). For regression; the targets must be
    finite numbers."""
    _check_labels("mse", target, "targets that are finite numbers", np.isfinite)
    return _mean_over_examples("mse", prediction, target, lambda p, t: (p - t) ** 2)


@for_task("classification", "-mean(t·ln p + (1 - t)·ln(1 - p))")
def binary_cross_entropy(probability: Any, target: Any) -> Value:
    """-mean(t·log p + (1 - t)·log(1 - p)) for probabilities p in [0, 1] and labels t in {0, 1}
    (or soft labels in [0, 1]). p is squeezed into [1e-12, 1 - 1e-12], so log never sees 0."""
    _check_labels("binary_cross_entropy", target, "labels in [0, 1]", lambda t: (t >= 0) & (t <= 1))
    for p in _values(probability):
        if not np.all((p.data >= 0) & (p.data <= 1)):  # nan fails too
            raise ValueError(
                "binary_cross_entropy needs probabilities in [0, 1], got "
                f"{_first_outside(p.data)}; use output_activation='sigmoid', or "
                "binary_cross_entropy_with_logits for raw scores"
            )

    def term(p: Value, t: Any) -> Value:
        squeezed = p * (1 - 2 * EPS) + EPS
        return -(t * squeezed.log() + (1 - t) * (1 - squeezed).log())  # type: ignore[no-any-return]

    return _mean_over_examples("binary_cross_entropy", probability, target, term)


@for_task("classification", "mean(softplus(z) - t·z)")
def binary_cross_entropy_with_logits(logit: Any, target: Any) -> Value:
    """Binary cross-entropy on raw scores z, with σ(z) folded in: softplus(z) - t·z.
    Stable for scores in the hundreds (±800 included)."""
    _check_labels(
        "binary_cross_entropy_with_logits",
        target,
        "labels in [0, 1]",
        lambda t: (t >= 0) & (t <= 1),
    )
    return _mean_over_examples(
        "binary_cross_entropy_with_logits", logit, target, lambda z, t: z.softplus() - t * z
    )


@for_task("classification", "mean(max(0, 1 - y·s))")
def hinge(score: Any, target: Any) -> Value:
    """Hinge loss mean(max(0, 1 - y·score)), with labels y in {-1, +1} (0/1 labels also work:
    0 counts as -1). Used by micrograd's demo and by support vector machines."""
    _check_labels("hinge", target, "labels 0/1 or -1/+1", lambda t: np.isin(t, (-1, 0, 1)))
    labels = np.asarray(target, dtype=float)
    if np.any(labels == 0) and np.any(labels == -1):
        raise ValueError("hinge needs labels 0/1 or -1/+1, not both 0 and -1 in one batch")
    signs = np.where(labels > 0, 1.0, -1.0)
    return _mean_over_examples("hinge", score, signs, lambda s, y: (1 - y * s).relu())


@for_task("classification", "mean(ln Σₖ e^zₖ - z_label)")
def cross_entropy(logits: Sequence[Any], target: Any) -> Value:
    """Multi-class cross-entropy on raw scores: mean(log Σ_k e^{z_k} - z_target).

    `logits` has one entry per class: a Value holding that class's score for every example of
    a batch (what an MLP with several outputs returns), or a number. It may also be a list
    with one such list per example, or a 2-D array of shape (examples, classes). `target` is
    the class index (an int, or an int array for a batch). The log-sum-exp subtracts the
    largest score first, so large scores do not overflow.
    """
    if isinstance(logits, Value):  # one output: the model gives no score per class
        raise ValueError(
            "cross_entropy needs a score for each class, from a model with one output per class "
            "(nn.MLP(2, [16, 3]) for 3 classes), but got one Value; for 2 classes and one "
            "output, use binary_cross_entropy_with_logits"
        )
    if isinstance(logits, np.ndarray) and logits.ndim == 2:
        logits = [Value(column) for column in logits.T]  # rows are examples
    elif logits and isinstance(logits[0], (list, tuple)):  # one list of class scores per example
        indices = np.asarray(target).reshape(-1)
        if len(indices) != len(logits):
            raise ValueError(f"cross_entropy: {len(logits)} examples but {len(indices)} labels")
        each = [cross_entropy(scores, int(label)) for scores, label in zip(logits, indices)]
        return sum(each[1:], each[0]) * (1.0 / len(each))
    classes = list(logits)
    if len(classes) < 2:
        raise ValueError(
            f"cross_entropy needs a score for each of at least 2 classes, got {len(classes)}"
        )
    scores = [z if isinstance(z, Value) else Value(z) for z in classes]
    labels = np.asarray(target)
    size = scores[0].data.size if isinstance(scores[0].data, np.ndarray) else 1
    if labels.size != size or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"cross_entropy needs one class index (an int) per example: {size} of them; "
            f"got {labels.size} of type {labels.dtype}"
        )
    if np.any((labels < 0) | (labels >= len(scores))):
        raise ValueError(
            f"cross_entropy: class indices must be in 0..{len(scores) - 1}, "
            f"got {_first_outside(labels, 0, len(scores) - 1)}"
        )
    batched = isinstance(scores[0].data, np.ndarray)
    labels = labels.reshape(-1) if batched else labels.reshape(())
    largest = np.max([z.data for z in scores], axis=0)  # a constant: shifts, changes nothing
    total = sum((z - largest).exp() for z in scores)
    log_sum_exp = total.log() + largest
    picked = sum(z * (labels == k).astype(float) for k, z in enumerate(scores))
    return (log_sum_exp - picked).mean()  # type: ignore[no-any-return]


def l2(parameters: Iterable[Value]) -> Value:
    """Σ p²: weight decay. Add `alpha * l2(model.parameters())` to a loss to keep weights small.
    A penalty on the parameters, not a loss over examples, so it declares no task."""
    values = list(parameters)
    if not values:
        raise ValueError("l2 needs at least one parameter")
    return weighted_sum(values, values)  # one node: 0 + p1·p1 + p2·p2 + ...


# --- helpers ------------------------------------------------------------------------------


def _values(prediction: Any) -> list[Value]:
    return (
        [prediction]
        if isinstance(prediction, Value)
        else [p for p in prediction if isinstance(p, Value)]
    )


def _mean_over_examples(
    name: str, prediction: Any, target: Any, term: Callable[[Value, Any], Value]
) -> Value:
    """mean over the examples of term(prediction, target), for a batch Value or a list of Values."""
    if isinstance(prediction, Value):
        size = prediction.data.size if isinstance(prediction.data, np.ndarray) else 1
        given = np.asarray(target, dtype=float)
        if given.size not in (1, size):
            raise ValueError(f"{name}: {size} predictions but {given.size} targets")
        targets = given.reshape(-1) if size > 1 and given.size > 1 else float(given.reshape(-1)[0])
        return term(prediction, targets).mean()
    predictions = list(prediction)
    targets = np.asarray(target, dtype=float).reshape(-1)
    if not predictions or len(predictions) != targets.size:
        raise ValueError(f"{name}: {len(predictions)} predictions but {targets.size} targets")
    if any(isinstance(p, Value) and isinstance(p.data, np.ndarray) for p in predictions):
        raise ValueError(
            f"{name}: a list holds one single-number Value per example; pass a batch as one Value"
        )
    terms = [
        term(p if isinstance(p, Value) else Value(p), float(t))
        for p, t in zip(predictions, targets)
    ]
    return sum(terms[1:], terms[0]) * (1.0 / len(terms))


def _check_labels(name: str, target: Any, convention: str, ok: Callable[[Any], Any]) -> None:
    labels = np.asarray(target)
    if labels.dtype.kind not in "biuf":  # text, None, ragged lists: not numbers at all
        raise TypeError(f"{name} needs {convention}; got {labels.dtype} {repr(target)[:40]}")
    labels = labels.astype(float)
    if labels.size == 0 or not np.all(ok(labels)):
        bad = labels[~ok(labels)].reshape(-1)[:3] if labels.size else "nothing"
        raise ValueError(f"{name} needs {convention}; got {bad}")


def _first_outside(x: Any, low: float = 0.0, high: float = 1.0) -> str:
    x = np.asarray(x).reshape(-1)
    index = int(np.argmax((x < low) | (x > high)))
    return f"{x[index]} at index {index}" if x.size > 1 else f"{x[index]}"
