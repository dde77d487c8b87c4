"""Hypothesis strategies for checking gradients: inputs inside an op's domain, random graphs.

    from hypothesis import given
    from microgradx.testing import strategies

    @given(strategies.expressions())
    def test_backward_matches_central_differences(expression):
        f, inputs = expression
        ...

Inputs stay inside every op's domain and a margin away from its kinks (relu and abs at 0),
where derivatives exist and central differences are accurate.

Two Hypothesis profiles come with it: "dev" (60 examples a test, quick) and "ci" (200,
derandomized, so that a failure in CI reproduces). In a conftest.py:

    from microgradx.testing import strategies
    strategies.load_profile()           # HYPOTHESIS_PROFILE=ci chooses "ci"; "dev" otherwise
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

try:
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "microgradx.testing.strategies needs Hypothesis: pip install 'microgradx[testing]'"
    ) from None

from microgradx import ops as op_table
from microgradx.engine import Value
from microgradx.functional import apply
from microgradx.ops import Op, OutsideDomain

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def load_profile(default: str = "dev") -> None:
    """Load the Hypothesis profile named by $HYPOTHESIS_PROFILE, else `default`."""
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


BOUND = 5.0  # inputs are drawn from [-BOUND, BOUND], intersected with the op's domain
MARGIN = 0.05  # distance kept from a domain's finite edge and from every kink
LARGEST = 1e3  # a random graph's intermediate values stay below this in size


def table(*custom: Op) -> list[Op]:
    """Every built-in row of the op table (a few rows of each family among them), then the
    custom rows passed in: `table(cube)`. Rows you do not pass are never drawn."""
    for row in custom:
        if not isinstance(row, Op):
            raise TypeError(f"table() takes rows of the op table or custom ops, got {row!r}")
    return [*op_table.OPS.values(), *op_table.EXAMPLES, *custom]


def ops(*custom: Op) -> st.SearchStrategy[Op]:
    """Any built-in row of the op table, or one of the custom rows passed in."""
    return st.sampled_from(table(*custom))


def floats_in(op: Op, operand: int = 0) -> st.SearchStrategy[float]:
    """Floats inside op's domain for one of its inputs, a margin away from edges and kinks."""
    low, high = op.domain[operand]
    window_low, window_high = max(low, -BOUND), min(high, BOUND)
    if window_low >= window_high:  # the domain lies outside [-BOUND, BOUND]: take its near end
        window_low, window_high = (
            (low, low + 2 * BOUND) if low >= BOUND else (high - 2 * BOUND, high)
        )
    margin = min(MARGIN, (window_high - window_low) / 10)  # the domain is open: keep off its edges
    floats = st.floats(
        window_low + margin, window_high - margin, allow_nan=False, allow_infinity=False
    )
    return floats.filter(lambda x: _clear_of_kinks(op, x))


def values(op: Op | None = None, operand: int = 0) -> st.SearchStrategy[Value]:
    """Values holding a float (inside op's domain when an op is given)."""
    floats = floats_in(op, operand) if op is not None else st.floats(-BOUND, BOUND)
    return floats.map(Value)


class Expression:
    """A random computation: `steps` of (row, operand positions) over the inputs.

    Operand positions count the inputs first, then the result of each step, so a step can use
    an input or an earlier result more than once (shared subexpressions). Calling it builds
    the graph and returns the last step's Value. `evaluate` runs the same steps with any
    other arithmetic (SymPy, say), for an independent oracle.
    """

    def __init__(self, n_inputs: int, steps: Sequence[tuple[Op, tuple[int, ...]]]) -> None:
        self.n_inputs = n_inputs
        self.steps = list(steps)

    def __call__(self, *inputs: Any) -> Value:
        result: Value = self.evaluate(lambda row, *operands: apply(row, *operands), *inputs)
        return result

    def evaluate(self, run: Callable[..., Any], *inputs: Any) -> Any:
        """Run the steps with `run(row, *operands)` in place of the engine."""
        if len(inputs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(inputs)}")
        nodes = list(inputs)
        for row, operands in self.steps:
            nodes.append(run(row, *[nodes[i] for i in operands]))
        return nodes[-1]

    def __repr__(self) -> str:
        names = [f"x{i}" for i in range(self.n_inputs)]
        for row, operands in self.steps:
            names.append(row.write(*[names[i] for i in operands]))
        return f"Expression({names[-1]})"


@st.composite
def expressions(
    draw: st.DrawFn,
    n_inputs: int = 2,
    max_depth: int = 4,
    ops: Sequence[Op] | None = None,
    batch_size: int | None = None,
) -> tuple[Expression, list[Any]]:
    """(f, inputs): a random graph over the op table and inputs where every op is defined.

    Each step takes the previous result and, for binary ops, any earlier node, so nodes are
    often reused. A step whose inputs fall outside its op's domain (or near a kink), or whose
    result grows beyond LARGEST, becomes tanh of its first input instead. With batch_size,
    the first input is a 1-D array of that many examples and every example obeys the rules.
    """
    rows = list(ops) if ops is not None else [row for row in table() if not row.reduces]
    inputs: list[Any] = [draw(st.floats(-BOUND, BOUND)) for _ in range(n_inputs)]
    if batch_size is not None:
        examples = st.lists(st.floats(-BOUND, BOUND), min_size=batch_size, max_size=batch_size)
        inputs[0] = np.array(draw(examples))
    numbers: list[Any] = list(inputs)
    steps: list[tuple[Op, tuple[int, ...]]] = []
    for depth in range(draw(st.integers(1, max_depth))):
        row = draw(st.sampled_from(rows))
        first = len(numbers) - 1 if depth else draw(st.integers(0, n_inputs - 1))
        others = [draw(st.integers(0, len(numbers) - 1)) for _ in range(row.arity - 1)]
        operands = (first, *others)
        result = _run_if_well_defined(row, [numbers[i] for i in operands])
        if result is None:
            row, operands = op_table.TANH, (first,)
            result = op_table.TANH.forward(numbers[first])
        steps.append((row, operands))
        numbers.append(result)
    return Expression(n_inputs, steps), inputs


def _run_if_well_defined(row: Op, operands: list[Any]) -> Any:
    """row's result on these inputs, or None if an input or the result is out of bounds."""
    for i, x in enumerate(operands):
        low, high = row.domain[i]
        every = np.atleast_1d(x)
        if not ((every > low + MARGIN) & (every < high - MARGIN)).all():
            return None
        if not all(_clear_of_kinks(row, float(v)) for v in every):
            return None
    try:
        with np.errstate(all="raise"):
            result = row.forward(*operands)
    except (OutsideDomain, ArithmeticError, ValueError, TypeError):
        return None
    return result if np.all(np.abs(result) < LARGEST) else None


def _clear_of_kinks(op: Op, x: float) -> bool:
    return all(abs(x - kink) > MARGIN for kink in op.kinks)
