"""Bad input gets an error that names the op, the offending value and the node, and the fix."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, checks, custom_op, grad, value_and_grad
from microgradx.files import write_text
from microgradx.testing import numerical_grad

x_neg = Value(-2.0, label="x")
zero = Value(0.0, label="z")
batch = Value(np.array([1.0, 4.0, -9.0, 16.0]), label="xs")

DOMAIN_ERRORS: list[tuple[str, Callable[[], Any], type[Exception], list[str]]] = [
    ("log of a negative", lambda: x_neg.log(), ValueError, ["log", "-2.0", "'x'", "positive"]),
    ("log of zero", lambda: zero.log(), ValueError, ["log", "0.0", "'z'"]),
    (
        "log of an unlabelled result",
        lambda: (x_neg * 1).log(),
        ValueError,
        ["log", "output of mul"],
    ),
    ("sqrt of a negative", lambda: x_neg.sqrt(), ValueError, ["sqrt", "-2.0", "'x'"]),
    (
        "sqrt in a batch",
        lambda: batch.sqrt(),
        ValueError,
        ["sqrt", "-9.0", "'xs'", "batch index 2"],
    ),
    ("division by zero", lambda: Value(1.0) / zero, ZeroDivisionError, ["div", "0.0", "'z'"]),
    (
        "division by a number 0",
        lambda: Value(1.0, label="one") / 0,
        ZeroDivisionError,
        ["div", "0.0"],
    ),
    ("zero to a negative power", lambda: zero**-1, ZeroDivisionError, ["power", "0.0", "'z'"]),
    ("negative base, fractional power", lambda: x_neg**0.5, ValueError, ["power", "-2.0", "'x'"]),
    (
        "Value ** Value, negative base",
        lambda: x_neg ** Value(2.0),
        ValueError,
        ["pow", "'x'", "positive base"],
    ),
    (
        "number ** Value, negative base",
        lambda: (-2) ** Value(2.0),
        ValueError,
        ["pow", "-2.0", "positive base"],
    ),
    (
        "exp overflow",
        lambda: Value(1000.0, label="big").exp(),
        OverflowError,
        ["exp", "1000.0", "'big'"],
    ),
    ("power overflow", lambda: Value(1e200, label="big") ** 3, OverflowError, ["power", "'big'"]),
    (
        "batches of different sizes",
        lambda: batch + Value(np.ones(3)),
        ValueError,
        ["add", "4 and 3 examples"],
    ),
    (
        "batch of 1 and of 4",
        lambda: Value(np.ones(1)) * batch,
        ValueError,
        ["mul", "1 and 4 examples"],
    ),
    (
        "overflow in *",
        lambda: Value(1e200, label="big") * 1e200,
        OverflowError,
        ["mul", "'big'", "inf"],
    ),
    (
        "overflow in +",
        lambda: Value(1.7e308) + Value(1.7e308, label="b"),
        OverflowError,
        ["add", "'b'"],
    ),
    (
        "sin of infinity",
        lambda: Value(math.inf, label="x").sin(),
        ValueError,
        ["sin", "'x'", "inf"],
    ),
    ("a huge int", lambda: Value(10**400), ValueError, ["too large"]),
    ("a huge exponent", lambda: Value(2.0) ** 10**400, ValueError, ["exponent", "finite"]),
]


@pytest.mark.parametrize("case", DOMAIN_ERRORS, ids=[c[0] for c in DOMAIN_ERRORS])
def test_a_bad_input_names_the_op_the_value_and_the_node(case: Any) -> None:
    _, run, error, words = case
    with pytest.raises(error) as raised:
        run()
    message = str(raised.value)
    assert "math domain error" not in message
    for word in words:
        assert word in message


@given(st.floats(-1e6, 0.0))
def test_log_of_any_non_positive_number_is_refused(x: float) -> None:
    with pytest.raises(ValueError, match=r"^log got .* positive number"):
        Value(x).log()


def test_a_bad_batch_leaves_no_nan_behind() -> None:
    with pytest.raises(ValueError, match="batch index 1"):
        Value(np.array([1.0, -1.0])).log()


@pytest.mark.parametrize(
    "data, named",
    [
        ("2.0", "str"),
        (None, "NoneType"),
        (1 + 2j, "complex"),
        ([[1.0, 2.0]], "list"),
        ({"a": 1}, "dict"),
        ([1.0, 2.0], "np.array"),
        (np.ones((2, 2)), "shape (2, 2)"),
        (np.array(["a"]), "ndarray"),
        (np.array([]), "shape (0,)"),
    ],
)
def test_value_refuses_what_is_not_a_number_or_a_batch(data: Any, named: str) -> None:
    with pytest.raises(TypeError, match=re.escape(named)):
        Value(data)


def test_operators_with_a_non_number_say_what_they_got() -> None:
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Value' and 'str'"):
        Value(1.0) + "1"
    with pytest.raises(TypeError, match="exponent must be a plain number"):
        Value(1.0) ** "2"
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_backward_on_an_unreduced_batch_says_to_reduce_it() -> None:
    with pytest.raises(ValueError, match=r"batch of 4 .*\.mean\(\) or \.sum\(\)"):
        (batch * 2).backward()
    with pytest.raises(ValueError, match=r"\.mean\(\) or \.sum\(\)"):
        grad(lambda a: a * 2)(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="single number"):
        batch.item()


def test_a_float_gradient_that_becomes_nan_is_refused_before_anything_is_stored() -> None:
    x = Value(1e-300, label="x")
    with pytest.raises(FloatingPointError, match="gradient of 'x' is nan"):
        ((1 / x) * 0.0).backward()
    assert x.grad == 0.0


def test_backward_through_an_infinite_derivative_is_named() -> None:
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt.*'z' = 0\.0"):
        zero.sqrt().backward()
    with pytest.raises(FloatingPointError, match="backward through sqrt"):
        Value(np.array([0.0, 1.0]), label="zs").sqrt().sum().backward()


def test_grad_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="argnums=2"):
        grad(lambda a, b: a * b, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be"):
        grad(lambda a: a, argnums="0")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returns a Value"):
        value_and_grad(lambda a: "oops")(1.0)


def test_custom_op_checks_its_definition() -> None:
    with pytest.raises(TypeError, match="local derivative 1 must take 2"):
        custom_op("square", lambda a: a * a, lambda a: 2 * a)
    with pytest.raises(TypeError, match="forward must take 2"):
        custom_op("mix", lambda a: a, lambda a, b, out: 1.0, lambda a, b, out: 1.0)
    with pytest.raises(ValueError, match="must be a word"):
        custom_op("my op", lambda a: a, lambda a, out: 1.0)
    with pytest.raises(TypeError, match="at least one"):
        custom_op("constant", lambda: 1.0)
    square = custom_op("square", lambda a: a * a, lambda a, out: 2 * a)
    with pytest.raises(TypeError, match="square takes 1 input"):
        square(Value(1.0), Value(2.0))


def test_numerical_grad_needs_a_single_number() -> None:
    with pytest.raises(ValueError, match="single number"):
        numerical_grad(lambda a: a * 2, np.array([1.0, 2.0]))


# --- the shared validators: one place, one wording ------------------------------------------

anything = st.one_of(
    st.integers(-5, 5), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3),
    st.none(), st.just(np.int64(3)), st.just(np.float64(0.5)), st.just([1, 2]),
)  # fmt: skip


def number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


@given(anything, st.integers(0, 3))
def test_whole_number_takes_exactly_the_whole_numbers_from_least_up(x: Any, least: int) -> None:
    ok = isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= least
    check(
        lambda: checks.whole_number("epochs", x, least),
        ok,
        f"epochs must be a whole number >= {least}",
    )


@given(anything)
def test_fraction_non_negative_and_finite_number_take_exactly_their_numbers(x: Any) -> None:
    finite = number(x) and math.isfinite(x)
    check(lambda: checks.fraction("dropout", x), finite and 0 <= x < 1, "dropout must be in [0, 1)")
    check(
        lambda: checks.non_negative("eps", x), finite and x >= 0, "eps must be a finite number >= 0"
    )
    check(lambda: checks.finite_number("a slope", x), finite, "a slope must be a")


@given(st.text(max_size=4) | st.none())
def test_choice_lists_the_choices(x: Any) -> None:
    check(
        lambda: checks.choice("task", x, ("ab", "c")), x in ("ab", "c"), "task must be one of ab, c"
    )


def check(run: Callable[[], Any], ok: bool, message: str) -> None:
    """run() returns its value when ok, and raises an error starting with message otherwise."""
    if ok:
        run()
        return
    with pytest.raises((ValueError, TypeError)) as raised:
        run()
    assert str(raised.value).startswith(message), str(raised.value)


def test_an_atomic_text_write_leaves_the_old_file_when_it_fails(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    write_text(path, "old")
    with pytest.raises(UnicodeEncodeError):
        write_text(path, "\udc80 lone surrogate")  # cannot be written as UTF-8
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    write_text(path, "new ∂")
    assert path.read_text(encoding="utf-8") == "new ∂"
