"""Optimizers and schedules: properties that hold whatever the implementation."""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

import numpy as np
import pytest
from conftest import need_module
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, nn, optim
from microgradx.engine import UNREACHED, Unreached

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


# --- parameters that received no gradient, and AdamW: against PyTorch's algorithms ----------
#
# The oracle below is written from PyTorch's documented algorithms, one parameter at a time
# with plain floats: a parameter whose gradient is None is skipped (`continue`), so its state
# stays as it was; Adam keeps one step count per parameter; AdamW first multiplies the weight
# by (1 - lr·λ), then takes Adam's step as PyTorch arranges it (lr/(1-β₁ᵗ) and
# √v/√(1-β₂ᵗ) + eps).

KINDS = ["SGD", "Adagrad", "RMSProp", "Adam", "AdamW"]


def oracle_step(
    kind: str, h: dict[str, Any], weights: list[float], grads: list[float | None], state: list[Any]
) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue  # PyTorch: `if p.grad is None: continue`
        s, w = state[i], weights[i]
        if kind == "SGD":
            g = g + h["weight_decay"] * w
            if h["momentum"]:
                s["velocity"] = g if "velocity" not in s else h["momentum"] * s["velocity"] + g
                g = g + h["momentum"] * s["velocity"] if h["nesterov"] else s["velocity"]
            w = w - h["lr"] * g
        elif kind == "Adagrad":
            s["sum_of_squares"] = s.get("sum_of_squares", 0.0) + g * g
            w = w - h["lr"] * g / (math.sqrt(s["sum_of_squares"]) + h["eps"])
        elif kind == "RMSProp":
            s["mean_square"] = h["alpha"] * s.get("mean_square", 0.0) + (1 - h["alpha"]) * g * g
            w = w - h["lr"] * g / (math.sqrt(s["mean_square"]) + h["eps"])
        else:
            beta1, beta2 = h["betas"]
            s["steps"] = s.get("steps", 0) + 1
            if kind == "AdamW":
                w = w * (1 - h["lr"] * h["weight_decay"])
            s["mean"] = beta1 * s.get("mean", 0.0) + (1 - beta1) * g
            s["mean_square"] = beta2 * s.get("mean_square", 0.0) + (1 - beta2) * g * g
            step_size = h["lr"] / (1 - beta1 ** s["steps"])
            denominator = math.sqrt(s["mean_square"]) / math.sqrt(1 - beta2 ** s["steps"])
            w = w - step_size * s["mean"] / (denominator + h["eps"])
        weights[i] = w


@st.composite
def hyperparameters(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    lr = draw(st.floats(1e-3, 0.5))
    eps = draw(st.sampled_from([1e-8, 1e-3]))
    betas = (draw(st.floats(0.5, 0.95)), draw(st.floats(0.9, 0.999)))
    if kind == "SGD":
        momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
        nesterov = momentum > 0 and draw(st.booleans())
        weight_decay = draw(st.sampled_from([0.0, 0.1]))
        return {"lr": lr, "momentum": momentum, "nesterov": nesterov, "weight_decay": weight_decay}
    if kind == "Adagrad":
        return {"lr": lr, "eps": eps}
    if kind == "RMSProp":
        return {"lr": lr, "alpha": draw(st.floats(0.5, 0.99)), "eps": eps}
    if kind == "Adam":
        return {"lr": lr, "betas": betas, "eps": eps}
    return {"lr": lr, "betas": betas, "eps": eps, "weight_decay": draw(st.floats(0.0, 0.5))}


Use = dict[int, float]  # one backward pass: the coefficient c of each parameter it uses (Σ c·p)


@st.composite
def training(draw: st.DrawFn) -> tuple[list[float], list[list[Use]]]:
    """Starting weights, then steps; each step is one or two backward passes (gradients
    accumulate) that use some of the parameters, perhaps with a coefficient of 0 (reached,
    gradient 0), perhaps none of them."""
    n = draw(st.integers(1, 5))
    weights = draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n))
    coefficient = st.one_of(st.just(0.0), st.floats(-5, 5))
    use = st.dictionaries(st.integers(0, n - 1), coefficient, max_size=n)
    steps = draw(st.lists(st.lists(use, min_size=1, max_size=2), min_size=1, max_size=6))
    return weights, steps


def received(n: int, passes: list[Use]) -> list[float | None]:
    """Each parameter's gradient after the passes: None if no pass used it."""
    grads: list[float | None] = [None] * n
    for use in passes:
        for i, c in use.items():
            grads[i] = c if grads[i] is None else grads[i] + c  # type: ignore[operator]
    return grads


def make_optimizer(kind: str, params: list[Value], h: dict[str, Any]) -> optim.Optimizer:
    return getattr(optim, kind)(params, **h)  # type: ignore[no-any-return]


def train_microgradx(
    kind: str, h: dict[str, Any], weights: list[float], steps: list[list[Use]]
) -> tuple[list[float], optim.Optimizer]:
    params = [Value(w, label=f"p{i}") for i, w in enumerate(weights)]
    optimizer = make_optimizer(kind, params, h)
    for number, passes in enumerate(steps):
        if number:  # the first step starts from fresh parameters, as in PyTorch
            optimizer.zero_grad()
        for use in passes:
            if use:
                loss = Value(0.0)
                for i, c in use.items():
                    loss = loss + params[i] * c
                loss.backward()
        optimizer.step()
    return [p.data for p in params], optimizer


