"""The `microgradx` command. Thin: it parses arguments and calls the library."""

from __future__ import annotations

import argparse
import math
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from microgradx import Value, data, losses, nn, optim, train, viz
from microgradx.engine import topological_order
from microgradx.files import write_atomically

DATASETS = {
    "circles": lambda seed: data.make_circles(1000, noise=0.05, factor=0.5, seed=seed),
    "moons": lambda seed: data.make_moons(1000, noise=0.1, seed=seed),
    "xor": lambda seed: data.make_xor(1000, noise=0.05, seed=seed),
    "spiral": lambda seed: data.make_spiral(1200, n_classes=3, noise=0.02, seed=seed),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Bad arguments: one line saying what is wrong, and exit code 2."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(
        prog="microgradx", description="Learn how neural networks learn, one gradient at a time."
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    demo_parser = commands.add_parser("demo", help="train a small network and draw what it learned")
    demo_parser.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        default="circles",
        help="the toy dataset (default: circles)",
    )
    demo_parser.add_argument(
        "--epochs",
        type=_whole_number,
        default=300,
        help="passes over the training data (default: 300)",
    )
    demo_parser.add_argument(
        "--seed", type=int, default=0, help="seed for the data and the weights (default: 0)"
    )
    demo_parser.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="folder for the pictures and the model (default: out/)",
    )
    demo_parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    commands.add_parser("neuron", help="backpropagate through one neuron and print every gradient")
    graph_parser = commands.add_parser(
        "graph", help="draw the graph of a formula, or its backprop player"
    )
    graph_parser.add_argument(
        "expression",
        help='a formula such as "tanh(x*w + b)" (one that starts with - goes after --)',
    )
    graph_parser.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable's value (repeat for each)",
    )
    graph_parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the file to write: .dot .svg .png .pdf .html (the player) or .gif",
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "neuron":
        neuron()
        return 0
    if arguments.command == "graph":
        return graph(parser, arguments.expression, arguments.at, arguments.out)
    if arguments.out.exists() and not arguments.out.is_dir():
        parser.error(f"--out {arguments.out} is a file; give a folder")
    try:
        demo(
            arguments.dataset,
            arguments.epochs,
            arguments.seed,
            arguments.out,
            not arguments.no_progress,
        )
    except ImportError as error:
        print(f"microgradx demo: {error}", file=sys.stderr)
        return 1
    return 0


