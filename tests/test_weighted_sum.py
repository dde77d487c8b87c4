"""The weighted-sum row, b + Σ wᵢ·xᵢ as one node: its derivatives against SymPy and central
differences (single numbers and batches), the engine's stacked path, one-node and expanded
neurons, saved models, l2 as one node, and the errors bad inputs meet."""

from __future__ import annotations

import functools
import itertools
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from oracle import symbols, sympy_apply

from microgradx import Value, grad, losses, nn, ops, weighted_sum
from microgradx.engine import Edge, backpropagate, topological_order
from microgradx.functional import apply
from microgradx.testing import numerical_grad, strategies

MOST = 40  # the widest weighted sum drawn
# The profile conftest loaded (dev: 60 examples a test, ci: 200) governs the cheap properties;
# the costlier ones (SymPy on every example of a batch, files) run a third of it.
FEWER = settings(max_examples=max(10, settings().max_examples // 3))
LAYOUTS = ("inputs are batches", "weights are batches", "mixed")


# --- the oracle: SymPy's derivatives, evaluated in exact rational arithmetic ----------------


@functools.cache
def sympy_row(n: int) -> tuple[list[sp.Symbol], Any, list[Any]]:
    """The symbols w1..wn, x1..xn, b; SymPy's b + Σ wi·xi; its derivative by each symbol."""
    xs = symbols(2 * n + 1)
    expression = sympy_apply(ops.weighted_sum(n), *xs)
    return xs, expression, [sp.diff(expression, x) for x in xs]


def exactly(expression: Any, xs: list[sp.Symbol], point: list[float]) -> float:
    """expression at point, computed exactly (floats are rationals), rounded once."""
    return float(expression.xreplace({x: sp.Rational(v) for x, v in zip(xs, point)}))


def sympy_value_and_gradient(point: list[float]) -> tuple[float, list[float]]:
    n = len(point) // 2
    xs, expression, gradient = sympy_row(n)
    return exactly(expression, xs, point), [exactly(d, xs, point) for d in gradient]


def sympy_second(point: list[float], i: int, j: int) -> float:
    xs, expression, _ = sympy_row(len(point) // 2)
    return exactly(sp.diff(expression, xs[i], xs[j]), xs, point)


def partner(n: int, i: int) -> int:
    """The input that input i multiplies: xi for wi, wi for xi (b multiplies none: itself)."""
    return n + i if i < n else i - n if i < 2 * n else i


def magnitude(point: list[float]) -> float:
    """|b| + Σ |wi·xi|: what the rounding error of the sum is relative to."""
    n = len(point) // 2
    return abs(point[-1]) + math.fsum(abs(point[i] * point[n + i]) for i in range(n))


def call(inputs: list[Any]) -> Value:
    """The public function, on inputs listed as the row takes them: w1..wn, x1..xn, b."""
    n = len(inputs) // 2
    return weighted_sum(inputs[:n], inputs[n : 2 * n], inputs[2 * n])


# --- drawing points: single numbers, or batches laid out as a neuron or mixed ----------------


# Every input of the row may be any number (no domain edge, no kink): one strategy serves all.
NUMBERS = strategies.floats_in(ops.weighted_sum(1), 0)


def draw_point(data: st.DataObject, n: int) -> list[float]:
    size = 2 * n + 1
    return data.draw(st.lists(NUMBERS, min_size=size, max_size=size), label="w1..wn, x1..xn, b")


def draw_batch_point(data: st.DataObject, n: int, size: int) -> list[Any]:
    """2n + 1 inputs, some of them batches of `size` examples, at least one."""
    layout = data.draw(st.sampled_from(LAYOUTS), label="layout")
    if layout == "inputs are batches":  # a neuron on a batch: weights and bias are numbers
        batched = [False] * n + [True] * n + [False]
    elif layout == "weights are batches":
        batched = [True] * n + [False] * n + [data.draw(st.booleans(), label="b a batch")]
    else:
        flags = st.lists(st.booleans(), min_size=2 * n + 1, max_size=2 * n + 1).filter(any)
        batched = data.draw(flags, label="which inputs are batches")
    count = sum(batched) * size + batched.count(False)
    numbers = iter(data.draw(st.lists(NUMBERS, min_size=count, max_size=count), label="numbers"))
    return [
        np.array([next(numbers) for _ in range(size)]) if is_batch else next(numbers)
        for is_batch in batched
    ]


def example(point: list[Any], k: int) -> list[float]:
    """Example k of a batched point: batches give their k-th number, numbers stay."""
    return [float(x[k]) if isinstance(x, np.ndarray) else x for x in point]


# --- 1. the row against SymPy and central differences ---------------------------------------


@given(data=st.data())
def test_value_and_first_derivatives_on_single_numbers_match_sympy_and_differences(
    data: st.DataObject,
) -> None:
    n = data.draw(st.integers(1, MOST), label="n")
    point = draw_point(data, n)
    inputs = [Value(x) for x in point]
    out = call(inputs)
    row = ops.weighted_sum(n)
    assert out.op is row and out.parents == tuple(inputs)
    assert set(row.domain) == {ops.ALL} and not row.kinks  # as NUMBERS assumes
    out.backward()

    value, gradient = sympy_value_and_gradient(point)
    assert abs(out.data - value) <= 1e-12 * magnitude(point)
    assert call([*point[:-1], 0.0]).data == weighted_sum(point[:n], point[n:-1]).data  # b = 0
    # The sum is linear in each input, so central differences are exact up to rounding at any
    # step; a large one keeps that rounding small.
    numeric = numerical_grad(row.forward, *point, eps=1e-3)
    for i, node in enumerate(inputs):
        assert isinstance(node.grad, float)
        assert node.grad == gradient[i], i  # xi, wi or 1: exact
        assert node.grad == pytest.approx(numeric[i], rel=1e-9, abs=1e-9), i


@given(data=st.data())
def test_second_derivatives_on_single_numbers_match_sympy(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, MOST), label="n")
    point = draw_point(data, n)
    last = 2 * n

    def f(*inputs: Any) -> Value:
        return call(list(inputs))

    # Given Values, grad computes the local derivatives on Values (what grad of grad needs):
    # every first derivative, that way, against SymPy.
    _, gradient = sympy_value_and_gradient(point)
    firsts = grad(f, argnums=tuple(range(last + 1)))(*[Value(x) for x in point])
    assert all(isinstance(g, Value) for g in firsts)
    assert [g.data for g in firsts] == gradient
    for _ in range(3):  # a few pairs; half the time i and the input it multiplies (∂² = 1)
        i = data.draw(st.integers(0, last), label="i")
        j = data.draw(st.one_of(st.just(partner(n, i)), st.integers(0, last)), label="j")
        second = grad(grad(f, argnums=i), argnums=j)(*point)
        assert second == sympy_second(point, i, j), (i, j)


@FEWER
@given(data=st.data())
def test_first_derivatives_on_batches_are_sums_of_per_example_derivatives(
    data: st.DataObject,
) -> None:
    """A batch input gets each example's gradient; a number input, their sum over the batch."""
    n = data.draw(st.integers(1, MOST), label="n")
    size = data.draw(st.integers(1, 5), label="batch size")
    point = draw_batch_point(data, n, size)
    row = ops.weighted_sum(n)
    inputs = [Value(x) for x in point]
    out = call(inputs)
    assert isinstance(out.data, np.ndarray) and out.data.shape == (size,)
    out.sum().backward()

    examples = [example(point, k) for k in range(size)]
    exact = [sympy_value_and_gradient(one) for one in examples]
    for k, one in enumerate(examples):
        assert abs(out.data[k] - exact[k][0]) <= 1e-12 * magnitude(one), k

    per_example = []  # the engine on single numbers, one example at a time
    for one in examples:
        singles = [Value(x) for x in one]
        call(singles).backward()
        per_example.append([node.grad for node in singles])

    numeric = numerical_grad(lambda *a: float(np.sum(row.forward(*a))), *point, eps=1e-3)
    for i, node in enumerate(inputs):
        sympy_each = [gradient[i] for _, gradient in exact]
        engine_each = [gradients[i] for gradients in per_example]
        if isinstance(point[i], np.ndarray):
            assert isinstance(node.grad, np.ndarray) and node.grad.shape == (size,), i
            assert node.grad.tolist() == sympy_each == engine_each, i
        else:
            assert isinstance(node.grad, float), i
            total = math.fsum(sympy_each)
            assert node.grad == pytest.approx(total, rel=1e-12, abs=1e-12), i
            assert node.grad == pytest.approx(math.fsum(engine_each), rel=1e-12, abs=1e-12), i
        assert np.allclose(node.grad, numeric[i], rtol=1e-9, atol=1e-8), i


@FEWER
@given(data=st.data())
def test_second_derivatives_on_batches_match_sympy_per_example(data: st.DataObject) -> None:
    """grad(grad(f)) of the batch sum, first by a number input (the gradient must be a single
    number to differentiate again), then by any input."""
    n = data.draw(st.integers(1, MOST), label="n")
    size = data.draw(st.integers(1, 5), label="batch size")
    point = draw_batch_point(data, n, size)
    numbers = [i for i, x in enumerate(point) if not isinstance(x, np.ndarray)]
    assume(numbers)

    def f(*inputs: Any) -> Value:
        return call(list(inputs)).sum()

    examples = [example(point, k) for k in range(size)]
    each_first = [sympy_value_and_gradient(one)[1] for one in examples]
    firsts = grad(f, argnums=tuple(range(2 * n + 1)))(*[Value(x) for x in point])
    for i, first in enumerate(firsts):  # on Values: the path grad of grad takes
        each = [gradient[i] for gradient in each_first]
        assert isinstance(first, Value), i
        if isinstance(point[i], np.ndarray):
            assert isinstance(first.data, np.ndarray) and first.data.tolist() == each, i
        else:
            assert first.data == pytest.approx(math.fsum(each), rel=1e-12, abs=1e-12), i
    for _ in range(2):
        i = data.draw(st.sampled_from(numbers), label="i")
        j = data.draw(st.one_of(st.just(partner(n, i)), st.integers(0, 2 * n)), label="j")
        second = grad(grad(f, argnums=i), argnums=j)(*point)
        each = [sympy_second(one, i, j) for one in examples]
        if isinstance(point[j], np.ndarray):
            assert isinstance(second, np.ndarray) and second.tolist() == each, (i, j)
        else:
            assert second == math.fsum(each), (i, j)


# --- 2. the engine's stacked path -----------------------------------------------------------


@given(data=st.data())
def test_on_a_batch_one_stacked_array_gives_one_edge_per_input(data: st.DataObject) -> None:
    """Each input of the node gets its own edge: its row of the stacked array as local
    derivative, the row times the upstream gradient as contribution (summed over the batch for
    a number). An input passed several times accumulates. backward() stores the same."""
    n = data.draw(st.integers(1, 12), label="n")
    size = data.draw(st.integers(1, 5), label="batch size")
    pool_point = draw_batch_point(data, n, size)[: data.draw(st.integers(1, 2 * n + 1))]
    pool = [Value(x, label=f"v{k}") for k, x in enumerate(pool_point)]
    picks = st.lists(st.integers(0, len(pool) - 1), min_size=2 * n + 1, max_size=2 * n + 1)
    operands = [pool[k] for k in data.draw(picks, label="operands")]  # repeats allowed
    assume(any(isinstance(v.data, np.ndarray) for v in operands))
    upstream = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=size, max_size=size)))

    node = call(operands)
    root = (node * upstream).sum()  # so d(root)/d(node) is `upstream`
    assert node.op is not None
    stacked = node.op.local_grads(*[p.data for p in node.parents], node.data)
    assert isinstance(stacked, np.ndarray) and stacked.shape == (2 * n + 1, size)

    edges: list[Edge] = []
    grads = backpropagate(root, on_edge=edges.append)
    mine = [edge for edge in edges if edge.node is node]
    assert len(mine) == 2 * n + 1 and all(e.parent is v for e, v in zip(mine, operands))
    running: dict[Value, Any] = {}
    for position, edge in enumerate(mine):
        other = partner(n, position)
        local = np.broadcast_to(operands[other].data if other != position else 1.0, (size,))
        assert np.array_equal(edge.local_grad, local) and np.array_equal(edge.upstream, upstream)
        assert np.array_equal(edge.local_grad, stacked[position])
        product = local * upstream
        if isinstance(edge.parent.data, np.ndarray):
            assert np.array_equal(edge.contribution, product), position
        else:
            assert isinstance(edge.contribution, float), position
            assert edge.contribution == pytest.approx(math.fsum(product), rel=1e-12, abs=1e-12)
        assert edge.accumulated == (edge.parent in running)
        before = running.get(edge.parent)
        running[edge.parent] = edge.contribution if before is None else before + edge.contribution
        assert np.array_equal(edge.grad_after, running[edge.parent])

    root.backward()
    for value in set(operands):
        assert np.array_equal(grads[value], running[value])
        assert np.array_equal(value.grad, grads[value])
        assert isinstance(value.grad, type(value.data))  # a number's gradient is a number


