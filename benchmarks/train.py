"""Training speed: the demo to 98% test accuracy, an over-fitting run with one-node and
expanded neurons, and an epoch of micrograd's demo against micrograd 0.1.0 itself, in one run.

1. `microgradx demo`'s job: two circles (1,000 points, 250 held out), the article's network
   2 → 4 → 6 → 6 → 4 → 1 with Adam (lr 0.01), full batch. We time the training epochs only
   (the test accuracy is checked after each epoch, off the clock) until the test accuracy
   reaches 98%, for several seeds.
2. An over-fitting run: MLP(2, [32, 32, 1]) on 60 noisy moons (noise 0.3), 1,500 epochs of
   full-batch SGD (lr 0.05, momentum 0.9) on binary cross-entropy with logits, through
   `train.fit`. The same run twice from the same weights: neurons as one weighted-sum node
   each, and with `expanded=True` (products and sums, as the lecture builds them). The two take
   turns every 100 epochs (`fit` called 15 times on the same model and optimizer: the same
   arithmetic as one call of 1,500 epochs), so that a slow patch of the machine hits both; each
   time is the sum of its 15 parts. Their final losses must agree.
3. micrograd's demo: MLP(2, [16, 16, 1]), hinge loss + 1e-4·L2 on 100 moons, SGD with the
   learning rate decaying from 1.0. One epoch is one full-batch step. micrograd 0.1.0 runs its
   own `nn.MLP` and its demo's loss; microgradx runs `train.fit`, with the whole batch in one
   graph, and also micrograd's way, one scalar graph per example. (benchmarks/engine.py times
   the same step from identical weights and checks that the arithmetic agrees.)

The machine is shared and noisy: compare the ratios, measured in the same run.

    python benchmarks/train.py [--seeds 5] [--epochs 20] [--overfit-epochs 1500]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
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


OVERFIT_CHUNK = 100  # the forms of the over-fitting run take turns every this many epochs
OVERFIT_AIM_EPOCHS, OVERFIT_AIM_SECONDS = 1500, 5.0


def overfitting_run(epochs: int) -> None:
    """MLP(2, [32, 32, 1]) over-fits 60 noisy moons: one-node neurons against expanded=True,
    both through train.fit; and one-node neurons through a plain loop, to show fit's share."""
    X, y = data.make_moons(60, noise=0.3, seed=0)
    X_test, y_test = data.make_moons(1000, noise=0.3, seed=1)
    forms = {
        "one-node neurons": (False, True),  # (expanded, through train.fit)
        "expanded=True": (True, True),
        "one-node, plain loop": (False, False),
    }
    models, runs = {}, {}
    for name, (expanded, through_fit) in forms.items():
        model = nn.MLP(2, [32, 32, 1], seed=0, expanded=expanded)  # the same weights for all
        models[name] = model
        runs[name] = overfitting_epochs(model, X, y, through_fit)
    seconds = dict.fromkeys(forms, 0.0)
    final_loss = dict.fromkeys(forms, float("nan"))
    for done in range(0, epochs, OVERFIT_CHUNK):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            final_loss[name] = run(min(OVERFIT_CHUNK, epochs - done))
            seconds[name] += time.perf_counter() - start

    print(
        f"\n2. over-fitting: MLP(2, [32, 32, 1]) on 60 moons (noise 0.3), {epochs:,} epochs of "
        "full-batch SGD\n   (lr 0.05, momentum 0.9), BCE with logits; test accuracy on 1,000 "
        "fresh moons"
    )
    print(
        f"   {'neurons':22} {'time':>8} {'per epoch':>10} {'final loss':>11} {'train acc':>10} "
        f"{'test acc':>9}"
    )
    for name, model in models.items():
        print(
            f"   {name:22} {seconds[name]:6.2f} s {seconds[name] / epochs * 1e3:7.2f} ms "
            f"{final_loss[name]:11.6f} {train.accuracy(model, X, y):10.1%} "
            f"{train.accuracy(model, X_test, y_test):9.1%}"
        )
    one, expanded_time, plain = seconds.values()
    difference = max(final_loss.values()) - min(final_loss.values())
    print(f"   expanded=True takes {expanded_time / one:.1f}x the time of one-node neurons")
    print(f"   train.fit's own share of the one-node run: {1 - plain / one:.0%}")
    print(f"   the final losses agree to {difference:.1e}")
    if epochs == OVERFIT_AIM_EPOCHS:
        verdict = "met" if one < OVERFIT_AIM_SECONDS else "NOT met"
        print(
            f"   aim for one-node neurons through fit: under {OVERFIT_AIM_SECONDS:g} s: {verdict} "
            "(an absolute time: it depends on the machine's load)"
        )
    if not difference <= 1e-9:
        sys.exit("the runs trained differently: the timing would compare different arithmetic")


def overfitting_epochs(
    model: nn.MLP, X: np.ndarray, y: np.ndarray, through_fit: bool
) -> Callable[[int], float]:
    """A function that trains `model` for some epochs and returns the last epoch's loss (before
    its update, as train.fit records it); the optimizer, and so the momentum, carries on."""
    sgd = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss = losses.binary_cross_entropy_with_logits

    def run(epochs: int) -> float:
        if through_fit:
            return train.fit(model, X, y, loss, sgd, epochs=epochs, progress=False).loss[-1]
        for _ in range(epochs):
            sgd.zero_grad()
            value = loss(model(X), y)
            value.backward()
            sgd.step()
        return value.item()

    return run


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
    parser.add_argument(
        "--overfit-epochs", type=int, default=1500, help="epochs of the over-fitting run"
    )
    args = parser.parse_args()

    print("1. microgradx demo: two circles, 2-4-6-6-4-1, Adam, until 98% test accuracy")
    results = [time_to_98_percent(seed) for seed in range(args.seeds)]
    for seed, (seconds, epochs) in enumerate(results):
        print(f"   seed {seed}: {seconds:6.2f} s ({epochs} epochs)")
    reached = [seconds for seconds, _ in results if seconds != float("inf")]
    median = statistics.median(reached)
    print(f"   median {median:.2f} s; {len(reached)} of {args.seeds} seeds reached 98%")

    overfitting_run(args.overfit_epochs)

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
    print("\n3. an epoch of micrograd's demo (MLP(2, [16, 16, 1]), 100 moons, hinge + L2, SGD)")
    print(f"   {'engine':32} {'per epoch':>11} {'vs micrograd':>13}")
    for name, median in medians.items():
        print(f"   {name:32} {median * 1e3:8.1f} ms {reference / median:11.1f}x")


if __name__ == "__main__":
    main()
