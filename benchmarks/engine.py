"""The engine against micrograd 0.1.0 (and PyTorch, when installed), on micrograd's own demo
step, in one run.

One step: MLP(2, [16, 16, 1]) with ReLU, hinge loss (plus 1e-4 * L2) over 100 two-moons
points, forward, backward and an SGD update (lr 0.05).

1. The same arithmetic, with a generic Value and no weighted-sum node (micrograd's products
   and sums, written once here and run by each engine):
   - micrograd 0.1.0 (from PyPI), one scalar graph per example;
   - microgradx, one scalar graph per example (the same graph micrograd builds);
   - microgradx, the whole batch flowing through one graph (1-D arrays in each node).
2. Each library's own `nn.MLP`, all starting from the same weights (micrograd's, copied into
   the others): micrograd 0.1.0's MLP per example, as its demo does; microgradx's MLP (one
   weighted-sum node per neuron) with one graph per example, and with the whole batch in one
   graph; and PyTorch (torch.nn.Linear + ReLU, float64, one thread) on the whole batch.
   Before timing, the first step of each is checked against micrograd's: the loss and every
   parameter after the update must agree to 1e-9, or the benchmark stops.

3. The engine's inf/nan check on batches: its own time in the whole-batch step, as a share.

`gc.collect()` runs before every timed step so that one engine's garbage is not collected on
the other's clock, and the rows take turns (three rounds) so that a slow patch of the shared
machine hits all of them. We print medians and the ratios measured in this run, never absolute
claims. Memory is measured with tracemalloc: bytes held per graph node after the forward pass,
and the peak during forward + backward.

PyTorch is not a dependency: `make benchmark` installs its CPU wheel into .venv; without it
the PyTorch row is skipped.

    python benchmarks/engine.py [--steps 21] [--fast-steps 60]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from micrograd import nn as micrograd_nn
from micrograd.engine import Value as MicrogradValue

from microgradx import Value, losses, nn, optim
from microgradx.engine import topological_order

torch: Any
try:  # optional: the PyTorch row runs only when torch is installed
    import torch
except ImportError:
    torch = None

WIDTHS = [2, 16, 16, 1]
ALPHA = 1e-4
LR = 0.05
SEED = 1337
AGREE = 1e-9  # the first step's loss and parameters must agree this closely
INSTALL_TORCH = "python3 -m pip --python .venv/bin/python install torch==2.13.0"


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
    hinge = [(1 + -float(yi) * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(hinge) * (1.0 / len(hinge))
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


def nodes(roots: Any) -> Iterator[Any]:
    """Every node of a graph (or of several graphs) once, for either engine (micrograd keeps
    parents in `_prev`)."""
    stack = list(roots) if isinstance(roots, list) else [roots]
    seen = {id(root) for root in stack}
    while stack:
        node = stack.pop()
        yield node
        for parent in getattr(node, "_prev", None) or getattr(node, "parents", ()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)


def count_nodes(root: Any) -> int:
    """Nodes in a graph, for either engine."""
    return sum(1 for _ in nodes(root))


def made_by_an_op(node: Any) -> bool:
    """Whether an op made the node (not a parameter, an input or a wrapped constant)."""
    return bool(getattr(node, "_op", "")) or getattr(node, "op", None) is not None


# --- 1. the same arithmetic: micrograd's products and sums, run by each engine ---------------

ENGINES: dict[str, tuple[Callable[[float], Any], Callable[..., Any]]] = {
    "micrograd 0.1.0 (per example)": (MicrogradValue, scalar_loss),
    "microgradx (per example)": (Value, scalar_loss),
    "microgradx (whole batch)": (Value, batch_loss),
}


def same_arithmetic_step(name: str, X: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    value, loss_fn = ENGINES[name]
    layers = make_parameters(value, seed=SEED)
    return lambda: sgd_step(layers, loss_fn(layers, X, y))


def memory(name: str, X: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """(bytes held per node after forward, peak bytes per node over forward + backward, nodes)."""
    value, loss_fn = ENGINES[name]
    layers = make_parameters(value, seed=SEED)
    gc.collect()
    tracemalloc.start()
    loss = loss_fn(layers, X, y)
    held, _ = tracemalloc.get_traced_memory()
    loss.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    count = count_nodes(loss)
    return held / count, peak / count, count


# --- 2. each library's own MLP, from the same weights ----------------------------------------

MICROGRAD_OWN = "micrograd 0.1.0 own MLP, per example"
OURS_EXAMPLE = "microgradx own MLP, per example"
OURS_BATCH = "microgradx own MLP, whole batch"
TORCH_BATCH = "PyTorch 1 thread, whole batch"


def micrograd_model() -> Any:
    """micrograd 0.1.0's own MLP; its weights are drawn from Python's `random`."""
    random.seed(SEED)
    return micrograd_nn.MLP(WIDTHS[0], WIDTHS[1:])


def neurons(theirs: Any) -> Iterator[tuple[int, int, Any]]:
    """(layer index, neuron index, neuron) of micrograd's MLP, in its order."""
    for i, layer in enumerate(theirs.layers):
        for j, neuron in enumerate(layer.neurons):
            yield i, j, neuron


