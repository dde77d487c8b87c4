"""The engine's semantics: accumulation, repeated backward, no_grad, detach, batches, memory."""

from __future__ import annotations

import gc
import math
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, custom_op, grad, no_grad, value_and_grad
from microgradx.engine import topological_order
from microgradx.recording import scope
from microgradx.testing import numerical_grad

finite = st.floats(-10, 10)


def neuron() -> tuple[Value, dict[str, Value]]:
    """o = tanh(x1*w1 + x2*w2 + b), the worked example of notebook 01."""
    leaves = {
        name: Value(data, label=name)
        for name, data in [
            ("x1", 2.0),
            ("x2", 0.0),
            ("w1", -3.0),
            ("w2", 1.0),
            ("b", 6.8813735870195432),
        ]
    }
    n = leaves["x1"] * leaves["w1"] + leaves["x2"] * leaves["w2"] + leaves["b"]
    return n.tanh(), leaves


def test_the_neuron_example_matches_the_chain_rule_by_hand() -> None:
    o, leaves = neuron()
    o.backward()
    do_dn = 1 - o.data**2  # tanh'(n)
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert leaves["x1"].grad == pytest.approx(do_dn * -3.0)
    assert leaves["w1"].grad == pytest.approx(do_dn * 2.0)
    assert leaves["x2"].grad == pytest.approx(do_dn * 1.0)
    assert leaves["w2"].grad == pytest.approx(0.0)
    assert leaves["b"].grad == pytest.approx(do_dn)


@given(finite)
def test_a_reused_node_accumulates_every_path(x: float) -> None:
    a = Value(x)
    (a * a + a).backward()  # d/da (a² + a) = 2a + 1: three edges end at a
    assert a.grad == pytest.approx(2 * x + 1)
    b = Value(x)
    (b + b).backward()
    assert b.grad == 2.0


@given(finite, finite)
def test_backward_twice_adds_the_same_to_leaves_and_refreshes_intermediates(
    x: float, w: float
) -> None:
    xv, wv = Value(x), Value(w)
    hidden = (xv * wv).tanh()
    out = hidden * hidden + xv
    out.backward()
    first = (xv.grad, wv.grad, hidden.grad, out.grad)
    out.backward()
    assert xv.grad == pytest.approx(2 * first[0])
    assert wv.grad == pytest.approx(2 * first[1])
    assert (hidden.grad, out.grad) == (first[2], first[3])  # fresh, not doubled


def test_a_leaf_called_backward_on_gets_one() -> None:
    x = Value(3.0)
    x.backward()
    assert x.grad == 1.0


def test_no_grad_builds_no_graph_and_works_as_a_decorator() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * 3 + 1
    assert y.data == 7.0 and y.op is None and y.parents == ()

    @no_grad()
    def double(v: Value) -> Value:
        return v * 2

    assert double(x).parents == ()
    assert (x * 2).parents[0] is x  # recording resumes after the call


def test_no_grad_nests_and_restores_recording() -> None:
    x = Value(1.0)
    with no_grad():
        with no_grad():
            pass
        assert (x + 1).op is None
    assert (x + 1).op == "+"


def test_no_grad_is_per_thread() -> None:
    inside, done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def pausing_thread() -> None:
        with no_grad():
            inside.set()
            done.wait(timeout=10)
            seen["paused"] = (Value(1.0) + 1).op

    thread = threading.Thread(target=pausing_thread)
    thread.start()
    assert inside.wait(timeout=10)
    recorded = Value(1.0) + 1  # this thread keeps recording while the other is paused
    done.set()
    thread.join()
    assert recorded.op == "+" and len(recorded.parents) == 2
    assert seen["paused"] is None


def test_detach_cuts_the_graph() -> None:
    x = Value(3.0, label="x")
    y = x * x
    z = y.detach() * x  # treats y as a constant 9
    z.backward()
    assert z.data == 27.0 and x.grad == 9.0
    assert y.detach().label == "" and y.detach().parents == ()