# --- 3. one-node and expanded neurons -------------------------------------------------------


@st.composite
def mlp_specs(draw: st.DrawFn) -> dict[str, Any]:
    """The arguments of a random MLP (no dropout: the same input always gives the same output)."""
    return {
        "nin": draw(st.integers(1, 3)),
        "nouts": draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)),
        "activation": draw(st.sampled_from(nn.ACTIVATIONS)),
        "output_activation": draw(st.sampled_from(nn.ACTIVATIONS)),
        "init": draw(st.sampled_from(nn.INITS)),
        "seed": draw(st.integers(0, 2**16)),
    }


def randomize(*models: nn.Module, seed: int) -> None:
    """The same random parameters in every model: biases too (they start at 0, which would
    hide a weighted sum that forgot its b)."""
    names = list(models[0].state_dict())
    state = dict(zip(names, np.random.default_rng(seed).normal(0, 1, len(names)).tolist()))
    for model in models:
        model.load_state_dict(state)


def as_list(result: Value | list[Value]) -> list[Value]:
    return result if isinstance(result, list) else [result]


def run(model: nn.Module, x: Any) -> tuple[list[Any], list[Any], list[Value]]:
    """The outputs, every parameter's gradient of Σ (k + 1)·output k (summed over a batch),
    and the graph (every node the loss depends on)."""
    model.zero_grad()
    outputs = as_list(model(x))
    loss = sum(((k + 1.0) * out for k, out in enumerate(outputs)), Value(0.0)).sum()
    loss.backward()
    return [o.data for o in outputs], [p.grad for p in model.parameters()], topological_order(loss)


