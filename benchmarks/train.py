"""Training speed: the demo to 98% test accuracy, and an epoch of micrograd's demo against
micrograd 0.1.0 itself, in one run.

1. `microgradx demo`'s job: two circles (1,000 points, 250 held out), the article's network
   2 → 4 → 6 → 6 → 4 → 1 with Adam (lr 0.01), full batch. We time the training epochs only
   (the test accuracy is checked after each epoch, off the clock) until the test accuracy
   reaches 98%, for several seeds.
2. micrograd's demo: MLP(2, [16, 16, 1]), hinge loss + 1e-4·L2 on 100 moons, SGD with the
   learning rate decaying from 1.0. One epoch is one full-batch step. micrograd 0.1.0 runs its
   own `nn.MLP` and its demo's loss; microgradx runs `train.fit`, with the whole batch in one
   graph, and also micrograd's way, one scalar graph per example.

The machine is shared and noisy: compare the ratios, measured in the same run.

    python benchmarks/train.py [--seeds 5] [--epochs 20]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import numpy as np
from micrograd import nn as micrograd_nn

from microgradx import Value, data, losses, nn, optim, train


def time_to_98_percent(seed: int, limit: int = 1000) -> tuple[float, int]:
    """Seconds of training (and epochs) until the demo's network reaches 98% test accuracy."""
    X, y = data.make_circles(1000, noise=0.05, factor=0.5, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0)
    model = nn.MLP(2, [4, 6, 6, 4, 1], output_activation="sigmoid", seed=seed)
    adam = optim.Adam(model.parameters(), lr=0.01)
    seconds = 0.0
    for epoch in range(1, limit + 1):
        start = time.perf_counter()
        train.fit(
            model, X_train, y_train, losses.binary_cross_entropy, adam, epochs=1, progress=False
        )
        seconds += time.perf_counter() - start
        if train.accuracy(model, X_test, y_test) >= 0.98:
            return seconds, epoch
    return float("inf"), limit


def micrograd_epoch(X: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One step of micrograd's demo, with micrograd 0.1.0's own MLP and loss."""
    model = micrograd_nn.MLP(2, [16, 16, 1])
    signs = 2 * y - 1
    inputs = [list(map(micrograd_nn.Value, row)) for row in X.tolist()]

    def epoch() -> None:
        scores = list(map(model, inputs))
        hinge = [(1 + -float(yi) * score).relu() for yi, score in zip(signs, scores)]
        data_loss = sum(hinge) * (1.0 / len(hinge))
        total = data_loss + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad

    return epoch


def microgradx_epoch(X: np.ndarray, y: np.ndarray, per_example: bool) -> Callable[[], None]:
    """One epoch of the same job with microgradx: train.fit on the whole batch, or one scalar
    graph per example (micrograd's way)."""
    model = nn.MLP(2, [16, 16, 1], init="uniform", seed=0)
    sgd = optim.SGD(model.parameters(), lr=0.05)

    def loss(scores: Value, labels: np.ndarray) -> Value:
        return losses.hinge(scores, labels) + 1e-4 * losses.l2(model.parameters())

    if not per_example:
        return lambda: train.fit(model, X, y, loss, sgd, epochs=1, progress=False) and None

    rows = X.tolist()

    def epoch() -> None:
        sgd.zero_grad()
        loss([model(row) for row in rows], y).backward()  # type: ignore[arg-type]
        sgd.step()

    return epoch


def median_time(run: Callable[[], None], repeats: int) -> float:
    run()  # warm up
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds for the time to 98%%")
    parser.add_argument("--epochs", type=int, default=20, help="timed epochs per engine")
    args = parser.parse_args()

    print("1. microgradx demo: two circles, 2-4-6-6-4-1, Adam, until 98% test accuracy")
    results = [time_to_98_percent(seed) for seed in range(args.seeds)]
    for seed, (seconds, epochs) in enumerate(results):
        print(f"   seed {seed}: {seconds:6.2f} s ({epochs} epochs)")
    reached = [seconds for seconds, _ in results if seconds != float("inf")]
    median = statistics.median(reached)
    print(f"   median {median:.2f} s; {len(reached)} of {args.seeds} seeds reached 98%")

    X, y = data.make_moons(100, noise=0.1, seed=0)
    engines = {
        "micrograd 0.1.0 (per example)": micrograd_epoch(X, y),
        "microgradx (per example)": microgradx_epoch(X, y, per_example=True),
        "microgradx train.fit (batch)": microgradx_epoch(X, y, per_example=False),
    }
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(3):  # interleaved, so that a slow patch of the machine hits every engine
        for name, run in engines.items():
            samples[name].append(median_time(run, max(1, args.epochs // 3)))
    medians = {name: statistics.median(times) for name, times in samples.items()}
    reference = medians["micrograd 0.1.0 (per example)"]
    print("\n2. an epoch of micrograd's demo (MLP(2, [16, 16, 1]), 100 moons, hinge + L2, SGD)")
    print(f"   {'engine':32} {'per epoch':>11} {'vs micrograd':>13}")
    for name, median in medians.items():
        print(f"   {name:32} {median * 1e3:8.1f} ms {reference / median:11.1f}x")


if __name__ == "__main__":
    main()