def microgradx_model(theirs: Any, expanded: bool = False) -> nn.MLP:
    """microgradx's MLP with micrograd's weights, by our dotted parameter names."""
    model = nn.MLP(
        WIDTHS[0], WIDTHS[1:], activation="relu", output_activation="linear", expanded=expanded
    )
    state = {}
    for i, j, neuron in neurons(theirs):
        for k, w in enumerate(neuron.w):
            state[f"layers.{i}.neurons.{j}.w{k + 1}"] = float(w.data)
        state[f"layers.{i}.neurons.{j}.b"] = float(neuron.b.data)
    model.load_state_dict(state)
    return model


def torch_model(theirs: Any) -> Any:
    """The same network in PyTorch (Linear + ReLU, float64), with micrograd's weights."""
    modules: list[Any] = []
    for i, layer in enumerate(theirs.layers):
        linear = torch.nn.Linear(len(layer.neurons[0].w), len(layer.neurons), dtype=torch.float64)
        with torch.no_grad():
            weights = [[float(w.data) for w in n.w] for n in layer.neurons]
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            biases = [float(n.b.data) for n in layer.neurons]
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules += [linear, torch.nn.ReLU()] if i < len(theirs.layers) - 1 else [linear]
    return torch.nn.Sequential(*modules)