def weighted_sums(graph: list[Value]) -> int:
    return sum(node.op is not None and node.op.name == "weighted_sum" for node in graph)


def close(a: list[Any], b: list[Any], rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    return len(a) == len(b) and all(np.allclose(x, y, rtol=rel, atol=abs_) for x, y in zip(a, b))


@given(spec=mlp_specs(), data=st.data())
def test_one_node_and_expanded_neurons_give_the_same_outputs_and_gradients(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    one, expanded = nn.MLP(**spec), nn.MLP(**spec, expanded=True)
    assert one.state_dict() == expanded.state_dict()
    randomize(one, expanded, seed=spec["seed"])
    shape = (data.draw(st.integers(1, 4), label="batch size"), spec["nin"])
    X = data.draw(arrays(np.float64, shape, elements=st.floats(-3, 3)), label="X")
    sizes = [spec["nin"], *spec["nouts"]]
    neurons = sum(spec["nouts"])
    saved = sum(nout * (2 * nin - 1) for nin, nout in itertools.pairwise(sizes))  # 2·nin → 1 node

    summed = [0.0] * len(one.parameters())
    for x in X:
        out_one, grads_one, graph_one = run(one, list(x))
        out_expanded, grads_expanded, graph_expanded = run(expanded, list(x))
        assert close(out_one, out_expanded) and close(grads_one, grads_expanded)
        assert weighted_sums(graph_one) == neurons and weighted_sums(graph_expanded) == 0
        assert len(graph_expanded) - len(graph_one) == saved > 0
        summed = [total + g for total, g in zip(summed, grads_one)]

    out_one, grads_one, graph_one = run(one, X)
    out_expanded, grads_expanded, graph_expanded = run(expanded, X)
    assert all(isinstance(o, np.ndarray) and o.shape == (len(X),) for o in out_one)
    assert close(out_one, out_expanded) and close(grads_one, grads_expanded)
    assert all(isinstance(g, float) for g in grads_one)  # parameters are numbers
    assert close(grads_one, summed, rel=1e-9)
    assert weighted_sums(graph_one) == neurons and weighted_sums(graph_expanded) == 0
    assert len(graph_expanded) - len(graph_one) == saved


def test_expand_switches_every_neuron_and_returns_the_model() -> None:
    model = nn.MLP(2, [3, 2], seed=0)
    neurons = [m for m in model.modules() if isinstance(m, nn.Neuron)]
    assert model.expand() is model and all(neuron.expanded for neuron in neurons)
    assert weighted_sums(run(model, [0.5, -1.0])[2]) == 0
    assert model.expand(False) is model and not any(neuron.expanded for neuron in neurons)
    assert weighted_sums(run(model, [0.5, -1.0])[2]) == len(neurons)


# --- 4. saved models load into either form --------------------------------------------------


@FEWER
@given(
    spec=mlp_specs(),
    kind=st.sampled_from(["MLP", "Layer", "Neuron"]),
    saved_expanded=st.booleans(),
    X=arrays(np.float64, (3, 3), elements=st.floats(-3, 3)),
)
def test_a_saved_model_loads_into_either_form_with_the_same_outputs(
    spec: dict[str, Any], kind: str, saved_expanded: bool, X: np.ndarray
) -> None:
    nin, width, activation = spec["nin"], spec["nouts"][0], spec["activation"]
    X = X[:, :nin]
    model: nn.Module
    if kind == "MLP":
        model = nn.MLP(**spec, expanded=saved_expanded)
    elif kind == "Layer":
        model = nn.Layer(nin, width, activation, seed=spec["seed"], expanded=saved_expanded)
    else:
        model = nn.Neuron(nin, activation, seed=spec["seed"], expanded=saved_expanded)
    randomize(model, seed=spec["seed"])
    with tempfile.TemporaryDirectory() as folder:
        path, other = Path(folder) / "model.json", Path(folder) / "other.json"
        nn.save(model, path)
        nn.save(model.expand(not saved_expanded), other)  # the same model, in the other form
        model.expand(saved_expanded)
        text = path.read_text()
        assert other.read_text() == text  # the form is not saved: the files are the same
        loaded = nn.load(path)
    document = json.loads(text)
    assert "expanded" not in document["architecture"] and "expanded" not in text
    assert loaded.architecture() == model.architecture()
    neurons = [m for m in loaded.modules() if isinstance(m, nn.Neuron)]
    assert neurons and not any(neuron.expanded for neuron in neurons)  # the default form
    expected = [o.data for o in as_list(model(X))]
    for form in (True, False):
        assert loaded.expand(form) is loaded
        outputs, _, graph = run(loaded, X)
        assert close(outputs, expected)
        assert weighted_sums(graph) == (0 if form else len(neurons))


# --- 5. l2 is one weighted-sum node ---------------------------------------------------------


@given(
    numbers=st.lists(st.floats(-10, 10), min_size=1, max_size=MOST),
    data=st.data(),
)
def test_l2_is_the_sum_of_squares_as_one_node_with_gradient_2p(
    numbers: list[float], data: st.DataObject
) -> None:
    pool = [Value(x) for x in numbers]
    picks = st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=MOST)
    parameters = [pool[k] for k in data.draw(picks, label="parameters")]  # shared ones twice
    penalty = losses.l2(parameters)
    m = len(parameters)
    squares = [p.data * p.data for p in parameters]
    assert penalty.data == pytest.approx(math.fsum(squares), rel=1e-12, abs=1e-300)
    assert penalty.op is ops.weighted_sum(m)
    assert [node for node in topological_order(penalty) if node.op is not None] == [penalty]
    assert penalty.parents[:-1] == (*parameters, *parameters) and penalty.parents[-1].data == 0
    penalty.backward()
    for p in pool:
        uses = sum(q is p for q in parameters)
        assert p.grad == pytest.approx(2 * p.data * uses, rel=1e-14, abs=0.0)  # d(uses·p²)/dp

    def f(*ps: Any) -> Value:
        return losses.l2(ps)

    floats = [p.data for p in parameters]
    i, j = data.draw(st.integers(0, m - 1), label="i"), data.draw(st.integers(0, m - 1), label="j")
    assert grad(grad(f, argnums=i), argnums=j)(*floats) == (2.0 if i == j else 0.0)


# --- 6. bad inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ws, xs, b, error, complaint",
    [
        ([1.0, 2.0], [3.0], 0.0, ValueError, r"one weight per input.*2 weight\(s\) and 1 input"),
        ([1.0], [3.0, 4.0], 0.0, ValueError, r"one weight per input.*1 weight\(s\) and 2 input"),
        ([], [], 0.0, ValueError, r"at least one; got 0 weight\(s\) and 0 input"),
        ([np.ones(3)], [np.ones(4)], 0.0, ValueError, r"batches of different sizes \(3 and 4 "),
        ([np.ones(3)], [2.0], np.ones(2), ValueError, r"batches of different sizes \(3 and 2 "),
        ([1.0, np.ones(2)], [np.ones(2), np.ones(1)], 0.0, ValueError, r"\(2 and 2 and 1 exam"),
        ([1.0], ["a"], 0.0, TypeError, r"input 1: Value holds a number .* got str 'a'"),
        ([1.0, None], [1.0, 2.0], 0.0, TypeError, r"weight 2: Value holds .* got NoneType None"),
        ([1.0], [1.0], "b", TypeError, r"b: Value holds a number .* got str 'b'"),
        ([[1.0, 2.0]], [1.0], 0.0, TypeError, r"weight 1: .*for a batch, pass np\.array"),
        ([np.ones((2, 2))], [1.0], 0.0, TypeError, r"1-D batch, not shape \(2, 2\)"),
        (2.0, [1.0], 0.0, TypeError, r"a list of weights and a list of inputs; got float and list"),
        ([1.0, 2.0], np.ones((5, 2)), 0.0, ValueError, r"batch of shape \(5, 2\).*list\(X\.T\)"),
        (np.ones((5, 2)), [1.0, 2.0], 0.0, ValueError, r"batch of shape \(5, 2\).*list\(X\.T\)"),
    ],
)
def test_bad_inputs_are_errors_that_say_what_was_wrong(
    ws: list[Any], xs: list[Any], b: Any, error: type[Exception], complaint: str
) -> None:
    with pytest.raises(error, match=complaint):
        weighted_sum(ws, xs, b)


