"""Toy datasets, the split and the mini-batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import data

GENERATORS: dict[str, Callable[..., Any]] = {
    "moons": data.make_moons,
    "circles": data.make_circles,
    "xor": data.make_xor,
    "spiral": data.make_spiral,
    "blobs": data.make_blobs,
}


@pytest.mark.parametrize("name", GENERATORS)
@given(n=st.integers(6, 300), seed=st.integers(0, 2**16))
def test_shapes_types_classes_and_seeds(name: str, n: int, seed: int) -> None:
    make = GENERATORS[name]
    X, y = make(n_samples=n, seed=seed)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    classes = 3 if name in ("spiral", "blobs") else 2
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= (1 if name != "xor" else n)
    again, _ = make(n_samples=n, seed=seed)
    assert np.array_equal(X, again)


def test_different_seeds_give_different_data() -> None:
    for name, make in GENERATORS.items():
        extra = {} if name == "blobs" else {"noise": 0.1}
        assert not np.array_equal(make(50, seed=1, **extra)[0], make(50, seed=2, **extra)[0])


def test_circles_have_the_radii_asked_for() -> None:
    X, y = data.make_circles(200, noise=0.0, factor=0.5, seed=0)
    radii = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radii[y == 0], 1.0) and np.allclose(radii[y == 1], 0.5)


def test_xor_labels_follow_the_signs() -> None:
    X, y = data.make_xor(500, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_moons_are_two_half_circles() -> None:
    X, y = data.make_moons(100, seed=0)
    assert np.allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    assert np.allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)


def test_spiral_can_have_more_classes() -> None:
    _, y = data.make_spiral(500, n_classes=5, seed=0)
    assert set(y) == {0, 1, 2, 3, 4}


@given(n=st.integers(4, 200), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 99))
def test_train_test_split_is_a_partition(n: int, fraction: float, seed: int) -> None:
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    y = np.arange(n)
    if np.ceil(fraction * n) >= n:  # nothing left to train on
        with pytest.raises(ValueError, match="test_size"):
            data.train_test_split(X, y, test_size=fraction, seed=seed)
        return
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=fraction, seed=seed)
    assert len(X_test) == int(np.ceil(fraction * n))
    assert sorted(np.concatenate([y_train, y_test])) == list(range(n))
    assert np.array_equal(X_train[:, 0], 2 * y_train) and np.array_equal(X_test[:, 0], 2 * y_test)


@given(n=st.integers(1, 100), size=st.integers(1, 40), shuffle=st.booleans())
def test_batches_cover_every_example_once(n: int, size: int, shuffle: bool) -> None:
    X, y = np.arange(n, dtype=float).reshape(n, 1), np.arange(n)
    seen = list(data.batches(X, y, size, shuffle=shuffle, seed=0))
    assert all(len(xb) == len(yb) <= size for xb, yb in seen)
    assert len(seen) == -(-n // size)
    order = np.concatenate([yb for _, yb in seen])
    assert sorted(order) == list(range(n)) and (shuffle or list(order) == list(range(n)))


@pytest.mark.parametrize(
    "call, complaint",
    [
        (lambda: data.make_moons(0), "n_samples"),
        (lambda: data.make_moons(10, noise=-1), "noise"),
        (lambda: data.make_circles(10, factor=1.5), "factor"),
        (lambda: data.make_spiral(10, n_classes=1), "n_classes"),
        (lambda: data.train_test_split(np.ones((4, 2)), np.ones(3)), "4 examples but y has 3"),
        (lambda: data.train_test_split(np.ones((4, 2)), np.ones(4), test_size=1.5), "test_size"),
        (lambda: list(data.batches(np.ones((4, 2)), np.ones(4), 0)), "batch_size"),
    ],
)
def test_bad_arguments_are_named(call: Callable[[], Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        call()


def test_numpy_counts_and_eager_checks() -> None:
    X, y = data.make_moons(np.int64(10), seed=0)
    assert len(X) == 10
    with pytest.raises(ValueError, match="batch_size"):
        data.batches(X, y, 0)  # checked at once, not when the first batch is asked for
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(X, y, test_size=0.95)
