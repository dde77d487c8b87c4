"""The `microgradx` command. Thin: it parses arguments and calls the library."""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from microgradx import __version__, examples, viz


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Bad arguments: one line saying what is wrong, and exit code 2."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(
        prog="microgradx", description="Learn how neural networks learn, one gradient at a time."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    demo_parser = commands.add_parser("demo", help="train a small network and draw what it learned")
    demo_parser.add_argument(
        "--dataset",
        choices=sorted(examples.DATASETS),
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
    graph_parser.add_argument(
        "--forward",
        action="store_true",
        help="the player or GIF first computes every value, then backpropagates (.html .gif)",
    )
    graph_parser.add_argument(
        "--color",
        choices=[color for color in viz.COLORS if color is not None],
        help="fill boxes by gradient size (grad) or sign (sign), with a legend "
        "(.dot .svg .png .pdf)",
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "neuron":
        examples.neuron()
        return 0
    if arguments.command == "graph":
        return graph(
            parser,
            arguments.expression,
            arguments.at,
            arguments.out,
            arguments.forward,
            arguments.color,
        )
    if arguments.out.exists() and not arguments.out.is_dir():
        parser.error(f"--out {arguments.out} is a file; give a folder")
    try:
        examples.demo(
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


def graph(
    parser: _Parser,
    text: str,
    assignments: list[str],
    out: Path,
    forward: bool = False,
    color: str | None = None,
) -> int:
    """Build the formula's graph, run backward, and write the picture or the player.
    Mistakes in the formula, the numbers or --out exit with code 2 and one message.
    forward: the player or GIF shows the forward pass first; color: a still picture's fills."""
    from microgradx.expression import ExpressionError, build

    values: dict[str, float] = {}
    for assignment in assignments:
        name, _, number = assignment.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python reads identifiers
        if not name.isidentifier() or not _is_number(number):
            parser.error(f"--at takes NAME=NUMBER, such as --at x=2.5; got {assignment!r}")
        values[name] = float(number)
    if out.suffix not in viz.FORMATS:
        parser.error(f"--out must end in one of {' '.join(viz.FORMATS)}; got {out.name!r}")
    if not out.parent.is_dir() or out.is_dir():
        parser.error(
            f"--out {out}: {'is a folder' if out.is_dir() else 'its folder does not exist'}"
        )
    played = out.suffix in (".html", ".gif")  # steps, one after another; else one picture
    if forward and not played:
        parser.error(
            f"--forward needs steps to play: write .html or .gif, not {out.suffix} "
            "(a still picture shows every value and gradient at once)"
        )
    if color is not None and played:
        parser.error(
            f"--color colours a still picture: write .dot .svg .png or .pdf, not {out.suffix} "
            "(the player colours the step it is at)"
        )

    def fail(message: str, code: int = 2) -> int:
        print(f"microgradx graph: {message}", file=sys.stderr)
        return code

    try:
        root = build(text, values)
        root.label = root.label or "out"
        if out.suffix == ".html":
            passes = "Forward and backward passes" if forward else "Backpropagation"
            viz.save(root, out, include_forward=forward, title=f"{passes} through {text}")
        elif out.suffix == ".gif":
            viz.save(root, out, include_forward=forward)
        else:  # a still picture shows the gradients that backward() leaves on the nodes
            root.backward()
            viz.save(root, out, color=color)
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


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _whole_number(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
