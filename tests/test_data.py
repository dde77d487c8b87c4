"""Toy datasets, the split and the mini-batches."""

from __future__ import annotations

import hashlib
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
    "linear": data.make_linear,
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


# --- scikit-learn's conventions: random_state, shuffle, a pair of counts ------------------


def fingerprint(*arrays: Any) -> str:
    """A short hash of arrays (floats rounded to 9 decimals, so a last-digit difference in a
    platform's cos or sin does not count)."""
    digest = hashlib.sha256()
    for array in map(np.asarray, arrays):
        if array.dtype.kind == "f":
            digest.update((np.round(array, 9) + 0.0).tobytes())
        else:
            digest.update(array.astype(np.int64).tobytes())
    return digest.hexdigest()[:16]


_X20, _Y20 = np.arange(40.0).reshape(20, 2), np.arange(20)
BEFORE: list[tuple[Callable[[], Any], str]] = [  # computed by the code before random_state
    (lambda: data.make_moons(101, 0.2, 3), "388e5eb09eb28271"),
    (lambda: data.make_moons(10, seed=0), "0f1007a415199718"),
    (lambda: data.make_circles(100, 0.05, 0.5, 0), "9153420464d3103c"),
    (lambda: data.make_circles(7, seed=1), "be4cba846a833a55"),
    (lambda: data.make_xor(50, 0.1, 2), "17328da04d4866d3"),
    (lambda: data.make_spiral(60, 4, 0.1, 5), "bb644ca701ba85f5"),
    (lambda: data.make_blobs(30, 3, 2, 1.5, 9), "58cd9e5c10a49a8d"),
    (lambda: data.train_test_split(_X20, _Y20, 0.3, 4), "c17094aec085dbd3"),
    (lambda: [a for b in data.batches(_X20, _Y20, 6, True, 8) for a in b], "04810b0df491c231"),
]


@pytest.mark.parametrize("call, expected", BEFORE)
def test_existing_calls_give_the_same_arrays_as_before(
    call: Callable[[], Any], expected: str
) -> None:
    assert fingerprint(*call()) == expected


SEEDED: dict[str, Callable[..., Any]] = {
    **{
        name: lambda make=make, **kw: make(40, noise=0.1, **kw)
        for name, make in GENERATORS.items()
        if name != "blobs"
    },
    "blobs": lambda **kw: data.make_blobs(40, **kw),
    "regression": lambda **kw: data.make_regression(40, n_features=2, noise=0.1, **kw),
    "split": lambda **kw: data.train_test_split(_X20, _Y20, **kw),
    "batches": lambda **kw: [a for b in data.batches(_X20, _Y20, 6, **kw) for a in b],
}


@pytest.mark.parametrize("name", SEEDED)
@given(seed=st.integers(0, 2**32))
def test_random_state_is_another_name_for_seed(name: str, seed: int) -> None:
    call = SEEDED[name]
    expected = fingerprint(*call(seed=seed))
    assert fingerprint(*call(random_state=seed)) == expected
    assert fingerprint(*call(seed=seed, random_state=seed)) == expected  # the same: accepted
    assert fingerprint(*call(random_state=np.random.default_rng(seed))) == expected
    assert fingerprint(*call(random_state=np.int64(seed))) == expected
    with pytest.raises(ValueError, match=f"seed={seed} and random_state={seed + 1} disagree"):
        call(seed=seed, random_state=seed + 1)


def test_random_state_takes_what_scikit_learn_passes_and_names_what_is_wrong() -> None:
    old_style = data.make_moons(20, noise=0.1, random_state=np.random.RandomState(0))[0]
    assert old_style.shape == (20, 2)  # a RandomState, as in older scikit-learn code
    with pytest.raises(TypeError, match=r"random_state must be a whole number >= 0.*got 1\.5"):
        data.make_moons(20, random_state=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"seed must be a whole number >= 0.*got -1"):
        data.train_test_split(_X20, _Y20, seed=-1)
    with pytest.raises(ValueError, match="disagree"):
        data.make_circles(20, seed=np.random.default_rng(0), random_state=np.random.default_rng(0))
    assert not np.array_equal(data.make_xor(20)[0], data.make_xor(20)[0])  # None: fresh


ORDERED = ["moons", "circles", "spiral", "blobs", "linear"]


@pytest.mark.parametrize("name", [*ORDERED, "xor"])
@given(n=st.integers(6, 80), seed=st.integers(0, 2**16))
def test_shuffle_false_gives_the_same_examples_in_the_order_made(
    name: str, n: int, seed: int
) -> None:
    extra = {} if name == "blobs" else {"noise": 0.1}
    X, y = GENERATORS[name](n, seed=seed, **extra)
    X_made, y_made = GENERATORS[name](n, seed=seed, shuffle=False, **extra)
    assert sorted(map(tuple, np.column_stack([X, y]))) == sorted(
        map(tuple, np.column_stack([X_made, y_made]))
    )
    if name in ORDERED:
        assert np.all(np.diff(y_made) >= 0)  # class by class


