"""The `microgradx` command. Thin: it parses arguments and calls the library."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
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
            self.exit(2, f"{self.prog}: {_one_line(message)}last, after --: {_one_line(fixed)}\n")
        self.exit(2, f"{self.prog}: {_one_line(message)} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line argv; return the exit code: 0 done, 1 failed, 2 bad input."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print("microgradx: interrupted", file=sys.stderr)
        return 130


def _run(argv: list[str]) -> int:
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
        "--seed",
        type=_seed,
        default=0,
        help="seed for the data and the weights, a whole number >= 0 (default: 0)",
    )
    demo_parser.add_argument(
        "--out",
        type=_path,
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
    max_nodes_help = "the most boxes a picture may draw (default: 500)"
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
    demo_parser.add_argument(
        "--max-nodes", type=_whole_number, default=500, help=f"backprop.html: {max_nodes_help}"
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
        type=_path,
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
    graph_parser.add_argument("--max-nodes", type=_whole_number, default=500, help=max_nodes_help)
    graph_parser.formula_among = argv[argv.index("graph") + 1 :] if "graph" in argv else ()
    options = [a.split("=")[0] for a in argv[: _end_of_options(argv)] if a.startswith("--")]
    twice = [o for o in dict.fromkeys(options) if options.count(o) > 1 and o != "--at"]
    if twice:  # argparse would keep the last silently (--at is checked per variable)
        parser.error(f"{twice[0]} is given twice; give it once")
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
            arguments.max_nodes,
        )
    unwritable = _unwritable(arguments.out, make=True)  # before training, not after
    if unwritable:
        fix = "give a folder you can write to"
        demo_parser.error(f"--out {_shown(arguments.out)} {unwritable}; {fix}")
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
            max_nodes=arguments.max_nodes,
        )
    except ValueError as error:  # found before training: backprop.html would be too large
        demo_parser.error(_max_nodes_option(str(error)))
    except IsADirectoryError as error:  # found before training: a folder where a file goes
        demo_parser.error(str(error).replace("out=", "--out "))
    except OSError as error:  # the disk filled up
        where, why = _shown(error.filename or arguments.out), error.strerror or error
        print(f"microgradx demo: could not write {where}: {_one_line(str(why))}", file=sys.stderr)
        return 1
    except (ImportError, ArithmeticError) as error:  # no matplotlib; training diverged
        said = str(error).split("; the History so far")[0]  # (error.history: for Python users)
        print(f"microgradx demo: {_one_line(said)}", file=sys.stderr)
        return 1
    return 0


def graph(
    parser: _Parser,
    text: str,
    assignments: list[str],
    out: Path,
    forward: bool = False,
    color: str | None = None,
    max_nodes: int = 500,
) -> int:
    """Build the formula's graph, run backward, and write the picture or the player.
    Mistakes in the formula, the numbers or --out exit with code 2 and one message.
    forward: the player or GIF shows the forward pass first; color: a still picture's fills;
    max_nodes: the most boxes the picture may draw."""
    from microgradx.expression import ExpressionError, build

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 reach Python as lone surrogates
        parser.error(
            f"the formula {_shown(text)} holds bytes that are not valid UTF-8 text "
            "(pasted from another encoding?); type it again"
        )
    values: dict[str, float] = {}
    for assignment in assignments:
        name, _, number = assignment.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python reads identifiers
        if not name.isidentifier() or not _is_number(number):
            parser.error(f"--at takes NAME=NUMBER, such as --at x=2.5; got {_shown(assignment)}")
        if name in values:
            parser.error(
                f"--at {_shown(name)} is given twice ({values[name]:g} and {float(number):g}); "
                "give each variable once"
            )
        values[name] = float(number)
    if out.suffix not in viz.FORMATS:
        parser.error(f"--out must end in one of {' '.join(viz.FORMATS)}; got {_shown(out.name)}")
    unwritable = "is a folder; give a file name inside it" if _is_dir(out) else None
    unwritable = unwritable or _unwritable(out.parent, name=out.name)
    if unwritable:
        parser.error(f"--out {_shown(out)}: {'' if _is_dir(out) else 'its folder '}{unwritable}")
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
            title = f"{passes} through {text}"
            viz.save(root, out, include_forward=forward, title=title, max_nodes=max_nodes)
        elif out.suffix == ".gif":
            viz.save(root, out, include_forward=forward, max_nodes=max_nodes)
        else:  # a still picture shows the gradients that backward() leaves on the nodes
            root.backward()
            viz.save(root, out, color=color, max_nodes=max_nodes)
    except ExpressionError as error:
        return fail(error.pointed())
    except (ArithmeticError, ValueError) as error:  # log(-1), sqrt'(0), too many nodes, ...
        return fail(_max_nodes_option(_one_line(str(error))))
    except (viz.DotNotFound, ImportError) as error:
        return fail(_one_line(str(error)), code=1)
    except OSError as error:  # the disk filled up, the folder went away
        return fail(f"could not write {_shown(out)}: {_one_line(str(error.strerror or error))}", 1)
    print(f"wrote {out}")
    return 0


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _whole_number(text: str, least: int = 1) -> int:
    """A whole number written in digits 0-9 (not ², not 1e3), from least to 10**18 - 1."""
    if not re.fullmatch(r"[0-9]{1,18}", text) or int(text) < least:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= {least} (below 10**18), such as {least + 5}; "
            f"got {_shown(text)}"
        )
    return int(text)


def _seed(text: str) -> int:
    return _whole_number(text, least=0)


def _path(text: str) -> Path:
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"a path cannot hold a NUL character; got {_shown(text)}")
    return Path(text)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long: not a folder, and _unwritable says why
        return False


def _unwritable(folder: Path, make: bool = False, name: str = "microgradx") -> str | None:
    """Why no file can be written in folder (made first, if make and it is missing), in a few
    words, or None when one can: tried by writing one, named as the file `name` is while it is
    written (the permission bits do not tell root about a read-only file system, /proc, /sys),
    in the folder as the OS finds it (tempfile would take `missing/..` away, the OS needs it)."""
    try:
        if make:
            folder.mkdir(parents=True, exist_ok=True)
        where = os.path.realpath(folder, strict=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=f".{name}.", suffix=".tmp"):
            return None
    except FileExistsError:
        return "is a file, not a folder"
    except OSError as error:
        missing = isinstance(error, FileNotFoundError) and not make
        how = "does not exist" if missing else "cannot be written"
        return f"{how} ({error.strerror or error})"


def _end_of_options(argv: list[str]) -> int:
    """Where the options end: at "--" (a formula after it may start with --), else the end."""
    return argv.index("--") if "--" in argv else len(argv)


def _max_nodes_option(message: str) -> str:
    """The library's advice to raise max_nodes, as the command line takes it."""
    return message.replace("max_nodes=", "--max-nodes ").replace("max_nodes", "--max-nodes")


