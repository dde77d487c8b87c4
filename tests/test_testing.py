"""microgradx.testing: gradcheck, gradgradcheck, check_op and the Hypothesis strategies."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microgradx import Value, custom_op
from microgradx.functional import CustomOp
from microgradx.ops import Op
from microgradx.testing import (
    GradcheckError,
    check_op,
    gradcheck,
    gradgradcheck,
    numerical_grad,
    strategies,
)

ROWS = strategies.table()
GRAPH_ROWS = [row for row in ROWS if not row.reduces]


@given(strategies.expressions(n_inputs=3, max_depth=6, ops=GRAPH_ROWS))
def test_gradcheck_holds_on_random_graphs(expression: Any) -> None:
    f, inputs = expression
    assert gradcheck(f, *inputs)


@given(strategies.expressions(n_inputs=2, max_depth=5, ops=GRAPH_ROWS, batch_size=4))
def test_gradcheck_holds_on_random_batched_graphs(expression: Any) -> None:
    f, (xs, w) = expression
    assert gradcheck(lambda a, b: (f(a, b) + 0.0 * a).sum(), xs, w)


@given(strategies.expressions(n_inputs=2, max_depth=4, ops=GRAPH_ROWS))
def test_gradgradcheck_holds_on_random_graphs(expression: Any) -> None:
    f, inputs = expression
    assert gradgradcheck(f, *inputs)


def test_a_wrong_derivative_is_caught_and_both_numbers_are_shown() -> None:
    wrong = custom_op("wrong_cube", lambda a: a**3, lambda a, out: 2 * a**2)  # should be 3a²
    with pytest.raises(GradcheckError) as raised:
        check_op(wrong, max_examples=50)
    message = str(raised.value)
    x = float(re.search(r"at x0 = (\S+) ", message).group(1))  # type: ignore[union-attr]
    row = next(line for line in message.splitlines() if line.strip().startswith("x0 "))
    analytic, numeric = (float(v) for v in row.split()[1:3])
    assert analytic == pytest.approx(2 * x**2, rel=1e-5) and numeric == pytest.approx(
        3 * x**2, rel=1e-4
    )
    assert row.endswith("✗") and "analytic" in message and "numeric" in message
    assert gradcheck(wrong, 1.5, raise_exception=False) is False


def test_a_wrong_second_derivative_is_caught_by_gradgradcheck_only() -> None:
    # The local derivative reads the raw number, so it is right but a constant to grad(grad()).
    flat = custom_op("flat_cube", lambda a: a**3, lambda a, out: 3 * getattr(a, "data", a) ** 2)
    assert gradcheck(flat, 1.3)
    with pytest.raises(
        GradcheckError, match=r"grad\(grad\(f\)\) and central differences disagree"
    ) as raised:
        gradgradcheck(flat, 1.3)
    assert re.search(r"x0,x0\s+0\s+7\.8", str(raised.value))  # analytic 0, numeric 6·1.3


def test_a_wrong_gradient_in_a_batch_names_the_element() -> None:
    noisy = custom_op(
        "noisy", lambda a: a * a, lambda a, out: 2 * a + (out > 4)
    )  # wrong where a² > 4
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda a: noisy(a).sum(), np.array([1.0, 3.0, -0.5]))
    failing = [line.split()[0] for line in str(raised.value).splitlines() if line.endswith("✗")]
    assert failing == ["x0[1]"]


def test_the_error_rebuilds_its_graph_at_the_failing_inputs() -> None:
    wrong = custom_op("wrong_square", lambda a: a * a, lambda a, out: a)  # should be 2a
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda a, b: wrong(a) * b, 2.0, 3.0)
    assert raised.value.failing == [0]
    out, offenders = raised.value.graph()
    assert out.data == 12.0  # a² · b at a = 2, b = 3
    assert [(v.label, v.data, v.grad) for v in offenders] == [("x0", 2.0, 6.0)]  # a · b: wrong
    (b,) = [p for p in out.parents if p.op is None]
    assert (b.label, b.grad) == ("x1", 4.0)  # a², right


def test_the_error_draws_the_graph_with_the_offender_highlighted() -> None:
    from conftest import need

    from microgradx import viz

    wrong = custom_op("wrong_square", lambda a: a * a, lambda a, out: a)
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda a, b: wrong(a) + b, 2.0, 1.0)
    assert raised.value.failing == [0]
    source = viz.draw(raised.value).source
    assert source == viz.to_dot(raised.value)
    assert re.search(r'\{x0\|[^}]*\}", color="#d62728"', source)
    assert not re.search(r'\{x1\|[^}]*\}", color=', source)
    need("dot")
    assert viz.draw(raised.value).pipe(format="svg").startswith(b"<?xml")


def test_testing_does_not_import_viz() -> None:
    """The layers: viz sits above testing, so testing works without drawing anything."""
    code = "import sys, microgradx.testing; print(sorted(m for m in sys.modules if 'viz' in m))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert not hasattr(GradcheckError, "draw")


def test_bad_calls() -> None:
    with pytest.raises(ValueError, match="single number"):
        gradcheck(lambda a: a * 2, np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"return a Value"):
        gradcheck(lambda a: "nope", 1.0)
    with pytest.raises(TypeError, match="single numbers"):
        gradgradcheck(lambda a: a.sum(), np.array([1.0]))
    with pytest.raises(TypeError, match="row of the op table or a custom op"):
        check_op(lambda a: a)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name + "".join(f"({p:g})" for p in r.params))
def test_every_row_of_the_table_passes_check_op(row: Op) -> None:
    check_op(row, max_examples=25)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name + "".join(f"({p:g})" for p in r.params))
@settings(max_examples=30)
@given(data=st.data())
def test_floats_in_stays_inside_the_domain_and_off_the_kinks(row: Op, data: Any) -> None:
    for i, (low, high) in enumerate(row.domain):
        x = data.draw(strategies.floats_in(row, i))
        assert low < x < high and math.isfinite(x)
        assert all(abs(x - kink) >= strategies.MARGIN for kink in row.kinks)


@given(strategies.ops(), strategies.values())
def test_ops_and_values(row: Op, value: Value) -> None:
    assert isinstance(row, Op) and row in strategies.table()
    assert isinstance(value, Value) and -strategies.BOUND <= value.data <= strategies.BOUND


def test_custom_rows_are_drawn_only_where_they_are_passed() -> None:
    extra = custom_op("twice_plus_one", lambda a: 2 * a + 1, lambda a, out: 2.0)
    assert extra not in strategies.table() and strategies.table(extra)[-1] is extra
    assert not any(isinstance(row, CustomOp) for row in strategies.table())
    check_op(extra, max_examples=10)
    with pytest.raises(TypeError, match="rows of the op table"):
        strategies.table(lambda a: a)  # type: ignore[arg-type]


@given(strategies.ops(custom_op("never_drawn", lambda a: a, lambda a, out: 1.0)))
def test_ops_draws_custom_rows_only_when_passed(row: Op) -> None:
    assert row.name == "never_drawn" or not isinstance(row, CustomOp)


def test_numerical_grad_and_the_profiles() -> None:
    assert numerical_grad(lambda a, b: a * b**2, 3.0, 2.0) == (
        pytest.approx(4.0),
        pytest.approx(12.0),
    )
    assert settings.get_profile("ci").derandomize and settings.get_profile("ci").max_examples == 200
    assert settings.get_profile("dev").max_examples == 60


def test_gradgradcheck_with_several_inputs_using_value_methods() -> None:
    assert gradgradcheck(lambda a, b: a.tanh() * b.exp(), 0.3, 1.7)


def test_floats_in_any_domain() -> None:
    far = custom_op("far_log", lambda a: np.log(a), lambda a, out: 1 / a, domain=((10.0, 20.0),))
    narrow = custom_op("narrow", lambda a: a * a, lambda a, out: 2 * a, domain=((0.0, 0.05),))
    check_op(far, max_examples=10)
    check_op(narrow, max_examples=10)