@pytest.mark.parametrize("flag", ["yes", "no", 1, 0, None])
def test_expanded_must_be_true_or_false(flag: Any) -> None:
    for make in (
        lambda: nn.MLP(2, [3, 1], expanded=flag),
        lambda: nn.Layer(2, 3, expanded=flag),
        lambda: nn.Neuron(2, expanded=flag),
    ):
        with pytest.raises(TypeError, match=f"expanded must be True or False, got {flag!r}"):
            make()


@pytest.mark.parametrize("flag", ["yes", "no", 1, 0, None])
def test_expand_takes_only_true_or_false_like_the_constructor(flag: Any) -> None:
    """model.expand("no") must not expand the model: the switch is checked as in __init__."""
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match=f"expanded must be True or False, got {flag!r}"):
        model.expand(flag)
    assert not any(m.expanded for m in model.modules() if isinstance(m, nn.Neuron))


@given(data=st.data())
def test_a_float_overflow_inside_a_weighted_sum_raises_overflow_error_like_other_ops(
    data: st.DataObject,
) -> None:
    n = data.draw(st.integers(1, MOST), label="n")
    point = draw_point(data, n)
    huge = st.floats(1e155, 1e300)
    terms = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    for i in terms:  # |wi·xi| > 1e310: beyond the largest float
        point[i] = data.draw(huge, label=f"w{i + 1}") * data.draw(st.sampled_from([1, -1]))
        point[n + i] = data.draw(huge, label=f"x{i + 1}")
    with pytest.raises(OverflowError, match=r"weighted_sum .* gave -?(inf|nan) .*too large"):
        call([Value(x) for x in point])
    with pytest.raises(OverflowError, match="too large for a float"):
        Value(point[terms[0]]) * Value(point[n + terms[0]])  # as `*` does


