"""Optimizers (how to step downhill) and learning-rate schedules (how big the steps are).

Each optimizer holds a list of parameters. `step()` moves every parameter against its
gradient; `zero_grad()` resets the gradients before the next backward pass. The update is
computed for all parameters at once with NumPy, then written back into the Values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from microgradx import checks
from microgradx.engine import Value

Array = NDArray[np.float64]


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
        """Set every parameter's gradient to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Move every parameter one step against its gradient (all of them, or none if a
        gradient or a new value is not a finite number)."""
        data = np.array([p.data for p in self.params])
        grad = np.array([p.grad for p in self.params], dtype=float)
        self._finite(grad, "gradient")
        with np.errstate(all="ignore"):
            new = self.update(data, grad)
        self._finite(new, "new value")
        for p, value in zip(self.params, new.tolist()):
            p.data = value

    def _finite(self, numbers: Array, what: str) -> None:
        if not np.all(np.isfinite(numbers)):
            name = self.params[int(np.argmin(np.isfinite(numbers)))].label or "a parameter"
            raise FloatingPointError(
                f"{type(self).__name__}.step(): the {what} of {name} is not a finite number; "
                f"training diverged, so try a smaller learning rate (now {self.lr:g})"
            )

    def update(self, data: Array, grad: Array) -> Array:
        """The new parameter values, from the current ones and their gradients."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Gradient descent: w ← w - lr·g. With momentum, a velocity v ← μ·v + g smooths the steps
    (Nesterov looks ahead along it); weight_decay adds λ·w to the gradient (L2)."""

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

    def update(self, data: Array, grad: Array) -> Array:
        grad = grad + self.weight_decay * data
        if self.momentum:
            self.velocity = self.momentum * self.velocity + grad
            grad = grad + self.momentum * self.velocity if self.nesterov else self.velocity
        return data - self.lr * grad


class Adagrad(Optimizer):
    """Each parameter's step shrinks with the sum of its past squared gradients."""

    def __init__(self, params: Iterable[Value] | Any, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = checks.non_negative("eps", eps)
        self.sum_of_squares = np.zeros(len(self.params))

    def update(self, data: Array, grad: Array) -> Array:
        self.sum_of_squares += grad**2
        return data - self.lr * grad / (np.sqrt(self.sum_of_squares) + self.eps)


class RMSProp(Optimizer):
    """Like Adagrad, with a moving average of squared gradients (decay alpha) instead of a sum."""

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

    def update(self, data: Array, grad: Array) -> Array:
        self.mean_square = self.alpha * self.mean_square + (1 - self.alpha) * grad**2
        return data - self.lr * grad / (np.sqrt(self.mean_square) + self.eps)


class Adam(Optimizer):
    """Momentum and RMSProp together, with bias correction for the first steps."""

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
        self.mean, self.mean_square, self.steps = (
            np.zeros(len(self.params)),
            np.zeros(len(self.params)),
            0,
        )

    def update(self, data: Array, grad: Array) -> Array:
        beta1, beta2 = self.betas
        self.steps += 1
        self.mean = beta1 * self.mean + (1 - beta1) * grad
        self.mean_square = beta2 * self.mean_square + (1 - beta2) * grad**2
        mean = self.mean / (1 - beta1**self.steps)
        mean_square = self.mean_square / (1 - beta2**self.steps)
        return data - self.lr * mean / (np.sqrt(mean_square) + self.eps)


# --- learning-rate schedules ----------------------------------------------------------------


class Schedule:
    """Changes an optimizer's learning rate: call `step()` once per update (or per epoch)."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer, self.start, self.count = optimizer, optimizer.lr, 0

    def step(self) -> None:
        self.count += 1
        self.optimizer.lr = self.lr_at(self.count)

    def lr_at(self, count: int) -> float:
        raise NotImplementedError


class LinearDecay(Schedule):
    """From the optimizer's lr down to `end` in a straight line over `steps` steps, then flat
    (micrograd's demo: 1.0 → 0.1 over 100 steps)."""

    def __init__(self, optimizer: Optimizer, end: float, steps: int) -> None:
        super().__init__(optimizer)
        self.end, self.steps = end, checks.whole_number("steps", steps)

    def lr_at(self, count: int) -> float:
        return self.start + (self.end - self.start) * min(count / self.steps, 1.0)


class StepDecay(Schedule):
    """Multiply the lr by `gamma` every `step_size` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size, self.gamma = checks.whole_number("step_size", step_size), gamma

    def lr_at(self, count: int) -> float:
        return self.start * self.gamma ** (count // self.step_size)


class CosineDecay(Schedule):
    """Half a cosine from the optimizer's lr down to `end` over `steps` steps, then flat."""

    def __init__(self, optimizer: Optimizer, steps: int, end: float = 0.0) -> None:
        super().__init__(optimizer)
        self.steps, self.end = checks.whole_number("steps", steps), end

    def lr_at(self, count: int) -> float:
        progress = min(count / self.steps, 1.0)
        return self.end + (self.start - self.end) * 0.5 * (1 + math.cos(math.pi * progress))
