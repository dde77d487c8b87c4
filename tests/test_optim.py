"""Optimizers and schedules: properties that hold whatever the implementation."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, nn, optim

CENTRE = np.array([1.5, -2.0, 0.5])


def bowl(params: list[Value]) -> Value:
    """Σ (w - c)²: one minimum, at CENTRE."""
    total = Value(0.0)
    for w, c in zip(params, CENTRE):
        total = total + (w - float(c)) ** 2
    return total


def run(optimizer: optim.Optimizer, steps: int) -> float:
    for _ in range(steps):
        optimizer.zero_grad()
        bowl(optimizer.params).backward()
        optimizer.step()
    return bowl(optimizer.params).item()


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
        lambda ps: optim.Adagrad(ps, lr=0.5),
        lambda ps: optim.RMSProp(ps, lr=0.05),
        lambda ps: optim.Adam(ps, lr=0.1),
    ],
)
def test_every_optimizer_finds_the_bottom_of_a_bowl(make: Any) -> None:
    params = [Value(0.0) for _ in CENTRE]
    assert run(make(params), 300) < 1e-4
    assert [p.data for p in params] == pytest.approx(CENTRE, abs=0.02)


@given(st.floats(-5, 5), st.floats(0.001, 1))
def test_one_sgd_step_is_w_minus_lr_times_g(w: float, lr: float) -> None:
    p = Value(w)
    (p * p).backward()  # g = 2w
    optim.SGD([p], lr=lr).step()
    assert p.data == pytest.approx(w - lr * 2 * w)


@given(st.lists(st.floats(-5, 5).filter(lambda g: abs(g) > 1e-3), min_size=1, max_size=5))
def test_adam_first_step_has_size_lr_whatever_the_gradient(grads: list[float]) -> None:
    params = [Value(0.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    optim.Adam(params, lr=0.01).step()
    assert [p.data for p in params] == pytest.approx(
        [-0.01 * math.copysign(1, g) for g in grads], rel=1e-4
    )


def test_weight_decay_pulls_towards_zero() -> None:
    p = Value(2.0)
    p.grad = 0.0
    optim.SGD([p], lr=0.1, weight_decay=0.5).step()
    assert p.data == pytest.approx(2.0 - 0.1 * 0.5 * 2.0)


def test_momentum_remembers_the_previous_step() -> None:
    p = Value(0.0)
    sgd = optim.SGD([p], lr=1.0, momentum=0.5)
    p.grad = 1.0
    sgd.step()  # v = 1, w = -1
    sgd.step()  # v = 0.5 + 1 = 1.5, w = -2.5
    assert p.data == pytest.approx(-2.5)


def test_schedules() -> None:
    sgd = optim.SGD([Value(0.0)], lr=1.0)
    linear = optim.LinearDecay(sgd, end=0.1, steps=100)
    seen = [sgd.lr]
    for _ in range(120):
        linear.step()
        seen.append(sgd.lr)
    assert (
        seen[0] == 1.0
        and seen[50] == pytest.approx(0.55)
        and seen[100] == seen[120] == pytest.approx(0.1)
    )
    assert seen[99] == pytest.approx(1.0 - 0.9 * 99 / 100)  # micrograd's demo: 1.0 - 0.9 k / 100

    sgd.lr = 0.8
    stepped = optim.StepDecay(sgd, step_size=10, gamma=0.5)
    rates = []
    for _ in range(25):
        stepped.step()
        rates.append(sgd.lr)
    assert rates[8] == 0.8 and rates[9] == 0.4 and rates[19] == 0.2

    sgd.lr = 1.0
    cosine = optim.CosineDecay(sgd, steps=10, end=0.0)
    rates = []
    for _ in range(12):
        cosine.step()
        rates.append(sgd.lr)
    assert rates[4] == pytest.approx(0.5) and rates[9] == pytest.approx(0.0) and rates[11] == 0.0
    assert all(a >= b for a, b in itertools.pairwise(rates))


def test_optimizers_take_a_module_and_check_their_arguments() -> None:
    model = nn.MLP(2, [2, 1])
    adam = optim.Adam(model, lr=0.01)
    assert adam.params == model.parameters() and repr(adam) == "Adam(lr=0.01, 9 parameters)"
    adam.lr = 0.5
    assert adam.lr == 0.5
    with pytest.raises(ValueError, match="learning rate"):
        adam.lr = -1
    with pytest.raises(ValueError, match="no parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="one number each"):
        optim.SGD([Value(np.ones(3))], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD(model, lr=0.1, momentum=1.5)


def test_a_non_finite_gradient_stops_the_step_and_names_the_parameter() -> None:
    model = nn.MLP(2, [2, 1])
    model.parameters()[3].grad = float("inf")
    before = model.state_dict()
    with pytest.raises(
        FloatingPointError, match=r"layers\.0\.neurons\.1\.w1.*smaller learning rate"
    ):
        optim.SGD(model, lr=0.1).step()
    assert model.state_dict() == before


def test_nesterov_needs_momentum_and_adam_needs_two_betas() -> None:
    with pytest.raises(ValueError, match="nesterov=True needs a momentum"):
        optim.SGD([Value(1.0)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas must be a pair"):
        optim.Adam([Value(1.0)], betas=(0.9,))  # type: ignore[arg-type]


def test_a_step_to_an_infinite_value_changes_nothing() -> None:
    p = Value(1.0, label="p")
    p.grad = 1e300
    with pytest.raises(FloatingPointError, match="new value of p"):
        optim.SGD([p], lr=1e300).step()
    assert p.data == 1.0