def _one_line(text: str, most: int = 600) -> str:
    """text with its line breaks and other control characters written as escapes; a long one
    (which quotes a long argument) without its middle."""
    if len(text) > most:
        text = f"{text[: most // 2]} ... {text[-most // 2 :]}"
    return "".join(
        repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
    )


def _shown(text: object, most: int = 80) -> str:
    """What the user typed, quoted in a message: on one line, a long one shortened."""
    shown = repr(str(text))
    return shown if len(shown) <= most else f"{shown[: most - 4]}...{shown[-1]}"


def _positive_number(text: str) -> float:
    if not _is_number(text) or float(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, such as 0.01; got {_shown(text)}")
    return float(text)


def _widths(text: str) -> list[int]:
    """Layer widths written 4,6,6,4 (spaces allowed); an empty text for no hidden layer."""
    widths = [width.strip() for width in text.split(",")] if text.strip() else []
    if not all(re.fullmatch(r"[0-9]{1,4}", width) and 1 <= int(width) <= 1000 for width in widths):
        raise argparse.ArgumentTypeError(
            "expected widths such as 4,6,6,4 (whole numbers from 1 to 1000, comma-separated); "
            f"got {_shown(text)}"
        )
    return [int(width) for width in widths]


def _dash_formula(arguments: Sequence[str], options: Mapping[str, argparse.Action]) -> str | None:
    """The first argument (before any --) that starts with - and is neither an option of the
    command nor shaped like one (--name): a formula such as -x*2, which argparse took for one.
    A negative number after an option that takes a value is that value (--max-nodes -1)."""
    for before, argument in zip(["", *arguments], arguments):
        if argument == "--":
            return None
        taken = before in options and options[before].nargs != 0
        if (
            argument.startswith("-")
            and not (taken and re.fullmatch(r"-\d+|-\d*\.\d+", argument))
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
