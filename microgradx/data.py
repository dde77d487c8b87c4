"""Toy datasets for classification, a train/test split and mini-batches.

Every generator returns `X`, a float array of shape (n_samples, n_features), and `y`, an int
array of shape (n_samples,), with signatures like scikit-learn's. Randomness comes only from
`seed` (an int, or a NumPy Generator), so the same seed gives the same data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from microgradx import checks

Seed = int | np.random.Generator | None
Arrays = tuple[NDArray[np.float64], NDArray[np.int64]]


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: Seed = None) -> Arrays:
    """Two interleaving half circles: class 0 on top, class 1 below and shifted right."""
    n_out, n_in = _split(n_samples, 2)
    rng = _rng(seed, noise)
    outer = np.linspace(0, math.pi, n_out)
    inner = np.linspace(0, math.pi, n_in)
    X = np.concatenate(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            np.column_stack([1 - np.cos(inner), 0.5 - np.sin(inner)]),
        ]
    )
    return _finish(X, np.repeat([0, 1], [n_out, n_in]), noise, rng)


def make_circles(
    n_samples: int = 100, noise: float = 0.0, factor: float = 0.8, seed: Seed = None
) -> Arrays:
    """Two concentric circles: class 0 outside (radius 1), class 1 inside (radius `factor`)."""
    if not 0 < factor < 1:
        raise ValueError(f"factor is the inner circle's radius, between 0 and 1; got {factor!r}")
    n_out, n_in = _split(n_samples, 2)
    rng = _rng(seed, noise)
    outer = np.linspace(0, 2 * math.pi, n_out, endpoint=False)
    inner = np.linspace(0, 2 * math.pi, n_in, endpoint=False)
    X = np.concatenate(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            factor * np.column_stack([np.cos(inner), np.sin(inner)]),
        ]
    )
    return _finish(X, np.repeat([0, 1], [n_out, n_in]), noise, rng)


def make_xor(n_samples: int = 100, noise: float = 0.0, seed: Seed = None) -> Arrays:
    """Points in the square [-1, 1]²; class 1 where the two coordinates have opposite signs."""
    _split(n_samples, 1)
    rng = _rng(seed, noise)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return _finish(X, y, noise, rng)


def make_spiral(
    n_samples: int = 100, n_classes: int = 3, noise: float = 0.0, seed: Seed = None
) -> Arrays:
    """`n_classes` arms of a spiral winding out from the centre, one class per arm."""
    checks.whole_number("n_classes", n_classes, least=2)
    sizes = _split(n_samples, n_classes)
    rng = _rng(seed, noise)
    arms = []
    for k, size in enumerate(sizes):
        radius = np.linspace(0.05, 1, size)
        angle = np.linspace(0, 1.5 * math.pi, size) + 2 * math.pi * k / n_classes
        arms.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
    return _finish(np.concatenate(arms), np.repeat(np.arange(n_classes), sizes), noise, rng)


def make_blobs(
    n_samples: int = 100,
    centers: int = 3,
    n_features: int = 2,
    cluster_std: float = 1.0,
    seed: Seed = None,
) -> Arrays:
    """Gaussian blobs around `centers` random centres in the box [-10, 10]^n_features."""
    checks.whole_number("n_features", n_features)
    sizes = _split(n_samples, centers)
    rng = _rng(seed, cluster_std)
    middles = rng.uniform(-10, 10, size=(centers, n_features))
    X = np.concatenate(
        [
            middles[k] + cluster_std * rng.standard_normal((size, n_features))
            for k, size in enumerate(sizes)
        ]
    )
    return _finish(X, np.repeat(np.arange(centers), sizes), 0.0, rng)


def train_test_split(
    X: Any, y: Any, test_size: float = 0.25, seed: Seed = None
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Shuffle, then hold out a fraction (or a count) of the examples.

    Returns X_train, X_test, y_train, y_test (scikit-learn's order)."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}; they must match")
    if (
        isinstance(test_size, float)
        and 0 < test_size < 1
        and 0 < math.ceil(test_size * len(X)) < len(X)
    ):
        n_test = math.ceil(test_size * len(X))
    elif _whole(test_size) and 0 < test_size < len(X):
        n_test = int(test_size)
    else:
        raise ValueError(
            f"test_size must be a fraction between 0 and 1, or a count between 1 and "
            f"{len(X) - 1}; got {test_size!r}"
        )
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def batches(
    X: Any, y: Any, batch_size: int, shuffle: bool = True, seed: Seed = None
) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """Mini-batches (X_batch, y_batch) covering every example once; the last may be smaller.
    The arguments are checked at once, before the first batch is asked for."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}; they must match")
    checks.whole_number("batch_size", batch_size)
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    return (
        (X[order[i : i + batch_size]], y[order[i : i + batch_size]])
        for i in range(0, len(X), batch_size)
    )


# --- helpers ------------------------------------------------------------------------------


def _split(n_samples: int, parts: int) -> list[int]:
    """n_samples shared out as evenly as possible among `parts` groups."""
    k = checks.whole_number("the number of classes or centres", parts)
    n = checks.whole_number("n_samples", n_samples, least=k)
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _whole(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _rng(seed: Seed, spread: float) -> np.random.Generator:
    checks.non_negative("noise (or cluster_std)", spread)
    return np.random.default_rng(seed)


def _finish(X: NDArray[Any], y: NDArray[Any], noise: float, rng: np.random.Generator) -> Arrays:
    """Add Gaussian noise, then shuffle the examples."""
    X = X + noise * rng.standard_normal(X.shape) if noise else X.astype(np.float64)
    order = rng.permutation(len(X))
    return X[order].astype(np.float64), y[order].astype(np.int64)