def test_an_input_already_infinite_passes_through_like_other_ops() -> None:
    assert weighted_sum([Value(math.inf)], [Value(2.0)]).data == (Value(math.inf) * 2.0).data


@pytest.mark.parametrize("expanded", [False, True])
def test_a_neuron_that_overflows_raises_overflow_error_in_either_form(expanded: bool) -> None:
    neuron = nn.Neuron(2, activation="linear", expanded=expanded)
    neuron.load_state_dict({"w1": 1e300, "w2": 1.0, "b": 0.0})
    with pytest.raises(OverflowError, match="too large for a float"):
        neuron([1e300, 1.0])


# --- regressions found in review ------------------------------------------------------------


def test_the_row_refuses_a_wrong_number_of_inputs() -> None:
    w1, w2, x1, x2 = (Value(v) for v in (0.5, -2.0, 1.5, 3.0))
    with pytest.raises(TypeError, match="weighted_sum of 2 takes 5 inputs, got 4"):
        apply(ops.weighted_sum(2), w1, w2, x1, x2)  # b forgotten


def test_a_number_among_batches_whose_sum_overflows_is_still_a_batch_row() -> None:
    """The row tells numbers from batches by one sum of its inputs; where that sum alone
    overflows (NumPy warns, and warnings are errors here), the batch path computes it."""
    w, x, b = np.array([1e308, 1.0]), 1e-308, 1e308
    assert np.array_equal(ops.weighted_sum(1).forward(w, x, b), b + w * x)


