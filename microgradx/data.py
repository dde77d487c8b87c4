"""Toy datasets for classification and regression, a train/test split and mini-batches.

Every generator returns `X`, a float array of shape (n_samples, n_features), and `y`, an int
array of shape (n_samples,) (floats for `make_regression`), with scikit-learn's signatures.
Randomness comes only from `seed`, or `random_state` (scikit-learn's name for the same thing):
an int, a NumPy Generator, or None for fresh randomness. The same seed gives the same data.
`shuffle=True` (the default, as in scikit-learn) mixes the examples; `shuffle=False` keeps them
in the order they were made, class by class, with the same points and the same noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from microgradx import checks

Seed = int | np.random.Generator | np.random.RandomState | None
Arrays = tuple[NDArray[np.float64], NDArray[np.int64]]
Floats = NDArray[np.float64]


def make_moons(
    n_samples: int | Sequence[int] = 100,
    noise: float | None = 0.0,
    seed: Seed = None,
    *,
    shuffle: bool = True,
    random_state: Seed = None,
) -> Arrays:
    """Two interleaving half circles: class 0 on top, class 1 below and shifted right.

    n_samples: a count (class 0 gets the odd one), or a pair (n_outer, n_inner) as in
    scikit-learn."""
    n_out, n_in = _two(n_samples)
    rng = _rng(seed, random_state, noise)
    outer = np.linspace(0, math.pi, n_out)
    inner = np.linspace(0, math.pi, n_in)
    X = np.concatenate(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            np.column_stack([1 - np.cos(inner), 0.5 - np.sin(inner)]),
        ]
    )
    return _finish(X, np.repeat([0, 1], [n_out, n_in]), noise, rng, shuffle)


def make_circles(
    n_samples: int | Sequence[int] = 100,
    noise: float | None = 0.0,
    factor: float = 0.8,
    seed: Seed = None,
    *,
    shuffle: bool = True,
    random_state: Seed = None,
) -> Arrays:
    """Two concentric circles: class 0 outside (radius 1), class 1 inside (radius `factor`).

    n_samples: a count (class 0 gets the odd one), or a pair (n_outer, n_inner) as in
    scikit-learn."""
    if not 0 < factor < 1:
        raise ValueError(f"factor is the inner circle's radius, between 0 and 1; got {factor!r}")
    n_out, n_in = _two(n_samples)
    rng = _rng(seed, random_state, noise)
    outer = np.linspace(0, 2 * math.pi, n_out, endpoint=False)
    inner = np.linspace(0, 2 * math.pi, n_in, endpoint=False)
    X = np.concatenate(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            factor * np.column_stack([np.cos(inner), np.sin(inner)]),
        ]
    )
    return _finish(X, np.repeat([0, 1], [n_out, n_in]), noise, rng, shuffle)


def make_xor(
    n_samples: int = 100,
    noise: float | None = 0.0,
    seed: Seed = None,
    *,
    shuffle: bool = True,
    random_state: Seed = None,
) -> Arrays:
    """Points in the square [-1, 1]²; class 1 where the two coordinates have opposite signs."""
    _split(n_samples, 1)
    rng = _rng(seed, random_state, noise)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return _finish(X, y, noise, rng, shuffle)


def make_spiral(
    n_samples: int = 100,
    n_classes: int = 3,
    noise: float | None = 0.0,
    seed: Seed = None,
    *,
    shuffle: bool = True,
    random_state: Seed = None,
) -> Arrays:
    """`n_classes` arms of a spiral winding out from the centre, one class per arm."""
    checks.whole_number("n_classes", n_classes, least=2)
    sizes = _split(n_samples, n_classes)
    rng = _rng(seed, random_state, noise)
    arms = []
    for k, size in enumerate(sizes):
        radius = np.linspace(0.05, 1, size)
        angle = np.linspace(0, 1.5 * math.pi, size) + 2 * math.pi * k / n_classes
        arms.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
    y = np.repeat(np.arange(n_classes), sizes)
    return _finish(np.concatenate(arms), y, noise, rng, shuffle)


def make_blobs(
    n_samples: int = 100,
    centers: int = 3,
    n_features: int = 2,
    cluster_std: float = 1.0,
    seed: Seed = None,
    *,
    shuffle: bool = True,
    random_state: Seed = None,
) -> Arrays:
    """Gaussian blobs around `centers` random centres in the box [-10, 10]^n_features."""
    checks.whole_number("n_features", n_features)
    sizes = _split(n_samples, centers)
    rng = _rng(seed, random_state, cluster_std)
    middles = rng.uniform(-10, 10, size=(centers, n_features))
    X = np.concatenate(
        [
            _noisy(np.tile(middles[k], (size, 1)), cluster_std, rng, "cluster_std")
            for k, size in enumerate(sizes)
        ]
    )
    return _finish(X, np.repeat(np.arange(centers), sizes), 0.0, rng, shuffle)


def make_linear(
    n_samples: int = 100,
    n_features: int = 2,
    noise: float | None = 0.0,
    margin: float = 0.1,
    seed: Seed = None,
    *,
    shuffle: bool = True,
    random_state: Seed = None,
) -> Arrays:
    """Two classes on either side of a random straight line (a plane in more dimensions), every
    point at least `margin` from it: one neuron can separate them exactly while noise is 0.

    The line passes within 0.5 of the origin, class 1 lies on the side its normal points to,
    and no point is further than 1 from the line. Gaussian noise, if asked for, moves the
    points afterwards, so a few may cross the line."""
    checks.whole_number("n_features", n_features)
    margin = checks.fraction("margin (the least distance from the line)", margin)
    sizes = _split(n_samples, 2)
    rng = _rng(seed, random_state, noise)
    normal = rng.standard_normal(n_features)
    normal /= np.linalg.norm(normal)
    offset = rng.uniform(-0.5, 0.5)  # the line: normal · x = offset
    side = np.concatenate([rng.uniform(-1, -margin, sizes[0]), rng.uniform(margin, 1, sizes[1])])
    along_line = rng.uniform(-1, 1, size=(len(side), n_features))
    along_line -= np.outer(along_line @ normal, normal)  # keep only the part along the line
    X = along_line + np.outer(offset + side, normal)
    return _finish(X, np.repeat([0, 1], sizes), noise, rng, shuffle)


@overload
def make_regression(
    n_samples: int = ...,
    n_features: int = ...,
    noise: float | None = ...,
    bias: float = ...,
    seed: Seed = ...,
    *,
    coef: Literal[False] = ...,
    shuffle: bool = ...,
    random_state: Seed = ...,
) -> tuple[Floats, Floats]: ...
@overload
def make_regression(
    n_samples: int = ...,
    n_features: int = ...,
    noise: float | None = ...,
    bias: float = ...,
    seed: Seed = ...,
    *,
    coef: Literal[True],
    shuffle: bool = ...,
    random_state: Seed = ...,
) -> tuple[Floats, Floats, Floats]: ...
def make_regression(
    n_samples: int = 100,
    n_features: int = 1,
    noise: float | None = 0.0,
    bias: float = 0.0,
    seed: Seed = None,
    *,
    coef: bool = False,
    shuffle: bool = True,
    random_state: Seed = None,
) -> tuple[Floats, Floats] | tuple[Floats, Floats, Floats]:
    """A straight-line (linear) target for regression: y = X·w + bias + noise·N(0, 1).

    X is uniform in [-1, 1]^n_features; each weight in w is between 0.5 and 2 in size, with a
    random sign (smaller than scikit-learn's, so that a learning rate near 0.1 works). Returns
    X, y (y floats); with coef=True also w, as scikit-learn does. The examples are drawn
    independently, so they come in random order whatever `shuffle` says."""
    checks.whole_number("n_features", n_features)
    n = _split(n_samples, 1)[0]
    bias = checks.finite_number("bias", bias)
    rng = _rng(seed, random_state, noise)
    checks.flag("shuffle", shuffle)
    X = rng.uniform(-1, 1, size=(n, n_features))
    weights = rng.uniform(0.5, 2, n_features) * rng.choice([-1.0, 1.0], n_features)
    y = X @ weights + bias
    if noise:
        y = _noisy(y, noise, rng)
    return (X, y, weights) if coef else (X, y)


def train_test_split(
    X: Any,
    y: Any,
    test_size: float = 0.25,
    seed: Seed = None,
    *,
    shuffle: bool = True,
    random_state: Seed = None,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Shuffle, then hold out a fraction (or a count) of the examples; with shuffle=False the
    last ones are held out, as in scikit-learn.

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
    rng = _generator(seed, random_state)
    if checks.flag("shuffle", shuffle):
        order = rng.permutation(len(X))
        test, train = order[:n_test], order[n_test:]
    else:
        train, test = np.arange(len(X) - n_test), np.arange(len(X) - n_test, len(X))
    return X[train], X[test], y[train], y[test]


def batches(
    X: Any,
    y: Any,
    batch_size: int,
    shuffle: bool = True,
    seed: Seed = None,
    *,
    random_state: Seed = None,
) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """Mini-batches (X_batch, y_batch) covering every example once; the last may be smaller.
    The arguments are checked at once, before the first batch is asked for."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}; they must match")
    checks.whole_number("batch_size", batch_size)
    rng = _generator(seed, random_state)
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    return (
        (X[order[i : i + batch_size]], y[order[i : i + batch_size]])
        for i in range(0, len(X), batch_size)
    )


