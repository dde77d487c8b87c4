"""How many random-expression gradient checks run per second.

Hypothesis draws random graphs over the op table (`strategies.expressions`, 2 inputs, up to
4 ops deep, shared subexpressions) and each one is checked with `gradcheck` (backward()
against central differences). We report two rates: the whole property-based run, Hypothesis's
own drawing and shrinking included (what a user's test costs), and gradcheck alone on the same
graphs. Aim: at least 500 checks a second.

    python benchmarks/gradcheck.py [--examples 2000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hypothesis import HealthCheck, given, settings

from microgradx.testing import gradcheck, gradgradcheck, strategies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="graphs to check")
    args = parser.parse_args()
    drawn: list[Any] = []

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategies.expressions(n_inputs=2, max_depth=4))
    def property_run(expression: Any) -> None:
        f, inputs = expression
        assert gradcheck(f, *inputs)
        drawn.append(expression)

    start = time.perf_counter()
    property_run()
    whole = time.perf_counter() - start

    start = time.perf_counter()
    for f, inputs in drawn:
        gradcheck(f, *inputs)
    alone = time.perf_counter() - start

    start = time.perf_counter()
    for f, inputs in drawn[:500]:
        gradgradcheck(f, *inputs)
    second = time.perf_counter() - start

    count = len(drawn)
    print(f"random expressions (2 inputs, up to 4 ops): {count} checked")
    print(f"  Hypothesis + gradcheck:   {count / whole:8.0f} checks/s")
    print(f"  gradcheck alone:          {count / alone:8.0f} checks/s")
    print(f"  gradgradcheck alone:      {min(count, 500) / second:8.0f} checks/s")


if __name__ == "__main__":
    main()