def demo(dataset: str, epochs: int, seed: int, out: Path, progress: bool = True) -> None:
    """The article's experiment: a 2 → 4 → 6 → 6 → 4 → 1 ReLU network with a sigmoid output,
    trained with Adam on binary cross-entropy; the spiral's three classes get three outputs
    and cross-entropy instead."""
    from microgradx import plot  # needs matplotlib: imported here so `neuron` works without it

    X, y = DATASETS[dataset](seed)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=seed)
    X_fit, X_val, y_fit, y_val = data.train_test_split(X_train, y_train, test_size=0.2, seed=seed)
    classes = int(y.max()) + 1
    if classes == 2:
        model = nn.MLP(2, [4, 6, 6, 4, 1], output_activation="sigmoid", seed=seed)
        loss: Any = losses.binary_cross_entropy
    else:
        model = nn.MLP(2, [16, 16, classes], seed=seed)
        loss = losses.cross_entropy
    print(
        f"Training {model} on {len(X_fit)} {dataset} points "
        f"({len(X_val)} for validation, {len(X_test)} held out for testing)"
    )
    started = time.perf_counter()
    history = train.fit(
        model,
        X_fit,
        y_fit,
        loss=loss,
        optimizer=optim.Adam(model.parameters(), lr=0.01),
        epochs=epochs,
        validation=(X_val, y_val),
        progress=progress,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    print(
        f"train accuracy {train.accuracy(model, X_fit, y_fit):.1%}, test accuracy "
        f"{train.accuracy(model, X_test, y_test):.1%} ({history.epochs} epochs in {seconds:.1f} s)"
    )

    out.mkdir(parents=True, exist_ok=True)
    figure = plot.decision_boundary(model, X_test, y_test).figure
    figure.axes[0].set_title(f"{dataset}: decision boundary on the test set")
    _save_figure(figure, out / "decision_boundary.png")
    _save_figure(plot.history(history), out / "history.png")
    nn.save(model, out / "model.json")
    written = [out / name for name in ("decision_boundary.png", "history.png", "model.json")]
    try:
        backprop_player(X_test[0], int(y_test[0]), classes, seed, out / "backprop.html")
        written.append(out / "backprop.html")
    except viz.DotNotFound as error:
        print(f"skipped backprop.html: {error}", file=sys.stderr)
    print(f"wrote {', '.join(map(str, written))}")


def backprop_player(x: Any, label: int, classes: int, seed: int, path: Path) -> None:
    """The step-by-step player for one example through a small network (2 → 2 → 1, or
    2 → 2 → classes with cross-entropy when there are more than two classes)."""
    outputs = 1 if classes == 2 else classes
    last = "sigmoid" if classes == 2 else "linear"
    small = nn.MLP(2, [2, outputs], activation="tanh", output_activation=last, seed=seed)
    inputs = [Value(float(x[0]), label="x1"), Value(float(x[1]), label="x2")]
    scores = small(inputs)
    if classes == 2:
        loss = losses.binary_cross_entropy(scores, label)
    else:
        loss = losses.cross_entropy(scores, label)  # type: ignore[arg-type]
    loss.label = "loss"
    title = f"Backpropagation: one example (label {label}) through {small}"
    viz.save_html(loss, path, title=title)


def graph(parser: _Parser, text: str, assignments: list[str], out: Path) -> int:
    """Build the formula's graph, run backward, and write the picture or the player.
    Mistakes in the formula, the numbers or --out exit with code 2 and one message."""
    from microgradx import viz
    from microgradx.expression import ExpressionError, build

    values: dict[str, float] = {}
    for assignment in assignments:
        name, _, number = assignment.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python reads identifiers
        if not name.isidentifier() or not _is_number(number):
            parser.error(f"--at takes NAME=NUMBER, such as --at x=2.5; got {assignment!r}")
        values[name] = float(number)
    if out.suffix not in GRAPH_FORMATS:
        parser.error(f"--out must end in one of {' '.join(GRAPH_FORMATS)}; got {out.name!r}")
    if not out.parent.is_dir() or out.is_dir():
        parser.error(
            f"--out {out}: {'is a folder' if out.is_dir() else 'its folder does not exist'}"
        )

    def fail(message: str, code: int = 2) -> int:
        print(f"microgradx graph: {message}", file=sys.stderr)
        return code

    try:
        root = build(text, values)
        root.label = root.label or "out"
        if out.suffix == ".html":
            viz.save_html(root, out, title=f"Backpropagation through {text}")
        elif out.suffix == ".gif":
            viz.save_gif(root, out)
        else:
            root.backward()
            source = viz.to_dot(root)
            content = (
                source.encode()
                if out.suffix == ".dot"
                else viz.scene.run_dot(source, out.suffix[1:])
            )
            write_atomically(out, lambda temporary: Path(temporary).write_bytes(content))
    except ExpressionError as error:
        return fail(error.pointed())
    except (RecursionError, MemoryError):
        return fail("the formula is nested too deeply to draw; split it into smaller parts")
    except (ArithmeticError, ValueError) as error:  # log(-1), sqrt'(0), too many nodes, ...
        return fail(str(error))
    except (viz.DotNotFound, ImportError) as error:
        return fail(str(error), code=1)
    print(f"wrote {out}")
    return 0


GRAPH_FORMATS = (".dot", ".svg", ".png", ".pdf", ".html", ".gif")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def neuron() -> None:
    """The neuron o = tanh(x1*w1 + x2*w2 + b): forward, backward, and every gradient."""
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


def _whole_number(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _save_figure(figure: Any, path: Path) -> None:
    """Save a figure atomically, then close it."""
    import matplotlib.pyplot as plt

    try:
        write_atomically(path, lambda temporary: figure.savefig(temporary, format="png", dpi=120))
    finally:
        plt.close(figure)


if __name__ == "__main__":
    sys.exit(main())