# --- helpers------------------------------------------------------------------------------


def _split(n_samples: int, parts: int) -> list[int]:
    """n_samples shared out as evenly as possible among `parts` groups."""
    k = checks.whole_number("the number of classes or centres", parts)
    n = checks.whole_number("n_samples", n_samples, least=k)
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _two(n_samples: int | Sequence[int]) -> list[int]:
    """Moons and circles: a count shared out between the two classes, or the pair itself."""
    if _whole(n_samples) or isinstance(n_samples, (bool, np.bool_, str)):
        return _split(n_samples, 2)  # type: ignore[arg-type]  # (a bool or text: its error)
    try:
        n_out, n_in = n_samples  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(
            f"n_samples must be a count, or a pair (n_outer, n_inner); got {n_samples!r}"
        ) from None
    sizes = [
        checks.whole_number(f"n_samples[{i}]", n, least=0) for i, n in enumerate((n_out, n_in))
    ]
    if not sum(sizes):
        raise ValueError(f"n_samples={n_samples!r} asks for no examples at all")
    return sizes


def _whole(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _rng(seed: Seed, random_state: Seed, spread: float | None) -> np.random.Generator:
    checks.non_negative("noise (or cluster_std)", 0.0 if spread is None else spread)
    return _generator(seed, random_state)


def _generator(seed: Seed, random_state: Seed) -> np.random.Generator:
    """The random numbers to use: from seed, or from random_state (scikit-learn's name)."""
    if seed is not None and random_state is not None and not _same(seed, random_state):
        raise ValueError(
            f"seed={seed!r} and random_state={random_state!r} disagree: they are two names "
            f"for the same thing (random_state is scikit-learn's), so give only one"
        )
    chosen = random_state if seed is None else seed
    try:
        return np.random.default_rng(chosen)
    except (TypeError, ValueError) as error:
        name = "seed" if seed is not None else "random_state"
        raise type(error)(
            f"{name} must be a whole number >= 0, a NumPy Generator "
            f"(np.random.default_rng(0)) or None; got {chosen!r}"
        ) from None


def _same(seed: Seed, random_state: Seed) -> bool:
    return seed is random_state or (_whole(seed) and _whole(random_state) and seed == random_state)


def _noisy(X: NDArray[Any], spread: float, rng: np.random.Generator, name: str = "noise") -> Floats:
    """X plus Gaussian noise of standard deviation `spread`; a ValueError naming the argument
    if the points would not be finite numbers (too large for a float)."""
    with np.errstate(over="ignore", invalid="ignore"):
        noisy: Floats = X + spread * rng.standard_normal(X.shape)
    if not np.all(np.isfinite(noisy)):
        raise ValueError(
            f"{name}={spread!r} is too large: the points would not be finite numbers (too "
            f"large for a float); use a {name} of about 1 or less"
        )
    return noisy


def _finish(
    X: NDArray[Any], y: NDArray[Any], noise: float | None, rng: np.random.Generator, shuffle: bool
) -> Arrays:
    """Add Gaussian noise, then shuffle the examples (unless shuffle is False)."""
    X = _noisy(X, noise, rng) if noise else X.astype(np.float64)
    order = rng.permutation(len(X)) if checks.flag("shuffle", shuffle) else np.arange(len(X))
    return X[order].astype(np.float64), y[order].astype(np.int64)