@pytest.mark.parametrize("expanded", [False, True])
def test_neuron_forward_takes_numbers_and_refuses_a_wrong_count(expanded: bool) -> None:
    neuron = nn.Neuron(2, "tanh", seed=0, expanded=expanded)
    from_numbers, from_values = neuron.forward([1.0, 2.0]), neuron([Value(1.0), Value(2.0)])
    assert from_numbers.data == from_values.data
    with pytest.raises(ValueError, match="Neuron expects 2 inputs per example, got 1"):
        neuron.forward([Value(5.0)])


def test_an_error_in_a_wide_weighted_sum_names_the_largest_inputs_only() -> None:
    net = nn.MLP(2, [16, 16, 1], seed=0)
    culprit = net.layers[1].neurons[7].w[3]
    culprit.data = 1e200
    with pytest.raises(OverflowError) as error:
        losses.l2(net.parameters())
    message = str(error.value)
    assert len(message) < 500, message
    assert "675 inputs, the largest" in message and repr(culprit.label) in message


def test_a_batch_inputs_row_is_never_summed_into_an_overflow() -> None:
    """Only a float input needs its row summed over the batch; a batch input's row is used as
    it is, so huge rows there must not raise (the expanded form does not)."""
    w, x = Value(np.array([1e308, 1e308])), Value(np.array([1e-300, 1e-300]))
    weighted_sum([w], [x], 0.0).sum().backward()
    w2, x2 = Value(w.data), Value(x.data)
    (0.0 + w2 * x2).sum().backward()
    assert np.array_equal(x.grad, x2.grad) and np.array_equal(w.grad, w2.grad)
    tiny, huge = Value(1e-10), Value(np.array([1e308, 1e308]))  # a float input's sum overflows
    with pytest.raises(FloatingPointError, match="overflow"):
        weighted_sum([tiny], [huge], 0.0).sum().backward()
