"""Every row of the op table against two independent oracles: central differences and SymPy."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
import sympy as sp
from hypothesis import find, given
from hypothesis import strategies as st
from oracle import SYMPY, at, evaluate, symbols, sympy_apply

from microgradx import Value, custom_op, expression, grad, nn, ops, viz
from microgradx.functional import CustomOp, apply
from microgradx.ops import Op
from microgradx.testing import check_op, gradcheck, gradgradcheck, numerical_grad, strategies

cube = custom_op("cube", lambda a: a**3, lambda a, out: 3 * a**2)
ROWS = strategies.table(cube)
GRAPH_ROWS = [row for row in ROWS if row.name not in ("sum", "mean")]  # fixed at import time


def row_id(row: Op) -> str:
    return row.name + "".join(f"({p:g})" for p in row.params)


def derivative(row: Op, point: list[float], *wrt: int) -> float:
    """SymPy's derivative of row with respect to the inputs numbered in wrt, at point."""
    xs = symbols(row.arity)
    at(dict(zip(xs, point)))
    return evaluate(sp.diff(sympy_apply(row, *xs), *[xs[i] for i in wrt]), dict(zip(xs, point)))


def derivative_of_expression(f: Any, point: list[float], *wrt: int) -> float:
    """SymPy's derivative of a random expression with respect to inputs wrt, at point."""
    xs = symbols(f.n_inputs)
    at(dict(zip(xs, point)))
    formula = f.evaluate(sympy_apply, *xs)
    return evaluate(sp.diff(formula, *[xs[i] for i in wrt]), dict(zip(xs, point)))


def draw_inputs(data: st.DataObject, row: Op) -> list[float]:
    return [data.draw(strategies.floats_in(row, i), label=f"x{i}") for i in range(row.arity)]


def test_every_row_is_tested_and_has_an_oracle() -> None:
    assert set(ops.OPS) <= {row.name for row in ROWS}
    assert "cube" in {row.name for row in ROWS}
    assert all(row.name in SYMPY for row in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=row_id)
@given(data=st.data())
def test_first_derivatives_match_central_differences_and_sympy(row: Op, data: Any) -> None:
    xs = draw_inputs(data, row)
    inputs = [Value(x) for x in xs]
    apply(row, *inputs).backward()
    numeric = numerical_grad(row.forward, *xs)
    for i, node in enumerate(inputs):
        assert math.isclose(node.grad, numeric[i], rel_tol=1e-4, abs_tol=1e-6), (i, numeric)
        exact = derivative(row, xs, i)
        assert math.isclose(node.grad, exact, rel_tol=1e-9, abs_tol=1e-12), (i, exact)


@pytest.mark.parametrize("row", ROWS, ids=row_id)
@given(data=st.data())
def test_second_derivatives_match_sympy(row: Op, data: Any) -> None:
    xs = draw_inputs(data, row)
    for i, j in itertools.product(range(row.arity), repeat=2):
        second = grad(grad(lambda *a: apply(row, *a), argnums=i), argnums=j)(*xs)
        expected = derivative(row, xs, i, j)
        assert math.isclose(second, expected, rel_tol=1e-8, abs_tol=1e-10), (i, j)


@given(strategies.expressions(n_inputs=3, max_depth=6, ops=GRAPH_ROWS))
def test_random_graphs_match_sympy(expression: Any) -> None:
    f, xs = expression
    inputs = [Value(x) for x in xs]
    f(*inputs).backward()
    for i, node in enumerate(inputs):
        expected = derivative_of_expression(f, xs, i)
        assert math.isclose(node.grad, expected, rel_tol=1e-8, abs_tol=1e-10), (i, expected)


@given(strategies.expressions(n_inputs=2, max_depth=5, ops=GRAPH_ROWS))
def test_random_graphs_second_derivatives_match_sympy(expression: Any) -> None:
    f, xs = expression
    for i, j in [(0, 0), (0, 1), (1, 1)]:
        second = grad(grad(f, argnums=i), argnums=j)(*xs)
        expected = derivative_of_expression(f, xs, i, j)
        assert math.isclose(second, expected, rel_tol=1e-7, abs_tol=1e-9), (i, j)


def test_random_graphs_do_share_subexpressions() -> None:
    """The graphs above really reuse nodes (an input or a result feeds two ops)."""

    def reuses(expression: Any) -> bool:
        f, _ = expression
        used = [i for _, operands in f.steps for i in operands]
        return len(used) != len(set(used))

    f, _ = find(strategies.expressions(n_inputs=2, max_depth=6, ops=GRAPH_ROWS), reuses)
    assert reuses((f, None))


@given(strategies.expressions(n_inputs=2, max_depth=5, ops=GRAPH_ROWS, batch_size=5))
def test_batched_gradient_is_the_sum_of_per_example_gradients(expression: Any) -> None:
    f, (xs, w) = expression
    batch, weight = Value(xs), Value(w)
    # `+ 0 * x` makes the output a batch even when f ignores x: a number that does not
    # depend on the batch stands for every example, and .sum() must count it once per example.
    (f(batch, weight) + 0.0 * batch).sum().backward()
    per_example_x, per_example_w = [], []
    for x in xs:
        one, shared = Value(float(x)), Value(w)
        (f(one, shared) + 0.0 * one).backward()
        per_example_x.append(one.grad)
        per_example_w.append(shared.grad)
    assert isinstance(weight.grad, float)
    assert math.isclose(weight.grad, math.fsum(per_example_w), rel_tol=1e-9, abs_tol=1e-9)
    assert batch.grad == pytest.approx(per_example_x, rel=1e-9, abs=1e-12)


