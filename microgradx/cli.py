"""The `microgradx` command. Thin: it parses arguments and calls the library."""

from __future__ import annotations

import argparse
import math
import re
import sys
import unicodedata
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import NoReturn

from microgradx import __version__, examples, viz


class _Parser(argparse.ArgumentParser):
    # the graph command's arguments: a formula among them that starts with - reads as an option
    formula_among: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        """Bad arguments: one line saying what is wrong, and exit code 2."""
        formula = _dash_formula(self.formula_among, self._option_string_actions)
        if formula is not None:
            others = list(self.formula_among)
            others.remove(formula)
            fixed = " ".join([self.prog, *map(_quoted, others), "--", _quoted(formula)])
            message = f"the formula {formula!r} starts with -, so it reads as an option; put it "
            self.exit(2, f"{self.prog}: {message}last, after --: {fixed}\n")
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
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
    demo_parser.add_argument(
        "--hidden",
        type=_widths,
        metavar="4,6,6,4",
        help="the hidden layers' widths, comma-separated; '' for none (default: 4,6,6,4, "
        "and 16,16 for the spiral)",
    )
    demo_parser.add_argument(
        "--activation",
        choices=examples.ACTIVATIONS,
        default="relu",
        help="the hidden layers' activation (default: relu)",
    )
    demo_parser.add_argument(
        "--optimizer",
        choices=list(examples.OPTIMIZERS),
        default="adam",
        help="how to step downhill; momentum is SGD with momentum 0.9 (default: adam)",
    )
    demo_parser.add_argument(
        "--lr", type=_positive_number, default=0.01, help="the learning rate (default: 0.01)"
    )
    demo_parser.add_argument(
        "--batch-size",
        type=_whole_number,
        help="examples per optimizer step (default: all of them, the full batch)",
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
    graph_parser.formula_among = argv[argv.index("graph") + 1 :] if "graph" in argv else ()
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
            hidden=arguments.hidden,
            activation=arguments.activation,
            optimizer=arguments.optimizer,
            lr=arguments.lr,
            batch_size=arguments.batch_size,
        )
    except (ImportError, ArithmeticError) as error:  # no matplotlib; training diverged
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


def _positive_number(text: str) -> float:
    if not _is_number(text) or float(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, such as 0.01; got {text!r}")
    return float(text)


def _widths(text: str) -> list[int]:
    """Layer widths written 4,6,6,4 (spaces allowed); an empty text for no hidden layer."""
    widths = [width.strip() for width in text.split(",")] if text.strip() else []
    if not all(width.isdigit() and int(width) >= 1 for width in widths):
        raise argparse.ArgumentTypeError(
            f"expected widths such as 4,6,6,4 (whole numbers >= 1, comma-separated); got {text!r}"
        )
    return [int(width) for width in widths]


def _dash_formula(arguments: Sequence[str], options: Collection[str]) -> str | None:
    """The first argument (before any --) that starts with - and is neither an option of the
    command nor shaped like one (--name): a formula such as -x*2, which argparse took for one."""
    for argument in arguments:
        if argument == "--":
            return None
        if (
            argument.startswith("-")
            and argument.partition("=")[0] not in options
            and not re.fullmatch(r"--[A-Za-z][\w-]*(=.*)?", argument)
        ):
            return argument
    return None


def _quoted(argument: str) -> str:
    """An argument as a shell command line needs it: bare when plain, else in double quotes."""
    return argument if re.fullmatch(r"[\w./=:,+-]+", argument) else f'"{argument}"'


if __name__ == "__main__":
    sys.exit(main())
