"""The `microgradx` command and the formula parser against a hostile or careless user.

Every bad input ends with exit code 2 (1 for a failure at run time) and a one-line message
on stderr that names the option and the fix; never a traceback, never work thrown away.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from microgradx import Value, examples, nn, viz
from microgradx.cli import main
from microgradx.expression import ExpressionError, build


class Trained(Exception):
    """Raised by a stand-in for train.fit: training started (too late to refuse the input)."""


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def fit(*arguments: Any, **options: Any) -> None:
        raise Trained

    monkeypatch.setattr(examples, "train", SimpleNamespace(fit=fit))  # the demo's train only


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where, as on a read-only file system, nothing can be made, even by root (who
    passes every permission check, so chmod cannot stand in for it)."""
    root = tmp_path / "read-only"
    root.mkdir()
    real_open, real_mkdir = os.open, os.mkdir
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def refused(path: Any) -> bool:
        return Path(os.fsdecode(path)).absolute().is_relative_to(root)

    def open_(path: Any, flags: int, *arguments: Any, **options: Any) -> int:
        if flags & writes and refused(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *arguments, **options)

    def mkdir(path: Any, *arguments: Any, **options: Any) -> None:
        if refused(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        real_mkdir(path, *arguments, **options)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    return root


def exit_code(argv: list[str]) -> int:
    """main(argv)'s exit code, whether it returns it or exits with it (argparse)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1


def one_line(error: str) -> str:
    """The message on stderr, checked to be one line and no traceback."""
    assert "Traceback" not in error
    lines = error.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("microgradx"), error
    return lines[0]


def told(argv: list[str], code: int, capsys: pytest.CaptureFixture[str]) -> str:
    assert exit_code(argv) == code
    return one_line(capsys.readouterr().err)


@contextlib.contextmanager
def run_in_a_new_folder() -> Iterator[io.StringIO]:
    """For Hypothesis (function-scoped fixtures do not reset between its examples): run in a
    new empty folder, printing nowhere; yields what was written to stderr."""
    stderr = io.StringIO()
    with (
        tempfile.TemporaryDirectory() as folder,
        contextlib.chdir(folder),
        contextlib.redirect_stderr(stderr),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        yield stderr


# --out on places that cannot be written


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and /sys: Linux")
@pytest.mark.parametrize(
    "argv, complaint",
    [
        (["demo", "--out", "/proc/microgradx-out"], "--out '/proc/microgradx-out' cannot be"),
        (["demo", "--out", "/sys/microgradx-out"], "--out '/sys/microgradx-out' cannot be"),
        (["graph", "x", "--at", "x=1", "--out", "/proc/g.dot"], "its folder does not exist"),
        (["graph", "x", "--at", "x=1", "--out", "/sys/g.dot"], "its folder cannot be written"),
        (["demo", "--seed", "-1"], "--seed: expected a whole number >= 0"),
        (["demo", "--epochs", "²"], "--epochs: expected a whole number >= 1"),
        (["graph", "1if x else 2", "--at", "x=1", "--out", "/proc/g.dot"], "folder does not"),
    ],
)
def test_the_command_as_run_from_a_shell(argv: list[str], complaint: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "microgradx", *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "Training" not in done.stdout
    assert complaint in one_line(done.stderr) and "Warning" not in done.stderr


def test_demo_on_a_read_only_file_system_stops_before_training(
    read_only: Path, no_training: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for out in (read_only, read_only / "new" / "folder"):
        message = told(["demo", "--out", str(out)], 2, capsys)
        assert "cannot be written (Read-only file system); give a folder you can" in message


def test_graph_on_a_read_only_file_system(
    read_only: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = read_only / "g.dot"
    message = told(["graph", "x*2", "--at", "x=1", "--out", str(out)], 2, capsys)
    assert "its folder cannot be written (Read-only file system)" in message
    assert not out.exists()


def test_the_library_demo_also_tries_its_folder_before_training(
    read_only: Path, no_training: None
) -> None:
    with pytest.raises(OSError, match=r"demo cannot write in the folder .*Read-only") as error:
        examples.demo(epochs=1, out=read_only / "out", progress=False)
    assert error.value.errno == errno.EROFS


def test_a_demo_that_cannot_save_after_training_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(*arguments: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "model.json"))

    monkeypatch.setattr(nn, "save", full)
    argv = ["demo", "--epochs", "1", "--no-progress", "--out", str(tmp_path)]
    assert "No space left on device" in told(argv, 1, capsys)


def test_graph_that_cannot_write_its_file_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(*arguments: Any, **options: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(viz, "save", full)
    message = told(["graph", "x", "--at", "x=1", "--out", str(tmp_path / "g.dot")], 1, capsys)
    assert "could not write" in message and "No space left on device" in message


@pytest.mark.parametrize(
    "out, complaint",
    [
        ("a" * 5000, "cannot be written (File name too long)"),
        ("a\0b", "--out: a path cannot hold a NUL character"),
    ],
)
def test_impossible_paths(
    out: str, complaint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert complaint in told(["demo", "--out", out], 2, capsys)
    assert complaint in told(["graph", "x", "--at", "x=1", "--out", out + ".dot"], 2, capsys)


def test_ctrl_c_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*arguments: Any, **options: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(examples, "demo", interrupted)
    try:
        message = told(["demo", "--out", str(tmp_path)], 130, capsys)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C left main as a traceback")
    assert message == "microgradx: interrupted"


# --at given twice; --max-nodes


@settings(deadline=None, max_examples=50)
@given(
    name=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    first=st.floats(-1e6, 1e6),
    second=st.floats(-1e6, 1e6),
    wide=st.booleans(),
)
def test_a_variable_given_twice_is_refused_by_name(
    name: str, first: float, second: float, wide: bool
) -> None:
    assume(name not in ("if", "in", "is", "or", "as", "and", "def", "del", "for", "not", "try"))
    again = name.upper().lower() if not wide else "".join(chr(ord(c) + 0xFEE0) for c in name)
    argv = ["graph", f"{name}*2", "--at", f"{name}={first!r}", "--at", f"{again}={second!r}"]
    with run_in_a_new_folder() as stderr:
        assert exit_code([*argv, "--out", "g.dot"]) == 2
        assert not Path("g.dot").exists()
    message = one_line(stderr.getvalue())
    assert f"--at '{name}' is given twice" in message and "give each variable once" in message


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf", "1.5", "1e3", "²", "", "9" * 30])
def test_max_nodes_is_a_whole_number(
    bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "g.dot")
    assert "--max-nodes: expected a whole number >= 1" in told(
        ["graph", "x", "--at", "x=1", "--out", out, "--max-nodes", bad], 2, capsys
    )
    assert "--max-nodes: expected" in told(["demo", "--max-nodes", bad], 2, capsys)


def test_max_nodes_is_the_fix_the_advice_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g.dot"
    argv = ["graph", "+".join(["x"] * 300), "--at", "x=1", "--out", str(out)]
    message = told(argv, 2, capsys)
    assert "more than --max-nodes 500" in message and "raise --max-nodes" in message
    assert "max_nodes" not in message  # the library's keyword, which the command does not take
    assert exit_code([*argv, "--max-nodes", "1000"]) == 0 and out.exists()
    assert "--max-nodes 2;" in told([argv[0], "x+x", *argv[2:], "--max-nodes", "2"], 2, capsys)


def test_the_demo_sizes_its_player_before_training(
    tmp_path: Path, no_training: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["demo", "--hidden", "300,300", "--out", str(tmp_path)]
    message = told(argv, 2, capsys)
    assert "backprop.html would draw MLP(2 → [300, 300] → 1" in message
    assert "use narrower hidden layers or raise --max-nodes" in message
    with pytest.raises(Trained):  # room for 600 neurons: training starts
        main([*argv, "--max-nodes", "700"])


@pytest.mark.parametrize("bad", [math.nan, math.inf, 0, -1, 2.5, True, "9", None])
def test_the_library_refuses_a_max_nodes_that_is_not_a_whole_number(
    bad: Any, tmp_path: Path
) -> None:
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    drawers = [
        lambda: viz.to_dot(y, max_nodes=bad),
        lambda: viz.save_html(y, tmp_path / "p.html", max_nodes=bad),
        lambda: viz.save_gif(y, tmp_path / "p.gif", max_nodes=bad),
        lambda: viz.player(y, max_nodes=bad),
    ]
    for draw in drawers:
        with pytest.raises(ValueError, match=r"max_nodes must be a whole number >= 1, got"):
            draw()
    assert list(tmp_path.iterdir()) == []


# The formula: clipped messages, deep nesting, no warnings


@settings(deadline=None, max_examples=30)
@given(before=st.integers(0, 10**6), name=st.integers(1, 10**6), after=st.integers(0, 10**6))
def test_error_messages_stay_short_and_point_at_the_fault(
    before: int, name: int, after: int
) -> None:
    missing = "y" + "z" * (name - 1)  # the only name without a value
    text = f"{'a' * before}{'*' if before else ''}{missing}{'+' if after else ''}{'b' * after}"
    with pytest.raises(ExpressionError) as error:
        build(text, {"a" * before: 1.0, "b" * after: 2.0})
    pointed = error.value.pointed()
    message, shown, carets = pointed.split("\n")
    assert len(pointed) < 400  # was 4 MB for a name of 1 MB
    assert missing[:20] in message and "has no value: add --at y" in message
    start = carets.index("^")  # the carets stand under the name, and only under it
    assert shown[start] == "y" and set(shown[start : start + carets.count("^")]) <= {"y", "z"}


@settings(deadline=None)
@given(text=st.text(max_size=300), start=st.integers(0, 400), length=st.integers(0, 400))
def test_a_pointed_message_is_three_short_lines(text: str, start: int, length: int) -> None:
    start = min(start, len(text))
    error = ExpressionError(f"a message about {text}", text, start, start + length)
    message, shown, carets = error.pointed().split("\n")
    assert message.startswith("a message about")  # on one line, whatever the text holds
    assert len(shown) <= 2 + 3 + 80 + 3 and len(carets) <= len(shown) + 1
    assert carets.strip() and set(carets.strip()) == {"^"}
    if len(text) <= 80 and text.isprintable():  # shown whole: the carets under the fault
        first = carets.index("^") - 2
        assert shown[2:] == text and first == start
        assert carets.count("^") == max(min(start + length, len(text)) - start, 1)


@pytest.mark.parametrize(
    "deep",
    [
        "+".join(["x"] * 5000),
        "**".join(["x"] * 5000),
        "-" * 50000 + "x",
        "tanh(" * 5000 + "x" + ")" * 5000,
        "(" * 5000 + "x" + ")" * 5000,
    ],
)
def test_a_formula_too_deep_is_an_expression_error(deep: str) -> None:
    with pytest.raises(ExpressionError, match=r"nested too deeply|too many nested") as error:
        build(deep, {"x": 1.0})
    assert len(error.value.pointed()) < 400


@settings(deadline=None, max_examples=40)
@given(depth=st.integers(1, 20000), op=st.sampled_from(["+", "*", "**", "-"]))
def test_nesting_builds_or_says_it_is_too_deep(depth: int, op: str) -> None:
    text = op.join(["x"] * depth) if op != "-" else "-" * depth + "x"
    try:
        root = build(text, {"x": 1.0})
    except ExpressionError as error:
        assert "nested too deeply" in str(error)
    except (ArithmeticError, ValueError) as error:  # x**x**...: a number too large, named
        assert "Value" not in type(error).__name__
    else:
        assert isinstance(root, Value)


@pytest.mark.parametrize("text", ["1if x else 2", "x*'\\d'", "0x1for x in y"])
def test_no_warning_leaks_from_the_parser(text: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError):
            build(text, {"x": 1.0})
    assert [str(w.message) for w in caught] == []


# Random command lines


OPTIONS = ["--dataset", "--epochs", "--seed", "--out", "--hidden", "--activation", "--optimizer",
           "--lr", "--batch-size", "--max-nodes", "--no-progress", "--at", "--forward", "--color",
           "--", "-h"]  # fmt: skip
WORDS = st.one_of(
    st.sampled_from(OPTIONS),
    st.sampled_from(["circles", "spiral", "adam", "relu", "grad", "1", "0", "-1", "1e9", "4,0",
                     "nan", "²", "x=1", "x=", "=1", "x=2", "y=nan", "\n", "a\nb", "é", ""]),
    st.text(max_size=12),
)  # fmt: skip
FORMULA = st.text(alphabet="xy+-*/()1.2e, tanhlogexp", max_size=20)


@settings(deadline=None, max_examples=300)
@given(words=st.lists(WORDS, max_size=8))
def test_random_demo_command_lines(words: list[str]) -> None:
    assume(all(".." not in word and not word.startswith("/") for word in words))
    with run_in_a_new_folder() as stderr, mock.patch.object(examples, "demo") as demo:
        code = exit_code(["demo", *words])
    error = stderr.getvalue()
    assert code in (0, 2), error
    if code == 2:
        one_line(error)
    else:
        assert demo.called or "-h" in words  # -h prints the help, and exits 0


@settings(deadline=None, max_examples=300)
@given(
    formula=FORMULA, words=st.lists(WORDS, max_size=6), suffix=st.sampled_from([".dot", ".txt", ""])
)
def test_random_graph_command_lines(formula: str, words: list[str], suffix: str) -> None:
    assume(all(".." not in word and not word.startswith("/") for word in words))
    with run_in_a_new_folder() as stderr:
        code = exit_code(["graph", formula, "--out", f"g{suffix}", *words])
    error = stderr.getvalue()
    assert code in (0, 2), error
    if code == 2:
        lines = error.rstrip("\n").split("\n")
        if len(lines) == 3:  # a formula's mistake: the message, the formula, a caret under it
            assert set(lines[2].strip()) == {"^"} and "Traceback" not in error
        else:
            one_line(error)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["demo", "--epochs", "3", "--epochs", "5"], "--epochs"),
        (["demo", "--seed=1", "--seed", "2"], "--seed"),
        (["graph", "x", "--at", "x=1", "--out", "a.svg", "--out", "b.svg"], "--out"),
    ],
)
def test_an_option_given_twice_is_refused_by_name(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    message = capsys.readouterr().err
    assert exit_.value.code == 2 and message.count("\n") == 1
    assert f"{option} is given twice; give it once" in message