def micrograd_step(model: Any, X: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    """micrograd's demo step with its own MLP: one graph per example, its loss, SGD."""
    rows, labels = X.tolist(), y.tolist()

    def step() -> float:
        inputs = [list(map(MicrogradValue, row)) for row in rows]
        scores = list(map(model, inputs))
        hinge = [(1 + -yi * score).relu() for yi, score in zip(labels, scores)]
        data_loss = sum(hinge) * (1.0 / len(hinge))
        total = data_loss + ALPHA * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= LR * p.grad
        return float(total.data)

    return step


def microgradx_step(
    model: nn.MLP, X: np.ndarray, y: np.ndarray, batch: bool
) -> Callable[[], float]:
    """The same step with microgradx's MLP: the whole batch through one graph (model(X), X of
    shape (100, 2)), or one graph per example; losses.l2 and optim.SGD."""
    parameters = model.parameters()
    sgd = optim.SGD(parameters, lr=LR)
    rows, labels = X.tolist(), y.tolist()

    def data_loss() -> Value:
        if batch:
            return (1 + -y * model(X)).relu().mean()  # type: ignore[no-any-return]
        scores = [model(row) for row in rows]
        hinge = [(1 + -yi * score).relu() for yi, score in zip(labels, scores)]
        return sum(hinge) * (1.0 / len(hinge))  # type: ignore[no-any-return]

    def step() -> float:
        total = data_loss() + ALPHA * losses.l2(parameters)
        sgd.zero_grad()
        total.backward()
        sgd.step()
        return total.item()

    return step


def torch_step(model: Any, X: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    """The same step in PyTorch: the whole batch as a (100, 2) float64 tensor, torch.optim.SGD."""
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y)
    parameters = list(model.parameters())
    sgd = torch.optim.SGD(parameters, lr=LR)

    def step() -> float:
        score = model(inputs).squeeze(1)
        data_loss = torch.relu(1 + -labels * score).mean()
        total = data_loss + ALPHA * sum((p * p).sum() for p in parameters)
        sgd.zero_grad()
        total.backward()
        sgd.step()
        return float(total.item())

    return step


def torch_parameters(model: Any) -> list[float]:
    """PyTorch's parameters in micrograd's order: per neuron, its weights, then its bias."""
    numbers: list[float] = []
    for linear in (m for m in model if isinstance(m, torch.nn.Linear)):
        for weights, bias in zip(linear.weight.tolist(), linear.bias.tolist()):
            numbers += [*weights, bias]
    return numbers


def own_rows(X: np.ndarray, y: np.ndarray) -> dict[str, tuple[Callable[[], float], Any]]:
    """Each own-MLP row's step and a function giving its parameters, all from the same weights."""
    theirs = micrograd_model()
    ours_example, ours_batch = microgradx_model(theirs), microgradx_model(theirs)
    rows: dict[str, tuple[Callable[[], float], Any]] = {
        MICROGRAD_OWN: (
            micrograd_step(theirs, X, y),
            lambda: [float(p.data) for p in theirs.parameters()],
        ),
        OURS_EXAMPLE: (
            microgradx_step(ours_example, X, y, batch=False),
            lambda: [float(p.data) for p in ours_example.parameters()],
        ),
        OURS_BATCH: (
            microgradx_step(ours_batch, X, y, batch=True),
            lambda: [float(p.data) for p in ours_batch.parameters()],
        ),
    }
    if torch is not None:
        model = torch_model(theirs)
        rows[TORCH_BATCH] = (torch_step(model, X, y), lambda: torch_parameters(model))
    return rows


def check_agreement(X: np.ndarray, y: np.ndarray) -> None:
    """One step of every own-MLP row from the same weights: the losses, and the parameters after
    the update, must match micrograd's to AGREE (else the timings would compare different
    arithmetic, and we stop)."""
    results = {name: (step(), parameters()) for name, (step, parameters) in own_rows(X, y).items()}
    loss, after = results[MICROGRAD_OWN]
    print("first step from the same weights (loss before the update; parameters after it):")
    print(f"  {'row':38} {'loss':>20} {'|loss - micrograd|':>19} {'max |Δparameter|':>17}")
    worst = 0.0
    for name, (their_loss, their_after) in results.items():
        dloss = abs(their_loss - loss)
        dparameter = max(abs(a - b) for a, b in zip(their_after, after))
        worst = max(worst, dloss, dparameter)
        print(f"  {name:38} {their_loss:20.15f} {dloss:19.1e} {dparameter:17.1e}")
    if not all(math.isfinite(loss) for loss, _ in results.values()) or worst > AGREE:
        sys.stdout.flush()
        sys.exit(f"the rows disagree by {worst:.1e} (more than {AGREE:g}): not benchmarking")
    print(f"  every row agrees with micrograd to {worst:.1e} (needs {AGREE:g})")


def per_example_graphs(X: np.ndarray) -> None:
    """Nodes and memory of one example's forward through each library's own MLP."""
    theirs = micrograd_model()
    models: dict[str, tuple[Callable[[list[float]], Any], list[Any]]] = {
        "micrograd 0.1.0 own MLP": (
            lambda row: theirs(list(map(MicrogradValue, row))),
            theirs.parameters(),
        ),
    }
    for name, expanded in (("one-node neurons", False), ("expanded=True", True)):
        ours = microgradx_model(theirs, expanded)
        models[f"microgradx {name}"] = (ours, ours.parameters())
    rows = X.tolist()
    print(f"\none example's forward through MLP{WIDTHS} (memory over all {len(rows)} examples):")
    print(f"  {'model':26} {'op nodes':>9} {'all nodes':>10} {'held/node':>10} {'per example':>12}")
    op_nodes = {}
    for name, (model, parameters) in models.items():
        one = list(nodes(model(rows[0])))
        op_nodes[name] = ops = sum(map(made_by_an_op, one))
        gc.collect()
        tracemalloc.start()
        outputs = [model(row) for row in rows]
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        new = sum(1 for _ in nodes(outputs)) - len(parameters)  # op nodes, inputs, constants
        print(
            f"  {name:26} {ops:9d} {len(one):10d} {held / new:8.0f} B "
            f"{held / len(rows) / 1024:8.1f} KiB"
        )
    verdict = "met" if op_nodes["microgradx one-node neurons"] <= 70 else "NOT met"
    print("  op nodes: made by an op (not parameters, inputs or constants); all nodes: with them")
    print(f"  target for one-node neurons, at most 70 op nodes per example: {verdict}")


def finite_checks(X: np.ndarray, y: np.ndarray, medians: dict[str, float]) -> None:
    """What the engine's inf/nan check costs each whole-batch step: the check (one sum of
    squares per node that holds a batch) timed on every such node of the step's graph, as a
    share of the step's median time in this run."""
    model = microgradx_model(micrograd_model())
    graphs = {
        OURS_BATCH: (1 + -y * model(X)).relu().mean() + ALPHA * losses.l2(model.parameters()),
        "microgradx (whole batch)": batch_loss(make_parameters(Value, SEED), X, y),
    }
    print("\ninf/nan check on batches (at most 10% of a step allowed):")
    for name, loss in graphs.items():
        nodes = topological_order(loss)
        batches = [n.data for n in nodes if isinstance(n.data, np.ndarray) and n.op]
        times = []
        for _ in range(200):
            start = time.perf_counter()
            for data in batches:
                data.dot(data) < math.inf  # noqa: B015  # the engine's check, as record runs it
            times.append(time.perf_counter() - start)
        check = statistics.median(times)
        print(
            f"  {name:38} {len(batches):5d} nodes {check * 1e6:7.1f} µs = "
            f"{check / medians[name]:5.1%} of its step ({medians[name] * 1e3:.2f} ms)"
        )


# --- timing -----------------------------------------------------------------------------------


def timed(
    steps: dict[str, tuple[Callable[[], object], int]], rounds: int
) -> dict[str, list[float]]:
    """Seconds of each row's steps: one warm-up step each, then the rows take turns, `rounds`
    times, each running its share of its steps, with gc.collect() before every timed step."""
    for step, _ in steps.values():
        step()
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, (step, count) in steps.items():
            for _ in range(math.ceil(count / rounds)):
                gc.collect()
                start = time.perf_counter()
                step()
                samples[name].append(time.perf_counter() - start)
    return samples


def table(title: str, samples: dict[str, list[float]], reference: str) -> dict[str, float]:
    medians = {name: statistics.median(times) for name, times in samples.items()}
    print(f"\n{title}")
    print(f"  {'engine':38} {'steps':>5} {'median step':>12} {'vs micrograd':>13}")
    for name, median in medians.items():
        speedup = medians[reference] / median
        print(f"  {name:38} {len(samples[name]):5d} {median * 1e3:9.2f} ms {speedup:11.1f}x")
    return medians


def ratio_line(what: str, ratio: float, target: float, goal: str) -> None:
    verdict = "met" if ratio >= target else "NOT met"
    print(f"  {what:52} {ratio:8.1f}x   target {goal}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=21, help="timed steps of the slow per-example rows"
    )
    parser.add_argument("--fast-steps", type=int, default=60, help="timed steps of the other rows")
    args = parser.parse_args()
    X, y = make_moons(100, noise=0.1, seed=0)
    assert len(topological_order(batch_loss(make_parameters(Value, 0), X, y))) > 0

    print(f"micrograd's demo step: MLP{WIDTHS}, 100 moons, hinge + {ALPHA:g}·L2, SGD lr {LR}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}", end="")
    if torch is None:
        print(
            "\nPyTorch row skipped: torch is not installed here. `make benchmark` installs its "
            f"CPU wheel into .venv ({INSTALL_TORCH})."
        )
    else:
        torch.set_num_threads(1)
        print(f", torch {torch.__version__} ({torch.get_num_threads()} thread)")
    print()
    check_agreement(X, y)

    slow = {"micrograd 0.1.0 (per example)", "microgradx (per example)", MICROGRAD_OWN}
    steps: dict[str, tuple[Callable[[], object], int]] = {
        name: (same_arithmetic_step(name, X, y), args.steps if name in slow else args.fast_steps)
        for name in ENGINES
    }
    steps.update(
        (name, (step, args.steps if name in slow else args.fast_steps))
        for name, (step, _) in own_rows(X, y).items()
    )
    samples = timed(steps, rounds=3)

    same = table(
        "1. the same arithmetic (a generic Value, products and sums, no weighted-sum node)",
        {name: samples[name] for name in ENGINES},
        "micrograd 0.1.0 (per example)",
    )
    own = table(
        "2. each library's own nn.MLP, same weights, same data, same loss",
        {name: times for name, times in samples.items() if name not in ENGINES},
        MICROGRAD_OWN,
    )
    print("\nratios measured in this run (median step times, own MLPs):")
    reference = own[MICROGRAD_OWN]
    ratio_line("microgradx per example vs micrograd", reference / own[OURS_EXAMPLE], 10, "≥ 10x")
    batch = reference / own[OURS_BATCH]
    ratio_line("microgradx whole batch vs micrograd", batch, 400, "≥ 400x, aim 1000x")
    if torch is not None:
        slower = own[OURS_BATCH] / own[TORCH_BATCH]
        verdict = "met" if slower <= 3 else "NOT met"
        print(
            f"  {'microgradx whole batch vs PyTorch (time / its time)':52} {slower:8.2f}x   "
            f"target within 3x: {verdict}"
        )
    else:
        print("  microgradx whole batch vs PyTorch: skipped (no torch)")

    finite_checks(X, y, {**same, **own})
    per_example_graphs(X)

    heading = "memory of one step of 1."
    print(f"\n{heading:34} {'held/node':>10} {'peak/node':>10} {'nodes':>8}")
    print("  (tracemalloc: held after forward, peak over forward + backward)")
    for name in ENGINES:
        held, peak, count = memory(name, X, y)
        print(f"  {name:32} {held:8.0f} B {peak:8.0f} B {count:8d}")


if __name__ == "__main__":
    main()