@given(n=st.integers(2, 50), seed=st.integers(0, 99), fraction=st.floats(0.05, 0.5))
def test_split_without_shuffling_holds_out_the_last_examples(
    n: int, seed: int, fraction: float
) -> None:
    X, y = np.arange(2 * n, dtype=float).reshape(n, 2), np.arange(n)
    n_test = int(np.ceil(fraction * n))
    if not 0 < n_test < n:
        return
    _, X_test, y_train, y_test = data.train_test_split(
        X, y, fraction, shuffle=False, random_state=seed
    )
    assert list(y_train) == list(range(n - n_test)) and list(y_test) == list(range(n - n_test, n))
    assert np.array_equal(X_test, X[n - n_test :])


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles])
@given(outer=st.integers(0, 60), inner=st.integers(0, 60), seed=st.integers(0, 99))
def test_moons_and_circles_take_a_pair_of_counts(
    make: Callable[..., Any], outer: int, inner: int, seed: int
) -> None:
    if outer + inner == 0:
        with pytest.raises(ValueError, match="no examples"):
            make((outer, inner), seed=seed)
        return
    X, y = make((outer, inner), noise=0.05, seed=seed)
    assert X.shape == (outer + inner, 2) and list(np.bincount(y, minlength=2)) == [outer, inner]
    if outer + inner >= 2 and outer - inner in (0, 1):  # the pair a count would give
        assert np.array_equal(X, make(outer + inner, noise=0.05, seed=seed)[0])


@pytest.mark.parametrize(
    "call, complaint",
    [
        (lambda: data.make_moons((3, 4, 5)), r"a pair \(n_outer, n_inner\); got \(3, 4, 5\)"),
        (lambda: data.make_circles((3, -1)), r"n_samples\[1\] must be a whole number >= 0"),
        (lambda: data.make_moons((3.5, 2)), r"n_samples\[0\]"),
        (lambda: data.make_moons(True), "n_samples"),
        (lambda: data.make_xor((3, 4)), "n_samples must be a whole number"),
        (lambda: data.make_linear(10, margin=1.5), "margin"),
        (lambda: data.make_linear(10, n_features=0), "n_features"),
        (lambda: data.make_regression(10, bias=float("nan")), "bias"),
        (lambda: data.make_regression(0), "n_samples"),
        (lambda: data.make_moons(10, shuffle="no"), "shuffle must be True or False"),
    ],
)
def test_bad_conventions_are_named(call: Callable[[], Any], complaint: str) -> None:
    with pytest.raises((ValueError, TypeError), match=complaint):
        call()


def test_noise_none_means_no_noise_as_in_scikit_learn() -> None:
    assert np.array_equal(
        data.make_moons(30, noise=None, seed=1)[0], data.make_moons(30, seed=1)[0]
    )


# --- the linearly separable and the regression data sets -------------------------------------


def perceptron_separates(X: Any, y: Any, most_updates: int) -> bool:
    """Rosenblatt's perceptron on (x, 1): it stops making mistakes within (R/γ)² updates if a
    line separates the classes with margin γ, and never stops if none does."""
    points = np.column_stack([X, np.ones(len(X))])
    signs = 2 * np.asarray(y) - 1
    w = np.zeros(points.shape[1])
    for _ in range(most_updates):
        wrong = np.flatnonzero(signs * (points @ w) <= 0)
        if not len(wrong):
            return True
        w = w + signs[wrong[0]] * points[wrong[0]]
    return False


@given(
    n=st.integers(2, 120),
    n_features=st.integers(1, 3),
    margin=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**16),
)
def test_linear_data_is_separated_by_a_line(
    n: int, n_features: int, margin: float, seed: int
) -> None:
    X, y = data.make_linear(n, n_features=n_features, margin=margin, seed=seed)
    assert X.shape == (n, n_features) and X.dtype == np.float64 and y.dtype == np.int64
    assert list(np.bincount(y, minlength=2)) == [n - n // 2, n // 2]
    radius_squared = np.max(np.sum(X**2, axis=1)) + 1  # R² of the points (x, 1)
    gamma = margin / np.sqrt(1 + 0.5**2)  # the line (normal, offset ≤ 0.5) made unit length
    assert perceptron_separates(X, y, int(radius_squared / gamma**2) + 1)


def test_the_perceptron_oracle_can_fail() -> None:
    X, y = data.make_xor(40, seed=0)  # no line separates XOR
    assert not perceptron_separates(X, y, 5000)
    X, y = data.make_linear(200, noise=0.5, seed=0)  # noise carries points across the line
    assert not perceptron_separates(X, y, 5000)


@given(
    n=st.integers(2, 100),
    n_features=st.integers(1, 4),
    bias=st.floats(-3, 3),
    seed=st.integers(0, 2**16),
)
def test_regression_targets_are_the_line_through_the_points(
    n: int, n_features: int, bias: float, seed: int
) -> None:
    X, y, coef = data.make_regression(n, n_features=n_features, bias=bias, seed=seed, coef=True)
    assert X.shape == (n, n_features) and y.shape == (n,) and y.dtype == np.float64
    assert np.all((np.abs(coef) >= 0.5) & (np.abs(coef) <= 2)) and np.all(np.abs(X) <= 1)
    if n > n_features:  # least squares finds the weights and the bias again (the oracle)
        found = np.linalg.lstsq(np.column_stack([X, np.ones(n)]), y, rcond=None)[0]
        if np.linalg.matrix_rank(np.column_stack([X, np.ones(n)])) == n_features + 1:
            assert found == pytest.approx([*coef, bias], abs=1e-6)
    X2, y2 = data.make_regression(n, n_features=n_features, bias=bias, random_state=seed)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_regression_noise_has_the_size_asked_for() -> None:
    X, y, coef = data.make_regression(20_000, noise=0.3, bias=1.0, seed=0, coef=True)
    residuals = y - (X @ coef + 1.0)
    assert np.std(residuals) == pytest.approx(0.3, rel=0.03)
    assert abs(np.mean(residuals)) < 0.01


@pytest.mark.parametrize("name", sorted(n for n in dir(data) if n.startswith("make_")))
def test_every_generator_refuses_a_negative_seed_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=r"^seed must be a whole number >= 0.*got -1$"):
        getattr(data, name)(10, seed=-1)