STATE = {  # the oracle's state names and the optimizer's arrays that hold them
    "SGD": ["velocity"],
    "Adagrad": ["sum_of_squares"],
    "RMSProp": ["mean_square"],
    "Adam": ["mean", "mean_square", "steps"],
    "AdamW": ["mean", "mean_square", "steps"],
}


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_every_optimizer_follows_pytorchs_algorithm_and_skips_unused_parameters(
    kind: str, data: st.DataObject
) -> None:
    h = data.draw(hyperparameters(kind))
    weights, steps = data.draw(training())
    found, optimizer = train_microgradx(kind, h, weights, steps)
    expected, state = list(weights), [{} for _ in weights]
    for passes in steps:
        oracle_step(kind, h, expected, received(len(weights), passes), state)
    assert found == pytest.approx(expected, rel=1e-9, abs=1e-12)
    for name in STATE[kind] if kind != "SGD" or h["momentum"] else []:
        held = [s.get(name, 0) for s in state]  # a parameter never stepped: its state is 0
        assert list(getattr(optimizer, name)) == pytest.approx(held, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_every_optimizer_agrees_with_torch(kind: str, data: st.DataObject) -> None:
    need_module("torch")
    import torch

    h = data.draw(hyperparameters(kind))
    weights, steps = data.draw(training())
    found, _ = train_microgradx(kind, h, weights, steps)
    tensors = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    torch_kind = {"RMSProp": "RMSprop"}.get(kind, kind)
    torch_optimizer = getattr(torch.optim, torch_kind)(tensors, **h)
    for passes in steps:
        torch_optimizer.zero_grad()  # set_to_none: an unused parameter's grad stays None
        for use in passes:
            if use:
                sum(tensors[i] * c for i, c in use.items()).backward()  # type: ignore[union-attr]
        torch_optimizer.step()
    assert found == pytest.approx([t.item() for t in tensors], rel=1e-9, abs=1e-12)


def test_fresh_and_zeroed_gradients_are_unreached_and_a_backward_pass_reaches_them() -> None:
    w, unused = Value(2.0, label="w"), Value(3.0, label="unused")
    assert (
        w.grad == 0.0
        and isinstance(w.grad, Unreached)
        and repr(w) == "Value(data=2.0, grad=0.0, label='w')"
    )
    (w * 0.0).backward()  # reached, with gradient 0
    assert w.grad == 0.0 and type(w.grad) is float
    assert isinstance(copy.deepcopy(unused).grad, Unreached)
    sgd = optim.SGD([w, unused], lr=0.1, weight_decay=0.5)
    sgd.step()
    assert w.data == pytest.approx(2.0 - 0.1 * 0.5 * 2.0) and unused.data == 3.0
    sgd.zero_grad()
    assert w.grad is UNREACHED and unused.grad is UNREACHED
    sgd.step()  # nothing reached: nothing moves
    assert w.data == pytest.approx(1.9) and unused.data == 3.0
    model = nn.MLP(2, [2, 1], seed=0)
    (model([1.0, 2.0]) * 1.0).backward()  # type: ignore[operator]
    model.zero_grad()
    assert all(p.grad is UNREACHED for p in model.parameters())


def test_a_parameter_left_out_keeps_its_momentum_and_adam_counts_its_own_steps() -> None:
    a, b = Value(1.0), Value(1.0)
    sgd = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = 1.0, 1.0
    sgd.step()  # both have velocity 1
    sgd.zero_grad()
    a.grad = 1.0
    sgd.step()  # b has no gradient: it does not coast on its velocity (PyTorch)
    assert list(sgd.velocity) == pytest.approx([1.9, 1.0]) and b.data == pytest.approx(0.9)
    adam = optim.Adam([a, b], lr=0.1)
    for _ in range(3):
        adam.zero_grad()
        a.grad = 1.0
        adam.step()
    adam.zero_grad()
    b.grad = 1.0
    adam.step()
    assert list(adam.steps) == [3, 1]
    assert b.data == pytest.approx(0.9 - 0.1)  # b's first step: size lr, bias-corrected


@given(
    st.floats(-5, 5),
    st.floats(-5, 5).filter(lambda g: abs(g) > 1e-3),
    st.floats(1e-3, 0.5),
    st.floats(0, 0.5),
)
def test_one_adamw_step_is_a_step_of_size_lr_plus_the_decay(
    w: float, g: float, lr: float, decay: float
) -> None:
    p = Value(w)
    p.grad = g
    optim.AdamW([p], lr=lr, weight_decay=decay, eps=0.0).step()
    assert p.data == pytest.approx(w - lr * (np.sign(g) + decay * w), abs=1e-12)


def test_adamw_defaults_are_pytorchs_and_it_checks_weight_decay() -> None:
    adamw = optim.AdamW([Value(1.0)])
    assert (adamw.lr, adamw.betas, adamw.eps, adamw.weight_decay) == (
        1e-3,
        (0.9, 0.999),
        1e-8,
        0.01,
    )
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0"):
        optim.AdamW([Value(1.0)], weight_decay=-0.1)


@pytest.mark.parametrize("kind", KINDS)
def test_update_without_positions_updates_every_parameter(kind: str) -> None:
    """The lessons time `optimizer.update(weights, gradients)` on its own, for all parameters."""
    params = [Value(1.0), Value(-2.0)]
    grads = np.array([0.5, -1.5])
    expected = [1.0, -2.0]
    oracle_step(kind, {**OPTIONS[kind]}, expected, list(grads), [{}, {}])
    found = make_optimizer(kind, params, OPTIONS[kind]).update(np.array([1.0, -2.0]), grads)
    assert list(found) == pytest.approx(expected, rel=1e-12)


OPTIONS: dict[str, dict[str, Any]] = {
    "SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    "Adagrad": {"lr": 0.1, "eps": 1e-10},
    "RMSProp": {"lr": 0.1, "alpha": 0.9, "eps": 1e-8},
    "Adam": {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8},
    "AdamW": {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1},
}