def test_a_million_node_chain_runs_without_recursion() -> None:
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    assert len(topological_order(y)) == 2_000_001  # each step adds a node and a constant
    del y  # freeing the chain must not overflow the stack either


def test_a_dropped_graph_is_freed_without_the_cycle_collector() -> None:
    gc.disable()
    try:
        x = Value(2.0)
        hidden = (x * 3).tanh()
        out = hidden.exp() + hidden
        out.backward()
        watched = [weakref.ref(node) for node in topological_order(out) if node is not x]
        del hidden, out
        assert all(ref() is None for ref in watched)
    finally:
        gc.enable()


@given(st.lists(finite, min_size=1, max_size=8), finite)
def test_a_float_parameter_meeting_a_batch_gets_the_summed_gradient(
    xs: list[float], w: float
) -> None:
    weight = Value(w)
    batch = Value(np.array(xs))
    ((weight * batch).tanh().sum()).backward()
    expected = sum((1 - math.tanh(w * x) ** 2) * x for x in xs)
    assert isinstance(weight.grad, float)
    assert weight.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert batch.grad == pytest.approx([(1 - math.tanh(w * x) ** 2) * w for x in xs])


def test_mean_divides_by_the_batch_size() -> None:
    w = Value(2.0)
    (w * Value(np.array([1.0, 2.0, 3.0]))).mean().backward()
    assert w.grad == pytest.approx(2.0)


def test_an_array_times_a_value_is_a_value() -> None:
    w = Value(2.0)
    y = np.array([1.0, 2.0]) * w
    assert isinstance(y, Value)
    assert list(y.data) == [2.0, 4.0]


def test_comparisons_are_plain_booleans_and_record_nothing() -> None:
    a, b = Value(1.0), Value(2.0)
    assert (a < b) is True and (a >= 2) is False and (b > 1.5) is True
    batch = Value(np.array([0.0, 3.0]))
    assert list(batch > 1) == [False, True]
    assert a != b and a == a  # identity: a node is itself
    assert len({a, b, a}) == 2


def test_repr_shows_data_grad_label_and_op() -> None:
    x = Value(2.0, label="x")
    y = x * -4
    y.backward()
    assert repr(y) == "Value(data=-8.0, grad=1.0, op='*')"
    assert repr(x) == "Value(data=2.0, grad=-4.0, label='x')"
    assert repr(Value(np.arange(10.0))).startswith(
        "Value(data=array([0., 1., 2., ..., 7., 8., 9.])"
    )


def test_item_and_no_silent_float_conversion() -> None:
    assert Value(3).item() == 3.0 and isinstance(Value(3).data, float)
    assert Value(np.array([4.0])).item() == 4.0
    with pytest.raises(TypeError):  # math.* would quietly cut the graph: use the methods
        math.cos(Value(1.0))  # type: ignore[arg-type]


def test_nested_grad_is_not_confused_by_a_value_used_twice() -> None:
    # f(x) = [d/dy (x * y)] at y = x, which is x; so f'(x) = 1
    assert grad(lambda x: grad(lambda y: x * y)(x))(3.0) == 1.0
    v = Value(3.0)
    da, db = grad(lambda a, b: a * b, argnums=(0, 1))(v, v)
    assert (da.data, db.data) == (3.0, 3.0)
    assert grad(lambda a: a * a, argnums=np.int64(0))(2.0) == 4.0


def test_every_derivative_of_a_power_exists_at_zero() -> None:
    f = lambda x: x**3  # noqa: E731
    derivatives = [grad(f), grad(grad(f)), grad(grad(grad(f))), grad(grad(grad(grad(f))))]
    assert [d(0.0) for d in derivatives] == [0.0, 0.0, 6.0, 0.0]
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0


def test_inputs_already_inf_or_nan_are_the_users_choice() -> None:
    assert (Value(math.inf) * 2).data == math.inf
    assert math.isnan(Value(math.nan).relu().data) and math.isnan(Value(math.nan).exp().data)
    assert math.isnan(Value(np.array([math.nan])).relu().data[0])


