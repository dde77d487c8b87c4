"""The experiments the `microgradx` command runs, as functions you can call yourself.

    examples.neuron()                        # one neuron: forward, backward, every gradient
    examples.demo("moons", epochs=100)       # train a network, write its pictures to out/

The demo needs matplotlib (`pip install 'microgradx[plot]'`); the neuron needs nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from microgradx import Value, checks, data, losses, nn, optim, train, viz
from microgradx.engine import topological_order
from microgradx.files import write_atomically
from microgradx.language import say

__all__ = [
    "ACTIVATIONS", "DATASETS", "OPTIMIZERS", "OUTPUTS", "backprop_player", "demo", "neuron"
]  # fmt: skip

DATASETS: dict[str, Callable[[int], tuple[Any, Any]]] = {  # name -> seed -> (X, y)
    "circles": lambda seed: data.make_circles(1000, noise=0.05, factor=0.5, seed=seed),
    "moons": lambda seed: data.make_moons(1000, noise=0.1, seed=seed),
    "xor": lambda seed: data.make_xor(1000, noise=0.05, seed=seed),
    "spiral": lambda seed: data.make_spiral(1200, n_classes=3, noise=0.02, seed=seed),
}
ACTIVATIONS = nn.ACTIVATIONS  # what the hidden layers may use
OPTIMIZERS: dict[str, Callable[[list[Value], float], optim.Optimizer]] = {  # name -> (params, lr)
    "sgd": optim.SGD,
    "momentum": lambda params, lr: optim.SGD(params, lr, momentum=0.9),
    "adagrad": optim.Adagrad,
    "rmsprop": optim.RMSProp,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
}
OUTPUTS = ("decision_boundary.png", "history.png", "model.json", "backprop.html")  # demo writes


def demo(
    dataset: str = "circles",
    epochs: int = 300,
    seed: int = 0,
    out: str | os.PathLike[str] = "out",
    progress: bool = True,
    *,
    hidden: Sequence[int] | None = None,
    activation: str = "relu",
    optimizer: str = "adam",
    lr: float = 0.01,
    batch_size: int | None = None,
    max_nodes: int = 500,
) -> None:
    """Train a network on a toy dataset; write its decision boundary, history, model, player.
    hidden: the hidden layers' widths (default [4, 6, 6, 4], the article's network; [16, 16]
    for the spiral), with `activation`; optimizer: a name in OPTIMIZERS, with learning rate lr;
    batch_size: None for the full batch; max_nodes: the most boxes the player may draw. The
    output layer follows from the dataset. The folder `out` is made and tried, and the player
    sized, before training: nothing fails after the work is done."""
    from microgradx import plot  # needs matplotlib: imported here so `neuron` works without it

    make = DATASETS[checks.choice("dataset", dataset, DATASETS)]
    step = OPTIMIZERS[checks.choice("optimizer", optimizer, OPTIMIZERS)]
    checks.whole_number("max_nodes", max_nodes)
    out = _folder_to_write(out)
    X, y = make(seed)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=seed)
    X_fit, X_val, y_fit, y_val = data.train_test_split(X_train, y_train, test_size=0.2, seed=seed)
    classes = int(y.max()) + 1
    if classes == 2:  # the article's network: ReLU inside, a sigmoid for the probability
        widths = [4, 6, 6, 4] if hidden is None else list(hidden)
        model = nn.MLP(2, [*widths, 1], activation, output_activation="sigmoid", seed=seed)
        loss: Any = losses.binary_cross_entropy
    else:  # one score per class, turned into probabilities by cross-entropy's softmax
        widths = [16, 16] if hidden is None else list(hidden)
        model = nn.MLP(2, [*widths, classes], activation, seed=seed)
        loss = losses.cross_entropy
    try:  # the player's picture has the same boxes before training as after
        viz.to_dot(_example(model, loss, X_test[0], int(y_test[0])), collapse="neuron",
                   max_nodes=max_nodes)  # fmt: skip
    except ValueError:
        raise ValueError(
            f"backprop.html would draw {model} with more than max_nodes={max_nodes} boxes (one "
            "per neuron); use narrower hidden layers or raise max_nodes"
        ) from None
    stepper = step(model.parameters(), lr)
    batches = "full batch" if batch_size is None else f"batches of {batch_size}"
    print(
        f"Training {model} with {optimizer} (lr {lr:g}, {batches}) on {len(X_fit)} {dataset} "
        f"points ({len(X_val)} for validation, {len(X_test)} held out for testing)"
    )
    started = time.perf_counter()
    history = train.fit(
        model,
        X_fit,
        y_fit,
        loss=loss,
        optimizer=stepper,
        epochs=epochs,
        batch_size=batch_size,
        validation=(X_val, y_val),
        progress=progress,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    print(
        f"train accuracy {train.accuracy(model, X_fit, y_fit):.1%}, test accuracy "
        f"{train.accuracy(model, X_test, y_test):.1%} ({history.epochs} epochs in {seconds:.1f} s)"
    )

    figure = plot.decision_boundary(model, X_test, y_test).figure
    figure.axes[0].set_title(
        say(f"{dataset}: decision boundary on the test set", f"{dataset}：测试集上的决策边界")
    )
    _save_figure(figure, out / "decision_boundary.png")
    _save_figure(plot.history(history), out / "history.png")
    nn.save(model, out / "model.json")
    written = [out / name for name in OUTPUTS if name != "backprop.html"]  # (it comes next)
    try:
        player = out / "backprop.html"
        backprop_player(model, loss, X_test[0], int(y_test[0]), player, max_nodes)
        written.append(out / "backprop.html")
    except viz.DotNotFound as error:
        print(f"skipped backprop.html: {error}", file=sys.stderr)
    print(f"wrote {', '.join(map(str, written))}")
    print(
        f"Open {out / 'decision_boundary.png'} first: one picture of what the network learned, "
        "the class it predicts at every point, with the test points on top."
    )


def backprop_player(
    model: nn.MLP, loss: Any, x: Any, label: int, path: Path, max_nodes: int = 500
) -> None:
    """Write the step-by-step player of one example (x, label) through the trained model:
    forward then backward, a neuron per step, the loss as one box."""
    total = _example(model, loss, x, label)
    title = f"One test example (label {label}) through the trained {model}, forward then backward"
    viz.save_html(
        total, path, include_forward=True, title=title, collapse="neuron", max_nodes=max_nodes
    )


def _example(model: nn.MLP, loss: Any, x: Any, label: int) -> Value:
    """The loss of one example (x, label) through the model, labelled "loss"."""
    inputs = [Value(float(x[0]), label="x1"), Value(float(x[1]), label="x2")]
    total: Value = loss(model(inputs), label)
    total.label = "loss"
    return total


def _folder_to_write(out: str | os.PathLike[str]) -> Path:
    """out as a Path: the folder, made if missing, in which a file was just written, and
    where no folder has the name of a file the demo writes."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=os.path.realpath(out), prefix=".microgradx-"):
            pass
    except OSError as error:
        problem = f"demo cannot write in the folder {out} ({error.strerror or error})"
        raise OSError(error.errno, f"{problem}; give out= a folder you can write to") from None
    taken = [name for name in OUTPUTS if (out / name).is_dir()]
    if taken:
        raise IsADirectoryError(
            f"demo writes the file {taken[0]} in {out}, but {out / taken[0]} is a folder; "
            "move it away or give out= another folder"
        )
    return out


def neuron() -> None:
    """Print the neuron o = tanh(x1*w1 + x2*w2 + b): every node's value and do/d(node)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    total = x1w1 + x2w2
    total.label = "x1w1+x2w2"
    n = total + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()

    print("The neuron o = tanh(x1*w1 + x2*w2 + b), after o.backward():\n")
    print(f"  {'node':10} {'op':6} {'data':>9} {'grad = do/d(node)':>18}")
    for node in topological_order(o):
        print(f"  {node.label:10} {node.op or 'input':6} {node.data:9.4f} {node.grad:18.4f}")
    local = 1 - o.data**2
    print("\nRead it as the chain rule: do/dw1 = do/dn * dn/d(x1*w1) * d(x1*w1)/dw1")
    print("                               = (1 - o²) * 1 * x1")
    print(f"                               = {local:.4f} * 1 * {x1.data:.1f} = {w1.grad:.4f}")


def _save_figure(figure: Any, path: Path) -> None:
    """Save a figure atomically, then close it."""
    import matplotlib.pyplot as plt

    try:
        write_atomically(path, lambda temporary: figure.savefig(temporary, format="png", dpi=120))
    finally:
        plt.close(figure)
