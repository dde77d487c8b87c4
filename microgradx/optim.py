"""Optimizers (how to step downhill) and learning-rate schedules (how big the steps are).

Each optimizer holds a list of parameters. `step()` moves every parameter against its
gradient; `zero_grad()` resets the gradients before the next backward pass. The update is
computed for all parameters at once with NumPy, then written back into the Values.

As in PyTorch, a parameter that received no gradient is left alone: one that no `backward()`
has reached since it was made or since `zero_grad()` (PyTorch's `.grad is None`; here its
`.grad` is the 0.0 `engine.UNREACHED`) is neither moved nor has its state (velocity, moments,
step count) changed, so weight decay, momentum and Adam do not move an unused parameter.
A parameter that was reached counts, even with a gradient of exactly 0, as does one whose
`.grad` was set by hand (`p.grad = 0.0`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from microgradx import checks
from microgradx.engine import UNREACHED, Unreached, Value

Array = NDArray[np.float64]
Reached = NDArray[np.intp] | slice  # the positions, in the optimizer's list, being updated
EVERY = slice(None)  # all of them


class Optimizer:
    """Base class: keeps the parameters and the learning rate; subclasses say how to update."""

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        params = params.parameters() if hasattr(params, "parameters") else params
        self.params: list[Value] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        for p in self.params:
            if not isinstance(p, Value) or isinstance(p.data, np.ndarray):
                raise TypeError(
                    f"{type(self).__name__} optimizes Values holding one number each; got {p!r}"
                )
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate (the step size); it may be changed between steps."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = checks.non_negative("the learning rate", value)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0, marked as not reached (PyTorch's None): a
        parameter that the next backward() does not reach is skipped by step()."""
        for p in self.params:
            p.grad = UNREACHED

    def step(self) -> None:
        """Move every parameter that received a gradient one step against it (all of them,
        or none if a gradient or a new value is not a finite number). Parameters that no
        backward() reached since zero_grad() are skipped, their state kept (see the module)."""
        params, grads = self.params, [p.grad for p in self.params]
        reached: Reached = EVERY
        if Unreached in set(map(type, grads)):  # some received no gradient: leave them out
            positions = [i for i, g in enumerate(grads) if type(g) is not Unreached]
            if not positions:
                return
            params, grads = [params[i] for i in positions], [grads[i] for i in positions]
            reached = np.array(positions, dtype=np.intp)
        data = np.array([p.data for p in params])
        grad = np.array(grads, dtype=float)
        self._finite(grad, "gradient", params)
        saved = self.state_dict()
        try:
            with np.errstate(all="ignore"):
                new = self.update(data, grad, reached)
            self._finite(new, "new value", params)
            for name, x in self._state().items():  # (a huge gradient's square: inf)
                self._finite(x, name, self.params)
        except BaseException:  # all or nothing: a refused (or interrupted) step leaves no trace
            self.load_state_dict(saved)
            raise
        for p, value in zip(params, new.tolist()):
            p.data = value

    def state_dict(self) -> dict[str, Array]:
        """A copy of the optimizer's state: every array it keeps (velocity, moments, step
        counts), one number per parameter, by name; `load_state_dict` puts it back."""
        return {name: x.copy() for name, x in self._state().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a state that `state_dict()` gave: the same names, a NumPy array of one
        finite number per parameter in each (whole numbers >= 0 for step counts, numbers >= 0
        for sums and means of squares), all checked before anything is set."""
        own = self._state()
        if not isinstance(state, dict):
            got = type(state).__name__
            raise TypeError(
                f"{type(self).__name__} state must be a dict such as state_dict() gives; got {got}"
            )
        if set(state) != set(own):
            raise ValueError(
                f"{type(self).__name__} keeps state {sorted(own)}; got {sorted(state)}"
            )
        for name, x in own.items():
            _check_state(name, state[name], x)
        for name, x in own.items():
            x[...] = state[name]

    def _state(self) -> dict[str, NDArray[Any]]:
        """The arrays the optimizer keeps, one number per parameter each, by name (not copies)."""
        return {name: x for name, x in vars(self).items() if isinstance(x, np.ndarray)}

    def _finite(self, numbers: Array, what: str, params: list[Value]) -> None:
        if not np.all(np.isfinite(numbers)):
            name = params[int(np.argmin(np.isfinite(numbers)))].label or "a parameter"
            raise FloatingPointError(
                f"{type(self).__name__}.step(): the {what} of {name} is not a finite number; "
                f"training diverged, so try a smaller learning rate (now {self.lr:g})"
            )

    def update(self, data: Array, grad: Array, reached: Reached = EVERY) -> Array:
        """The new values of the parameters, from their current values and gradients (and the
        optimizer's state, which it updates). step() passes only the parameters that received a
        gradient, and `reached`, their positions: the rows of the state arrays to use."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Gradient descent: w ← w - lr·g. With momentum, a velocity v ← μ·v + g smooths the steps
    and w ← w - lr·v (Nesterov looks ahead along it: w ← w - lr·(g + μ·v)); weight_decay adds
    λ·w to the gradient first (L2): g ← g + λ·w. As PyTorch's SGD (dampening 0)."""

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum, self.nesterov = checks.fraction("momentum", momentum), nesterov
        if nesterov and not momentum:
            raise ValueError(
                "nesterov=True needs a momentum > 0 (it looks ahead along the velocity)"
            )
        self.weight_decay = checks.non_negative("weight_decay", weight_decay)
        self.velocity = np.zeros(len(self.params))

    def update(self, data: Array, grad: Array, reached: Reached = EVERY) -> Array:
        grad = grad + self.weight_decay * data
        if self.momentum:
            velocity = self.momentum * self.velocity[reached] + grad
            self.velocity[reached] = velocity
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        return data - self.lr * grad


class Adagrad(Optimizer):
    """Each parameter's step shrinks with the sum of its past squared gradients:
    s ← s + g², w ← w - lr·g/(√s + eps). As PyTorch's Adagrad (no lr decay)."""

    def __init__(self, params: Iterable[Value] | Any, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = checks.non_negative("eps", eps)
        self.sum_of_squares = np.zeros(len(self.params))

    def update(self, data: Array, grad: Array, reached: Reached = EVERY) -> Array:
        sum_of_squares = self.sum_of_squares[reached] + grad**2
        self.sum_of_squares[reached] = sum_of_squares
        return data - self.lr * grad / (np.sqrt(sum_of_squares) + self.eps)


class RMSProp(Optimizer):
    """Like Adagrad, with a moving average of squared gradients (decay alpha) instead of a sum:
    s ← α·s + (1-α)·g², w ← w - lr·g/(√s + eps). As PyTorch's RMSprop."""

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        self.alpha, self.eps = checks.fraction("alpha", alpha), checks.non_negative("eps", eps)
        self.mean_square = np.zeros(len(self.params))

    def update(self, data: Array, grad: Array, reached: Reached = EVERY) -> Array:
        mean_square = self.alpha * self.mean_square[reached] + (1 - self.alpha) * grad**2
        self.mean_square[reached] = mean_square
        return data - self.lr * grad / (np.sqrt(mean_square) + self.eps)


class Adam(Optimizer):
    """Momentum and RMSProp together, with bias correction for the first steps:
    m ← β₁·m + (1-β₁)·g, v ← β₂·v + (1-β₂)·g², m̂ = m/(1-β₁ᵗ), v̂ = v/(1-β₂ᵗ),
    w ← w - lr·m̂/(√v̂ + eps), where t counts this parameter's steps (`steps`: one count per
    parameter, as in PyTorch, since a skipped parameter does not take the step)."""

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair such as (0.9, 0.999), got {betas!r}")
        self.betas = (checks.fraction("betas[0]", betas[0]), checks.fraction("betas[1]", betas[1]))
        self.eps = checks.non_negative("eps", eps)
        self.mean, self.mean_square = np.zeros(len(self.params)), np.zeros(len(self.params))
        self.steps = np.zeros(len(self.params), dtype=np.int64)

    def update(self, data: Array, grad: Array, reached: Reached = EVERY) -> Array:
        beta1, beta2 = self.betas
        self.steps[reached] += 1
        steps = self.steps[reached]
        mean = beta1 * self.mean[reached] + (1 - beta1) * grad
        mean_square = beta2 * self.mean_square[reached] + (1 - beta2) * grad**2
        self.mean[reached], self.mean_square[reached] = mean, mean_square
        corrected_mean = mean / (1 - beta1**steps)
        corrected_mean_square = mean_square / (1 - beta2**steps)
        return data - self.lr * corrected_mean / (np.sqrt(corrected_mean_square) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): the decay shrinks the weight
    directly instead of passing through the gradient and Adam's scaling,
    w ← w - lr·(m̂/(√v̂ + eps) + λ·w), with m̂ and v̂ as in Adam. weight_decay λ is 0.01 by
    default, as in PyTorch's AdamW."""

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps)
        self.weight_decay = checks.non_negative("weight_decay", weight_decay)

    def update(self, data: Array, grad: Array, reached: Reached = EVERY) -> Array:
        return super().update(data, grad, reached) - self.lr * self.weight_decay * data


def _check_state(name: str, given: Any, own: NDArray[Any]) -> None:
    """An error naming the state entry `name` unless `given` can replace `own`: an array of as
    many numbers, finite, whole and >= 0 for an integer array (steps), >= 0 for squares."""
    if not isinstance(given, np.ndarray) or given.dtype.kind not in "iuf":
        got = f"{type(given).__name__} {repr(given)[:40]}"
        raise TypeError(
            f"state {name!r} must be a NumPy array of numbers, as state_dict() gives; got {got}"
        )
    if given.shape != own.shape:
        raise ValueError(f"state {name!r} must hold {own.size} numbers, one per parameter")
    bad = ~np.isfinite(given)
    need = "finite numbers"
    if own.dtype.kind == "i":  # step counts
        need = "whole numbers >= 0 (step counts)"
        bad |= (given < 0) | (given != np.trunc(given)) | (given >= np.iinfo(own.dtype).max + 1)
    elif "square" in name:  # sums and means of squares
        need = "finite numbers >= 0 (squares)"
        bad |= given < 0
    if np.any(bad):
        at = int(np.argmax(bad))
        raise ValueError(
            f"state {name!r} must hold {need}; got {given[at].item()!r} for parameter {at}"
        )


# --- learning-rate schedules ----------------------------------------------------------------


class Schedule:
    """Changes an optimizer's learning rate: call `step()` once per update (or per epoch)."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer, self.start, self.count = optimizer, optimizer.lr, 0

    def step(self) -> None:
        """Set the optimizer's lr to the next step's; a ValueError, with the lr and the count
        left as they were, if that lr would not be a finite number (gamma > 1 for long)."""
        count = self.count + 1
        try:
            lr = self.lr_at(count)
        except OverflowError:  # (a float's ** overflows by raising)
            lr = math.inf
        if not math.isfinite(lr):
            raise ValueError(
                f"{type(self).__name__}.step(): step {count} would set the learning rate to "
                f"{lr}, not a finite number, so the lr stays {self.optimizer.lr:g}; make the "
                "schedule shrink the lr (StepDecay: gamma <= 1)"
            )
        self.optimizer.lr = lr
        self.count = count

    def lr_at(self, count: int) -> float:
        raise NotImplementedError


class LinearDecay(Schedule):
    """From the optimizer's lr down to `end` in a straight line over `steps` steps, then flat
    (micrograd's demo: 1.0 → 0.1 over 100 steps)."""

    def __init__(self, optimizer: Optimizer, end: float, steps: int) -> None:
        super().__init__(optimizer)
        self.end = checks.non_negative("end (the last learning rate)", end)
        self.steps = checks.whole_number("steps", steps)

    def lr_at(self, count: int) -> float:
        return self.start + (self.end - self.start) * min(count / self.steps, 1.0)


class StepDecay(Schedule):
    """Multiply the lr by `gamma` every `step_size` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = checks.whole_number("step_size", step_size)
        self.gamma = checks.non_negative("gamma (the factor for the lr)", gamma)

    def lr_at(self, count: int) -> float:
        return self.start * self.gamma ** (count // self.step_size)


class CosineDecay(Schedule):
    """Half a cosine from the optimizer's lr down to `end` over `steps` steps, then flat."""

    def __init__(self, optimizer: Optimizer, steps: int, end: float = 0.0) -> None:
        super().__init__(optimizer)
        self.steps = checks.whole_number("steps", steps)
        self.end = checks.non_negative("end (the last learning rate)", end)

    def lr_at(self, count: int) -> float:
        progress = min(count / self.steps, 1.0)
        return self.end + (self.start - self.end) * 0.5 * (1 + math.cos(math.pi * progress))