def test_a_batch_is_copied_so_later_changes_do_not_leak_in() -> None:
    xs = np.array([1.0, 2.0])
    v = Value(xs)
    y = (v * v).sum()
    xs[:] = 10.0
    y.backward()
    assert list(v.grad) == [2.0, 4.0]


def test_comparisons_with_numpy_numbers_are_plain_booleans() -> None:
    assert type(Value(1.0) < np.float64(4.0)) is bool
    assert type(np.int64(2) < Value(3.0)) is bool


def test_a_no_grad_object_can_be_used_again_and_nested() -> None:
    paused = no_grad()
    with paused:
        with paused:
            assert (Value(1.0) + 1).op is None
        assert (Value(1.0) + 1).op is None
    with paused:
        assert (Value(1.0) + 1).op is None
    assert (Value(1.0) + 1).op == "+"


def test_sigmoid_and_softplus_are_stable_far_from_zero() -> None:
    for x in (-800.0, -500.0, 500.0, 800.0):
        s, p = Value(x).sigmoid(), Value(x).softplus()
        s.backward()
        p.backward()
        assert math.isfinite(s.data) and math.isfinite(p.data)
    assert Value(-500.0).sigmoid().data == pytest.approx(math.exp(-500.0))
    assert Value(500.0).softplus().data == 500.0
    assert Value(-500.0).softplus().data == pytest.approx(math.exp(-500.0))
    batch = Value(np.array([-800.0, 0.0, 800.0]))
    assert list(batch.sigmoid().data) == pytest.approx([0.0, 0.5, 1.0])
    assert list(batch.softplus().data) == pytest.approx([0.0, math.log(2), 800.0])


def test_every_method_of_the_public_api_records_its_op() -> None:
    x = Value(0.5)
    for name in ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "sin", "cos"]:
        assert getattr(x, name)().op == name
    assert x.leaky_relu(0.2).op == "leaky_relu(0.2)"
    assert (x**2).op == "**2" and (x ** Value(2.0)).op == "**" and (2**x).op == "**"
    assert (-x).op == "neg" and abs(x).op == "abs" and (x / 2).op == "/"
    assert (1 - x).data == 0.5 and (1 / x).data == 2.0 and (3 + x).data == 3.5


def test_grad_and_value_and_grad() -> None:
    assert grad(lambda a: a**3)(2.0) == 12.0
    assert grad(grad(lambda a: a**3))(2.0) == 12.0
    assert grad(grad(grad(lambda a: a**3)))(2.0) == 6.0
    da, db = grad(lambda a, b: (a * b).sigmoid(), argnums=(0, 1))(1.0, 2.0)
    s = 1 / (1 + math.exp(-2.0))
    assert (da, db) == (pytest.approx(s * (1 - s) * 2), pytest.approx(s * (1 - s)))
    value, slope = value_and_grad(lambda a: a.exp())(0.0)
    assert (value, slope) == (1.0, 1.0) and isinstance(value, float)
    batch = grad(lambda a: (a * a).sum())(np.array([1.0, 2.0]))
    assert list(batch) == [2.0, 4.0]
    assert grad(lambda a, b: a * 0 + 3, argnums=1)(1.0, 2.0) == 0.0  # b unused


def test_grad_leaves_the_grads_of_captured_parameters_alone() -> None:
    w = Value(3.0)
    assert grad(lambda x: w * x)(2.0) == 3.0
    assert w.grad == 0.0


def test_grad_of_a_function_of_a_closure_is_not_confused() -> None:
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x: the inner derivative depends on x.
    assert grad(lambda x: x * grad(lambda y: x * y)(1.0))(3.0) == 6.0


def test_grad_records_even_inside_no_grad() -> None:
    with no_grad():
        assert grad(lambda a: a * a)(3.0) == 6.0


@given(st.floats(0.1, 3))
def test_custom_ops_have_first_and_second_derivatives(x: float) -> None:
    softsign = custom_op(
        "softsign", lambda a: a / (1 + abs(a)), lambda a, out: 1 / (1 + abs(a)) ** 2
    )
    node = softsign(Value(x, label="x"))
    assert node.op == "softsign" and "op='softsign'" in repr(node)
    node.backward()
    assert node.parents[0].grad == pytest.approx(numerical_grad(lambda a: a / (1 + abs(a)), x)[0])
    assert grad(grad(softsign))(x) == pytest.approx(-2 / (1 + x) ** 3)