# --- the table is the one source of truth: every other module reads these fields ----------


@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_every_row_says_how_it_is_written_and_its_maths(row: Op) -> None:
    assert len(row.maths) == row.arity + 1 and all(row.maths)  # the forward, then each ∂
    assert set(vars(row)) <= set(Op.__annotations__), "a misspelt field of Op"
    assert (
        len(row.domain) == row.arity and len(row.local_grads(*[0.5] * row.arity, 0.5)) == row.arity
    )
    names = [f"operand{i}" for i in range(row.arity)]
    written = row.write(*names)
    assert all(name in written for name in names) and "{" not in written


@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_every_row_writes_each_local_derivative_with_its_inputs(row: Op) -> None:
    """grad_notation: one text per input, its placeholders only the row's inputs."""
    assert len(row.grad_notation) == row.arity
    names = [f"operand{i}" for i in range(row.arity)]
    assert all("{" not in text.format(*names) for text in row.grad_notation)


def test_local_derivatives_are_made_from_the_maths_whole_letters_only() -> None:
    assert ops.MUL.grad_notation == ("{1}", "{0}")
    assert ops.TANH.grad_notation == ("1 - tanh({0})²",)  # the a of tanh stays
    assert ops.DIV.grad_notation == ("1 / {1}", "-{0} / {1}²")
    assert ops.weighted_sum(2).grad_notation == ("{2}", "{3}", "{0}", "{1}", "1")
    assert cube.grad_notation == ("",)  # a custom op without maths says only ∂cube/∂a


@pytest.mark.parametrize("row", [r for r in ROWS if r.method], ids=row_id)
def test_every_row_with_a_method_is_that_value_method(row: Op) -> None:
    operands = [Value(0.7), Value(1.3)][: row.arity]
    result = getattr(operands[0], row.method)(*operands[1:], *row.params)
    assert result.op is row and result.parents == tuple(operands)
    if row.arity == 2:  # the reflected form puts the plain number first: 2 * x
        reflected = getattr(operands[1], "__r" + row.method[2:])(0.7)
        assert reflected.op is row and reflected.parents[1] is operands[1]


@pytest.mark.parametrize("row", [r for r in ops.ROWS if r.notation.startswith(r.name + "(")])
def test_every_row_written_as_a_call_is_a_formula_function(row: Op) -> None:
    out = expression.build(row.write("x"), {"x": 0.7})
    assert out.op is row and out.data == pytest.approx(apply(row, 0.7).data)


@pytest.mark.parametrize("name", [a for a in nn.ACTIVATIONS if a != "linear"])
def test_every_activation_row_is_a_neuron_activation(name: str) -> None:
    out = nn.Neuron(2, activation=name, seed=0)([0.5, -1.5])
    assert out.op is nn.ACTIVATION_ROWS[name] and out.op.init in ("he", "xavier")


@given(strategies.expressions(n_inputs=3, max_depth=6))  # the built-in rows
def test_a_graph_written_with_the_rows_notation_reads_back_as_the_same_formula(
    expression_: Any,
) -> None:
    """Each row's notation, brackets included, is a formula `microgradx graph` reads."""
    f, xs = expression_
    text = repr(f).removeprefix("Expression(").removesuffix(")")
    rebuilt = expression.build(text, {f"x{i}": x for i, x in enumerate(xs)})
    direct = f(*[Value(x) for x in xs])
    assert rebuilt.data == pytest.approx(direct.data, rel=1e-12, abs=1e-12)


# --- custom ops are rows of their own -------------------------------------------------------


def test_a_custom_op_is_a_row_that_works_everywhere_a_row_does() -> None:
    assert isinstance(cube, CustomOp) and cube.arity == 1 and cube.maths[0] == "cube(a)"
    x = Value(2.0, label="x")
    y = cube(x)
    y.backward()
    assert y.op is cube and x.grad == 12.0 and grad(grad(cube))(2.0) == 12.0
    assert 'label="cube"' in viz.to_dot(y) and gradcheck(cube, 0.7) and gradgradcheck(cube, 0.7)
    check_op(cube, max_examples=5)


def test_a_custom_op_can_take_a_built_in_name_without_touching_the_built_in() -> None:
    mine = custom_op("tanh", lambda a: 2 * a, lambda a, out: 2.0)
    assert mine(Value(1.5)).data == 3.0 and Value(1.5).tanh().data == math.tanh(1.5)
    assert ops.OPS["tanh"] is ops.TANH and expression.build("tanh(x)", {"x": 1.5}).op is ops.TANH
    assert all(row is not mine for row in strategies.table())
    assert mine == "tanh" == ops.TANH  # a row equals its symbol text: compare rows with `is`
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.Neuron(2, activation=mine)  # a name is plain text; a custom row is not a built-in's
