"""Losses against NumPy formulas (an independent oracle), in both the batch and the
per-example forms, with their gradients against central differences."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from microgradx import Value, losses
from microgradx.engine import topological_order
from microgradx.testing import numerical_grad

scores = arrays(np.float64, st.integers(1, 6), elements=st.floats(-8, 8))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def both_forms(
    loss: Callable[[Any, Any], Value], predictions: np.ndarray, targets: np.ndarray
) -> tuple[float, float]:
    """The loss on one batch Value and on a list of one Value per example."""
    batched = loss(Value(predictions), targets).item()
    per_example = loss([Value(float(p)) for p in predictions], targets).item()
    return batched, per_example


@given(scores, st.data())
def test_mse(z: np.ndarray, data: Any) -> None:
    t = data.draw(arrays(np.float64, z.shape, elements=st.floats(-5, 5)))
    expected = np.mean((z - t) ** 2)
    assert both_forms(losses.mse, z, t) == (pytest.approx(expected), pytest.approx(expected))


@given(scores, st.data())
def test_binary_cross_entropy_and_with_logits(z: np.ndarray, data: Any) -> None:
    t = data.draw(arrays(np.int64, z.shape, elements=st.integers(0, 1)))
    p = sigmoid(z)
    expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    for value in both_forms(losses.binary_cross_entropy, p, t):
        assert value == pytest.approx(expected, rel=1e-6, abs=1e-9)
    for value in both_forms(losses.binary_cross_entropy_with_logits, z, t):
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(scores, st.data())
def test_hinge_takes_labels_0_1_or_minus_1_plus_1(z: np.ndarray, data: Any) -> None:
    t = data.draw(arrays(np.int64, z.shape, elements=st.integers(0, 1)))
    signs = 2 * t - 1
    expected = np.mean(np.maximum(0, 1 - signs * z))
    assert both_forms(losses.hinge, z, t) == (pytest.approx(expected), pytest.approx(expected))
    assert losses.hinge(Value(z), signs).item() == pytest.approx(expected)


@given(st.integers(2, 5), st.integers(1, 6), st.data())
def test_cross_entropy_is_minus_log_softmax(classes: int, n: int, data: Any) -> None:
    z = data.draw(arrays(np.float64, (classes, n), elements=st.floats(-10, 10)))
    t = data.draw(arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    log_softmax = z - np.log(np.sum(np.exp(z), axis=0))
    expected = -np.mean(log_softmax[t, np.arange(n)])
    assert losses.cross_entropy([Value(row) for row in z], t).item() == pytest.approx(expected)
    single = losses.cross_entropy([float(row[0]) for row in z], int(t[0]))
    assert single.item() == pytest.approx(-log_softmax[t[0], 0])


def test_stable_for_huge_scores() -> None:
    z = Value(np.array([-800.0, 800.0, 0.0]))
    loss = losses.binary_cross_entropy_with_logits(z, np.array([1, 0, 1]))
    loss.backward()
    assert loss.item() == pytest.approx((800 + 800 + math.log(2)) / 3)
    assert np.all(np.isfinite(z.grad)) and z.grad == pytest.approx([-1 / 3, 1 / 3, -1 / 6])
    logits = [Value(np.array([1000.0])), Value(np.array([-1000.0])), Value(np.array([999.0]))]
    ce = losses.cross_entropy(logits, np.array([2]))
    ce.backward()
    assert ce.item() == pytest.approx(1 + math.log1p(math.exp(-1)))
    assert all(np.all(np.isfinite(v.grad)) for v in logits)
    confident = losses.binary_cross_entropy(Value(np.array([1.0, 0.0])), np.array([1, 0]))
    assert confident.item() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "name, loss",
    [
        ("mse", losses.mse),
        ("bce", losses.binary_cross_entropy),
        ("logits", losses.binary_cross_entropy_with_logits),
        ("hinge", losses.hinge),
    ],
)
def test_gradients_match_central_differences(name: str, loss: Callable[[Any, Any], Value]) -> None:
    predictions, targets = np.array([0.3, 0.8, 0.55]), np.array([0, 1, 1])
    inputs = Value(predictions)
    loss(inputs, targets).backward()
    numeric = numerical_grad(lambda p: loss(Value(p), targets), predictions)[0]
    assert inputs.grad == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_l2_is_the_sum_of_squares() -> None:
    parameters = [Value(1.0), Value(-2.0), Value(3.0)]
    penalty = losses.l2(parameters)
    penalty.backward()
    assert penalty.item() == 14.0 and [p.grad for p in parameters] == [2.0, -4.0, 6.0]


@pytest.mark.parametrize(
    "call, complaint",
    [
        (lambda: losses.binary_cross_entropy(Value(np.array([0.5, 0.5])), [0, 2]), "labels in"),
        (lambda: losses.binary_cross_entropy(Value(np.array([0.5, 1.5])), [0, 1]), "sigmoid"),
        (lambda: losses.binary_cross_entropy_with_logits(Value(1.0), -1), "labels in"),
        (lambda: losses.hinge(Value(np.array([0.5, 0.5])), [0, 2]), "-1/\\+1"),
        (lambda: losses.cross_entropy([Value(1.0), Value(2.0)], 2), "0..1"),
        (lambda: losses.cross_entropy([Value(1.0), Value(2.0)], 0.5), "class index"),
        (lambda: losses.cross_entropy([Value(1.0)], 0), "at least 2 classes"),
        (lambda: losses.mse(Value(np.ones(3)), [1.0, 2.0]), "3 predictions but 2 targets"),
        (lambda: losses.mse([Value(1.0)], [1.0, 2.0]), "1 predictions but 2 targets"),
        (lambda: losses.l2([]), "at least one parameter"),
    ],
)
def test_labels_outside_a_loss_convention_are_refused(
    call: Callable[[], Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        call()


def test_cross_entropy_per_example_lists_and_2d_arrays() -> None:
    z = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])  # rows are examples
    t = np.array([0, 2])
    expected = -np.mean((z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(2), t])
    assert losses.cross_entropy(z, t).item() == pytest.approx(expected)
    per_example = [[Value(v) for v in row] for row in z]
    assert losses.cross_entropy(per_example, t).item() == pytest.approx(expected)


def test_binary_cross_entropy_is_never_negative_and_refuses_nan() -> None:
    assert losses.binary_cross_entropy(Value(np.array([1.0, 0.0])), [1, 0]).item() >= 0.0
    with pytest.raises(ValueError, match="probabilities in"):
        losses.binary_cross_entropy(Value(np.array([np.nan])), [1])


def test_mixed_hinge_labels_and_lists_of_batches_are_refused() -> None:
    with pytest.raises(ValueError, match="not both 0 and -1"):
        losses.hinge(Value(np.ones(3)), [0, -1, 1])
    with pytest.raises(ValueError, match="one single-number Value per example"):
        losses.mse([Value(np.ones(3)), Value(np.ones(3))], [1.0, 2.0])


DECLARED = {
    losses.mse: "regression",
    losses.binary_cross_entropy: "classification",
    losses.binary_cross_entropy_with_logits: "classification",
    losses.hinge: "classification",
    losses.cross_entropy: "classification",
}
NOT_LOSSES = {losses.l2, losses.for_task, losses.task_of}  # a penalty, and the declaration tools


def test_every_built_in_loss_declares_its_task_and_l2_declares_none() -> None:
    public = {
        f
        for name, f in inspect.getmembers(losses, inspect.isfunction)
        if f.__module__ == losses.__name__ and not name.startswith("_")
    }
    assert public == set(DECLARED) | NOT_LOSSES  # a new loss must be listed above
    assert {f.__name__ for f in public} <= set(losses.__all__)
    for loss, task in DECLARED.items():
        assert losses.task_of(loss) == task
    assert losses.task_of(losses.l2) is None


@given(st.sampled_from(losses.TASKS))
def test_for_task_declares_a_loss_of_your_own(task: losses.Task) -> None:
    def squared_error(prediction: Any, target: Any) -> Value:
        return losses.mse(prediction, target)

    assert losses.task_of(squared_error) is None
    assert losses.task_of(lambda p, t: losses.mse(p, t)) is None
    declared = losses.for_task(task)(squared_error)
    assert losses.task_of(declared) == task and declared.__name__ == "squared_error"
    out = declared(Value(np.array([1.0, 3.0])), [0.0, 1.0])
    assert out.data == 2.5 and out.scope is not None  # (1 + 4) / 2, made by mse inside it
    assert (out.scope.name, out.scope.parent.name, out.scope.parent.kind) == (
        "mse",
        "squared_error",
        "loss",
    )


def test_every_node_a_built_in_loss_makes_is_in_its_scope() -> None:
    p = Value(np.array([0.2, 0.9]), label="p")
    out = losses.binary_cross_entropy(p, [0, 1])
    made = [n for n in topological_order(out) if n is not p and n.op is not None]
    assert made and all(n.scope is out.scope and n.scope.kind == "loss" for n in made)


@given(st.one_of(st.text(), st.integers(), st.none()).filter(lambda t: t not in losses.TASKS))
def test_for_task_refuses_an_unknown_task_and_lists_the_choices(task: Any) -> None:
    with pytest.raises(ValueError, match="task must be one of classification, regression"):
        losses.for_task(task)