def test_a_custom_op_with_three_inputs() -> None:
    fma = custom_op(
        "fma",
        lambda a, b, c: a * b + c,
        lambda a, b, c, out: b,
        lambda a, b, c, out: a,
        lambda a, b, c, out: 1.0,
    )
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    out = fma(a, b, c)
    assert out.data == 10.0 and out.parents == (a, b, c)
    out.backward()
    assert (a.grad, b.grad, c.grad) == (3.0, 2.0, 1.0)


# --- scopes: structure recorded on every node ------------------------------------------------


def test_every_node_made_inside_a_scope_points_to_it() -> None:
    outside = Value(1.0) * 2
    with scope("model", kind="model") as model:
        a = Value(1.0) * 2
        with scope("loss", kind="loss") as loss:
            b = (a + 1).relu()
        c = a - 1
    assert outside.scope is None and Value(3.0).scope is None
    assert a.scope is model and c.scope is model and b.scope is loss and b.parents[0].scope is loss
    assert (loss.name, loss.kind, loss.parent) == ("loss", "loss", model) and model.parent is None
    assert loss.number > model.number  # made later
    with scope(loss):  # an existing scope can be entered again
        assert (Value(1.0) + 1).scope is loss


def test_a_scope_closes_even_when_its_block_fails_and_belongs_to_one_thread() -> None:
    seen: dict[str, object] = {}
    with pytest.raises(RuntimeError), scope("failing"):
        thread = threading.Thread(target=lambda: seen.update(other=(Value(1.0) + 1).scope))
        thread.start()
        thread.join()
        raise RuntimeError
    assert seen["other"] is None and (Value(1.0) + 1).scope is None


def test_a_node_is_built_in_one_place_with_every_field() -> None:
    first = custom_op("first", lambda a, b, c: a, *[lambda a, b, c, out: 1.0] * 3)
    made = [Value(2.0), Value(2.0) * 3, Value(np.ones(3)).sum(), first(1.0, 2.0, 3.0)]
    fields = [slot for slot in Value.__slots__ if slot != "__weakref__"]
    for node in made:
        assert all(hasattr(node, field) for field in fields), node
    assert [len(node.parents) for node in made] == [0, 2, 1, 3]
    with no_grad():
        assert (Value(2.0) * 3).parents == () and (Value(2.0) * 3).op is None


def test_no_grad_and_scopes_restore_only_their_own_switch_when_they_interleave() -> None:
    def paused_values():  # a generator: its no_grad() stays open while the caller goes on
        with no_grad():
            yield Value(1.0) * 2
            yield Value(1.0) * 2

    values = paused_values()
    assert next(values).op is None
    with scope("evaluation") as evaluation:
        assert next(values).op is None and (Value(1.0) + 1).op is None
    values.close()  # no_grad() exits after the scope did: recording is back on, no scope open
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0 and (x * x).scope is None

    def scoped_values():
        with scope("inside"):
            yield Value(1.0) * 2

    with no_grad():
        inside = scoped_values()
        assert next(inside).scope.name == "inside"
        inside.close()  # the scope closes inside no_grad(): recording stays paused
        assert (Value(1.0) * 2).op is None and evaluation.kind == ""
    reused = scope("twice")
    with reused as first, reused as second:
        assert second.parent is first
    assert (Value(1.0) + 1).scope is None


def test_leaky_relu_takes_its_slope_by_position_or_by_name() -> None:
    x = Value(-2.0)
    assert x.leaky_relu(0.1).op is x.leaky_relu(slope=0.1).op and x.leaky_relu().data == -0.02
    with pytest.raises(TypeError, match="slop"):
        x.leaky_relu(slop=0.1)
    with pytest.raises(ValueError, match="a slope must be a finite number"):
        x.leaky_relu(math.inf)
