"""microgradx: a scalar reverse-mode autograd engine for learning how neural networks learn."""

from microgradx import data, losses, nn, optim, train
from microgradx.engine import Value
from microgradx.functional import custom_op, grad, value_and_grad, weighted_sum
from microgradx.recording import no_grad

__all__ = [
    "Value",
    "custom_op",
    "data",
    "grad",
    "losses",
    "nn",
    "no_grad",
    "optim",
    "train",
    "value_and_grad",
    "weighted_sum",
]
__version__ = "0.1.0"
