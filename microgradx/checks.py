"""Shared validators: the checks that many modules make of the arguments users pass.

Each returns the value it checked (converted: a float, an int) or raises an error that names
the argument, says what it must be and shows what it got.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

from microgradx.errors import NUMBERS, finite_number

__all__ = ["choice", "finite_number", "flag", "fraction", "non_negative", "whole_number"]


def whole_number(what: str, x: Any, least: int = 1) -> int:
    """A whole number >= least (a bool is not one), or a ValueError naming `what`."""
    if not isinstance(x, (int, np.integer)) or isinstance(x, bool) or x < least:
        raise ValueError(f"{what} must be a whole number >= {least}, got {_clip(x)}")
    return int(x)


def non_negative(what: str, x: Any) -> float:
    """A finite number >= 0 (noise, eps, weight decay), or a ValueError naming `what`."""
    if not _number(x) or not 0 <= x < math.inf:
        raise ValueError(f"{what} must be a finite number >= 0, got {_clip(x)}")
    return float(x)


def fraction(what: str, x: Any, meaning: str = "must be") -> float:
    """A number in [0, 1) (dropout, momentum, betas), or a ValueError naming `what`."""
    if not _number(x) or not 0 <= x < 1:
        raise ValueError(f"{what} {meaning} in [0, 1), got {_clip(x)}")
    return float(x)


def choice(what: str, x: Any, choices: Collection[str]) -> str:
    """One of the names in `choices`, or a ValueError listing them."""
    if type(x) is not str or x not in choices:  # plain text: a custom op row is not a name
        raise ValueError(f"{what} must be one of {', '.join(choices)}; got {_clip(x)}")
    return x


def flag(what: str, x: Any) -> bool:
    """True or False (not 0, 1 or "no": a switch), or a TypeError naming `what`."""
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{what} must be True or False, got {_clip(x)}")
    return bool(x)


def _number(x: Any) -> bool:
    return isinstance(x, NUMBERS) and not isinstance(x, bool)


def _clip(x: Any, limit: int = 40) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."
