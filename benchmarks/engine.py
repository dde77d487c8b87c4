"""The engine against micrograd 0.1.0, on micrograd's own demo step, in one run.

One step: MLP(2, [16, 16, 1]) with ReLU, hinge loss (plus 1e-4 * L2) over 100 two-moons
points, forward, backward and an SGD update. Three engines do the same arithmetic:

- micrograd 0.1.0 (from PyPI), one scalar graph per example;
- microgradx, one scalar graph per example (the same graph micrograd builds);
- microgradx, the whole batch flowing through one graph (1-D arrays in each node).

`gc.collect()` runs before every timed step so that one engine's garbage is not collected on
the other's clock. The machine is shared and noisy, so we print medians and the ratios
measured in this run, never absolute claims. Memory is measured with tracemalloc: bytes held
per graph node after the forward pass, and the peak during forward + backward.

    python benchmarks/engine.py [--steps 15]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from micrograd.engine import Value as MicrogradValue

from microgradx import Value
from microgradx.engine import topological_order

WIDTHS = [2, 16, 16, 1]
ALPHA = 1e-4


def make_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, labels -1 and +1 (as in micrograd's demo)."""
    rng = np.random.default_rng(seed)
    outer = np.pi * rng.random(n // 2)
    inner = np.pi * rng.random(n - n // 2)
    X = np.concatenate(
        [
            np.stack([np.cos(outer), np.sin(outer)], 1),
            np.stack([1 - np.cos(inner), 0.5 - np.sin(inner)], 1),
        ]
    )
    X += noise * rng.standard_normal(X.shape)
    y = np.concatenate([-np.ones(n // 2), np.ones(n - n // 2)])
    return X, y


def make_parameters(value: Callable[[float], Any], seed: int) -> list[list[list[Any]]]:
    """layers -> neurons -> [bias, w1, w2, ...], micrograd's U(-1, 1) initialisation."""
    rng = random.Random(seed)
    return [
        [[value(0.0)] + [value(rng.uniform(-1, 1)) for _ in range(nin)] for _ in range(nout)]
        for nin, nout in itertools.pairwise(WIDTHS)
    ]


def forward(layers: list[list[list[Any]]], inputs: list[Any]) -> Any:
    """micrograd's MLP arithmetic: act = b + Σ wi·xi, relu on every layer but the last."""
    for depth, layer in enumerate(layers):
        outputs = []
        for bias, *weights in layer:
            act = bias
            for w, x in zip(weights, inputs):
                act = act + w * x
            outputs.append(act.relu() if depth < len(layers) - 1 else act)
        inputs = outputs
    return inputs[0]


def scalar_loss(layers: list[list[list[Any]]], X: np.ndarray, y: np.ndarray) -> Any:
    """One graph per example, as micrograd's demo builds it."""
    scores = [forward(layers, [float(a), float(b)]) for a, b in X]
    losses = [(1 + -float(yi) * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + ALPHA * sum(p * p for p in flat(layers))


def batch_loss(layers: list[list[list[Any]]], X: np.ndarray, y: np.ndarray) -> Any:
    """The whole batch through one graph: each node holds one number per example."""
    score = forward(layers, [Value(X[:, 0]), Value(X[:, 1])])
    data_loss = (1 + -y * score).relu().mean()
    return data_loss + ALPHA * sum(p * p for p in flat(layers))


def flat(layers: list[list[list[Any]]]) -> list[Any]:
    return [p for layer in layers for neuron in layer for p in neuron]


def sgd_step(layers: list[list[list[Any]]], loss: Any, lr: float = 0.05) -> None:
    parameters = flat(layers)
    for p in parameters:
        p.grad = 0.0
    loss.backward()
    for p in parameters:
        p.data -= lr * p.grad


def count_nodes(root: Any) -> int:
    """Nodes in a graph, for either engine (micrograd keeps parents in `_prev`)."""
    seen, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        for parent in getattr(node, "_prev", None) or getattr(node, "parents", ()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


ENGINES: dict[str, tuple[Callable[[float], Any], Callable[..., Any]]] = {
    "micrograd 0.1.0 (per example)": (MicrogradValue, scalar_loss),
    "microgradx (per example)": (Value, scalar_loss),
    "microgradx (whole batch)": (Value, batch_loss),
}


def time_steps(name: str, steps: int, X: np.ndarray, y: np.ndarray) -> list[float]:
    value, loss_fn = ENGINES[name]
    layers = make_parameters(value, seed=1337)
    sgd_step(layers, loss_fn(layers, X, y))  # warm up
    times = []
    for _ in range(steps):
        gc.collect()
        start = time.perf_counter()
        sgd_step(layers, loss_fn(layers, X, y))
        times.append(time.perf_counter() - start)
    return times


def memory(name: str, X: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """(bytes held per node after forward, peak bytes per node over forward + backward, nodes)."""
    value, loss_fn = ENGINES[name]
    layers = make_parameters(value, seed=1337)
    gc.collect()
    tracemalloc.start()
    loss = loss_fn(layers, X, y)
    held, _ = tracemalloc.get_traced_memory()
    loss.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    nodes = count_nodes(loss)
    return held / nodes, peak / nodes, nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="timed steps per engine")
    args = parser.parse_args()
    X, y = make_moons(100, noise=0.1, seed=0)
    assert len(topological_order(batch_loss(make_parameters(Value, 0), X, y))) > 0

    medians: dict[str, float] = {}
    # Interleave the engines so that a slow patch of the shared machine hits all of them.
    samples: dict[str, list[float]] = {name: [] for name in ENGINES}
    for _ in range(3):
        for name in ENGINES:
            samples[name] += time_steps(name, max(1, args.steps // 3), X, y)
    medians = {name: statistics.median(times) for name, times in samples.items()}

    reference = medians["micrograd 0.1.0 (per example)"]
    print(f"micrograd demo step: MLP{WIDTHS}, 100 moons, forward + backward + SGD")
    print(f"{'engine':32} {'median step':>12} {'vs micrograd':>13}")
    for name, median in medians.items():
        print(f"{name:32} {median * 1e3:9.1f} ms {reference / median:11.1f}x")

    print(f"\n{'memory (tracemalloc)':32} {'held/node':>10} {'peak/node':>10} {'nodes':>8}")
    for name in ENGINES:
        held, peak, nodes = memory(name, X, y)
        print(f"{name:32} {held:8.0f} B {peak:8.0f} B {nodes:8d}")


if __name__ == "__main__":
    main()
