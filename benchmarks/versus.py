"""This checkout's engine against another checkout's (an older commit), step by step, in one run.

    git worktree add /tmp/before HEAD~3          # the commit to compare with
    python benchmarks/versus.py /tmp/before [--steps 40]

Two worker processes, one per checkout, each import their own microgradx and hold micrograd's
demo step ready (benchmarks/engine.py of their checkout: MLP(2, [16, 16, 1]), hinge loss over
100 two-moons points; "own" is that step with microgradx's own nn.MLP on the whole batch). The
parent asks them in turn to time one step, alternating who goes first, so that a slow patch of
the shared machine hits both. It prints both medians and the median of the paired ratios
(this / other): a ratio of 1.03 means this checkout is 3% slower.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def worker(checkout: str) -> None:
    """Answer each line "example", "batch" or "own" with the seconds one such step took."""
    spec = importlib.util.spec_from_file_location("bench", f"{checkout}/benchmarks/engine.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    import microgradx

    assert Path(microgradx.__file__).is_relative_to(checkout), microgradx.__file__
    X, y = bench.make_moons(100, noise=0.1, seed=0)
    layers = bench.make_parameters(microgradx.Value, seed=1337)
    steps = {
        kind: lambda loss=loss: bench.sgd_step(layers, loss(layers, X, y))
        for kind, loss in (("example", bench.scalar_loss), ("batch", bench.batch_loss))
    }
    if hasattr(bench, "microgradx_step"):  # the library's own MLP (from issue 9 on)
        model = bench.microgradx_model(bench.micrograd_model())
        steps["own"] = bench.microgradx_step(model, X, y, batch=True)
    for step in steps.values():  # warm up
        step()
    for line in sys.stdin:
        gc.collect()
        start = time.perf_counter()
        steps[line.strip()]()
        print(time.perf_counter() - start, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout (a git worktree)")
    parser.add_argument("--steps", type=int, default=40, help="paired steps per engine mode")
    args = parser.parse_args()
    if not (args.other / "microgradx" / "engine.py").exists():
        parser.error(f"{args.other} is not a microgradx checkout")
    workers = {}
    for name, checkout in (("this", HERE), ("other", args.other.resolve())):
        environment = {**os.environ, "PYTHONPATH": str(checkout)}
        workers[name] = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(checkout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )

    def time_step(name: str, kind: str) -> float:
        process = workers[name]
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(kind + "\n")
        process.stdin.flush()
        return float(process.stdout.readline())

    print(f"this checkout ({HERE}) against {args.other}, micrograd's demo step")
    names = {"example": "per example", "batch": "whole batch", "own": "own MLP batch"}
    for kind, steps in (
        ("example", args.steps),
        ("batch", 4 * args.steps),
        ("own", 4 * args.steps),
    ):
        this, other = [], []
        for i in range(steps):
            order = ("this", "other") if i % 2 else ("other", "this")
            times = {name: time_step(name, kind) for name in order}
            this.append(times["this"])
            other.append(times["other"])
        ratio = statistics.median(a / b for a, b in zip(this, other))
        print(
            f"{names[kind]:13} "
            f"this {statistics.median(this) * 1e3:7.1f} ms, other "
            f"{statistics.median(other) * 1e3:7.1f} ms, paired ratio this/other {ratio:.3f}"
        )
    for process in workers.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2])
    else:
        main()
