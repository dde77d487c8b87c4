"""The `microgradx` command as a user runs it."""

from __future__ import annotations

import ast
import errno
import inspect
import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import need

from microgradx import cli, data, examples, losses, nn, optim, train
from microgradx.cli import main
from microgradx.testing import numerical_grad


def test_neuron_prints_every_gradient_of_the_neuron(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["neuron"]) == 0
    table = {}
    for line in capsys.readouterr().out.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] in ("x1", "x2", "w1", "w2", "b", "o"):
            table[words[0]] = (float(words[2]), float(words[3]))

    def neuron(x1: float, x2: float, w1: float, w2: float, b: float) -> float:
        return math.tanh(x1 * w1 + x2 * w2 + b)

    point = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    slopes = numerical_grad(neuron, *point.values())
    for (name, value), slope in zip(point.items(), slopes):
        assert table[name] == (pytest.approx(value, abs=1e-4), pytest.approx(slope, abs=1e-4))
    assert table["o"][0] == pytest.approx(neuron(*point.values()), abs=1e-4)


def test_the_neuron_lesson_agrees_with_the_chain_rule_by_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    examples.neuron()
    printed = capsys.readouterr().out
    rows = {}
    for line in printed.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] != "node":
            rows[words[0]] = (words[1], float(words[2]), float(words[3]))
    x1, x2, w1, w2, b = 2.0, 0.0, -3.0, 1.0, 6.8813735870195432
    n = x1 * w1 + x2 * w2 + b
    o = math.tanh(n)
    do_dn = 1 - o**2  # d tanh(n)/dn; n's sums pass it on unchanged, each product swaps factors
    expected = {
        "o": ("tanh", o, 1.0),
        "n": ("+", n, do_dn),
        "b": ("input", b, do_dn),
        "x1w1+x2w2": ("+", x1 * w1 + x2 * w2, do_dn),
        "x1*w1": ("*", x1 * w1, do_dn),
        "x2*w2": ("*", x2 * w2, do_dn),
        "x1": ("input", x1, do_dn * w1),
        "w1": ("input", w1, do_dn * x1),
        "x2": ("input", x2, do_dn * w2),
        "w2": ("input", w2, do_dn * x2),
    }
    assert rows.keys() == expected.keys()
    for name, (op, value, gradient) in expected.items():
        assert rows[name] == (op, pytest.approx(value, abs=5e-5), pytest.approx(gradient, abs=5e-5))
    assert printed.rstrip().endswith(f"= {do_dn:.4f} * 1 * {x1:.1f} = {do_dn * x1:.4f}")
    assert main(["neuron"]) == 0 and capsys.readouterr().out == printed  # the CLI only calls it


def test_the_demo_takes_plain_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need("dot")  # for backprop.html
    out = tmp_path / "new" / "folder"
    examples.demo("xor", epochs=2, seed=1, out=str(out), progress=False)
    assert sorted(p.name for p in out.iterdir()) == [
        "backprop.html",
        "decision_boundary.png",
        "history.png",
        "model.json",
    ]
    assert capsys.readouterr().out.startswith("Training MLP(2 → [4, 6, 6, 4] → 1, 117 parameters)")
    with pytest.raises(ValueError, match="dataset must be one of circles, moons, xor, spiral"):
        examples.demo("mnist", out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_the_command_line_calls_only_the_public_library() -> None:
    tree = ast.parse(inspect.getsource(cli))
    imported = {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("microgradx")
        for alias in node.names
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("microgradx")
    }
    assert imported == {
        "microgradx.__version__",
        "microgradx.examples",
        "microgradx.viz",
        "microgradx.expression.ExpressionError",
        "microgradx.expression.build",
    }
    used = {
        f"{node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("viz", "examples")
    }
    assert used == {
        "examples.ACTIVATIONS",
        "examples.DATASETS",
        "examples.OPTIMIZERS",
        "examples.demo",
        "examples.neuron",
        "viz.COLORS",
        "viz.DotNotFound",
        "viz.FORMATS",
        "viz.save",
    }


def test_demo_trains_and_writes_its_pictures_and_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--epochs", "300", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    test_accuracy = float(printed.split("test accuracy ")[1].split("%")[0]) / 100
    assert test_accuracy >= 0.98
    for name in ("decision_boundary.png", "history.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "backprop.html",
        "decision_boundary.png",
        "history.png",
        "model.json",
    ]  # no temporary files left behind
    assert "One test example" in (tmp_path / "backprop.html").read_text()
    model = nn.load(tmp_path / "model.json")
    X, y = data.make_circles(1000, noise=0.05, factor=0.5, seed=0)
    _, X_test, _, y_test = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert train.accuracy(model, X_test, y_test) == pytest.approx(test_accuracy, abs=0.001)


@pytest.mark.parametrize("dataset", ["moons", "xor", "spiral"])
def test_demo_runs_on_every_dataset(
    dataset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--dataset", dataset, "--epochs", "20", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 20/20" in printed  # not a terminal: plain progress lines
    document = json.loads((tmp_path / "model.json").read_text())
    assert document["architecture"]["nouts"][-1] == (3 if dataset == "spiral" else 1)


@pytest.mark.parametrize(
    "arguments, complaint",
    [
        (["demo", "--epochs", "0"], "whole number >= 1"),
        (["demo", "--epochs", "ten"], "whole number >= 1"),
        (["demo", "--dataset", "mnist"], "invalid choice"),
        (["demo", "--seed", "x"], "--seed: expected a whole number >= 0"),
        (["demo", "--seed", "-1"], "--seed: expected a whole number >= 0"),
        (["demo", "--epochs", "²"], "--epochs: expected a whole number >= 1"),
        (["demo", "--hidden", "4,1001"], "from 1 to 1000"),
        (["demo", "--hidden", "4,,6"], "--hidden: expected widths such as 4,6,6,4"),
        (["demo", "--hidden", "4,0"], "whole numbers from 1 to 1000, comma-separated); got '4,0'"),
        (["demo", "--hidden", "four"], "expected widths such as 4,6,6,4"),
        (["demo", "--hidden"], "expected one argument"),
        (["demo", "--activation", "swish"], "invalid choice: 'swish' (choose from 'linear'"),
        (["demo", "--optimizer", "lbfgs"], "(choose from 'sgd', 'momentum', 'adagrad', 'rms"),
        (["demo", "--lr", "0"], "--lr: expected a number > 0, such as 0.01; got '0'"),
        (["demo", "--lr", "-1"], "expected a number > 0"),
        (["demo", "--lr", "nan"], "expected a number > 0"),
        (["demo", "--lr", "1e400"], "expected a number > 0"),
        (["demo", "--lr", "fast"], "expected a number > 0"),
        (["demo", "--batch-size", "0"], "--batch-size: expected a whole number >= 1"),
        (["demo", "--batch-size", "2.5"], "expected a whole number >= 1"),
        (["train-everything"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    arguments: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip()
    assert complaint in error and len(error.splitlines()) == 1


def test_out_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--out", str(target)])
    assert exit_.value.code == 2 and "is a file" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_a_diverging_demo_says_so_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--lr", "1e308", "--epochs", "3", "--out", str(out), "--no-progress"]) == 1
    said = capsys.readouterr().err
    assert said.startswith("microgradx demo: try a smaller learning rate (now lr=1e+308)")
    assert said.count("\n") == 1 and "Traceback" not in said and "error.history" not in said
    assert "the model is back at its last weights with a finite loss" in said
    assert not any(path.is_file() for path in out.rglob("*"))


def test_demo_without_matplotlib_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [m for m in sys.modules if m.startswith(("matplotlib", "microgradx.plot"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["demo", "--epochs", "1", "--out", str(tmp_path), "--no-progress"]) == 1
    assert "pip install 'microgradx[plot]'" in capsys.readouterr().err


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "microgradx", "neuron"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "do/dw1" in done.stdout
    assert np.isfinite(float(done.stdout.split("= ")[-1]))


@pytest.mark.parametrize(
    "suffix, magic",
    [
        (".dot", b"digraph"),
        (".svg", b"<?xml"),
        (".png", b"\x89PNG"),
        (".pdf", b"%PDF"),
        (".html", b"<!DOCTYPE html>"),
        (".gif", b"GIF8"),
    ],
)
def test_graph_writes_every_format(suffix: str, magic: bytes, tmp_path: Path) -> None:
    if suffix != ".dot":
        need("dot")
    out = tmp_path / f"neuron{suffix}"
    code = main(
        [
            "graph",
            "tanh(x*w + b)",
            "--at",
            "x=2",
            "--at",
            "w=-3",
            "--at",
            "b=6.88",
            "--out",
            str(out),
        ]
    )
    assert code == 0 and out.read_bytes().startswith(magic)
    if suffix == ".dot":
        text = out.read_text()
        assert "{x|data 2.000|grad" in text and 'label="tanh"' in text and "{out|" in text


def test_graph_shares_a_variable_used_twice(tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    assert (
        main(
            [
                "graph",
                "x*x + 2**x - leaky_relu(-x, 0.1) + abs(x)/sqrt(x)",
                "--at",
                "x=2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text()
    assert text.count("{x|") == 1 and "leaky_relu(0.1)" in text


@pytest.mark.parametrize(
    "expression, complaint, pointed",
    [
        (
            "__import__('os').system('echo owned')",
            "only these functions",
            "__import__('os').system",
        ),
        ("x.__class__", "attribute access", "x.__class__"),
        ("(lambda: x)()", "only these functions", "lambda: x"),
        ("x[0]", "indexing", "x[0]"),
        ("'a' + x", "not a number", "'a'"),
        ("x if x else x", "IfExp", "x if x else x"),
        ("open('/etc/passwd')", "only these functions", "open"),
        ("exp(x, x)", "one argument", "exp(x, x)"),
        ("tanh(x=1)", "one argument", "tanh(x=1)"),
        ("y * x", "y has no value: add --at y=NUMBER", "y"),
        ("x +", "not a formula", ""),
        ("2 * 3", "no variable", "2 * 3"),
    ],
)
def test_graph_refuses_what_is_not_a_formula(
    expression: str,
    complaint: str,
    pointed: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "g.dot"
    assert main(["graph", expression, "--at", "x=2", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    message, shown, carets = error.rstrip("\n").split("\n")
    assert complaint in message and "Traceback" not in error
    assert shown.strip() == expression.strip()
    start = carets.index("^")
    assert shown[start : start + carets.count("^")] == pointed or not pointed
    assert not out.exists()


@pytest.mark.parametrize(
    "arguments, complaint",
    [
        (["--at", "x=abc"], "NAME=NUMBER"),
        (["--at", "2x=1"], "NAME=NUMBER"),
        (["--at", "x=inf"], "NAME=NUMBER"),
        (["--at", "x=1", "--out-format"], "unrecognized"),
    ],
)
def test_graph_bad_arguments(
    arguments: list[str], complaint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["graph", "x", "--out", str(tmp_path / "g.dot"), *arguments])
    assert exit_.value.code == 2 and complaint in capsys.readouterr().err


def test_graph_names_a_domain_error_and_an_unknown_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", "log(x)", "--at", "x=-1", "--out", str(tmp_path / "g.dot")]) == 2
    assert "log got -1.0 as its input, from 'x'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["graph", "x", "--at", "x=1", "--out", str(tmp_path / "g.txt")])
    assert ".dot .svg .png .pdf .html .gif" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments, complaint",
    [
        (["sqrt(x)", "--at", "x=0"], "backward through sqrt"),
        (["+".join(["x"] * 300), "--at", "x=1"], "--max-nodes 500; draw a smaller"),
        (["+".join(["x"] * 3000), "--at", "x=1"], "nested too deeply"),
        (["x*10**400", "--at", "x=1"], "not a finite number"),
        (["x*1e400", "--at", "x=1"], "too large for a float"),
        (["x*(1e308*10)", "--at", "x=1"], "not a finite number"),  # every folded constant
        (["x+(1e308*10-1e308*10)", "--at", "x=1"], "not a finite number"),
        (["leaky_relu(x, 1e308*10)", "--at", "x=1"], "not a finite number"),
    ],
)
def test_graph_explains_every_failure_without_a_traceback(
    arguments: list[str], complaint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", *arguments, "--out", str(tmp_path / "g.dot")]) == 2
    error = capsys.readouterr().err
    assert complaint in error and "Traceback" not in error
    assert not (tmp_path / "g.dot").exists()


def test_graph_out_in_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["graph", "x", "--at", "x=1", "--out", str(tmp_path / "nowhere" / "g.dot")])
    assert exit_.value.code == 2 and "folder does not exist" in capsys.readouterr().err


def test_graph_points_at_characters_and_reads_names_as_python_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["graph", "é*x + y", "--at", "x=1", "--at", "é=2", "--out", str(tmp_path / "g.dot")])
        == 2
    )
    _, shown, carets = capsys.readouterr().err.rstrip("\n").split("\n")
    assert shown[carets.index("^")] == "y"
    assert main(["graph", "ｘ*2", "--at", "ｘ=2", "--out", str(tmp_path / "g.dot")]) == 0


def neuron_graph(out: Path, *options: str) -> list[str]:
    return ["graph", "tanh(x*w + b)", "--at", "x=2", "--at", "w=-3", "--at", "b=6.88",
            "--out", str(out), *options]  # fmt: skip


def test_graph_forward_plays_the_forward_pass_before_backprop(tmp_path: Path) -> None:
    need("dot")
    out = tmp_path / "both.html"
    assert main(neuron_graph(out, "--forward")) == 0
    page = out.read_text()
    kinds = re.findall(r'"kind": "(\w+)"', page)
    seed = kinds.index("seed")
    assert seed == 6 and kinds[:seed] == ["forward"] * 6  # x, w, b, x*w, + b, tanh; then back
    assert "forward" not in kinds[seed:]
    assert "Forward and backward passes through tanh(x*w + b)" in page
    assert main(neuron_graph(tmp_path / "back.html")) == 0
    assert "forward" not in re.findall(r'"kind": "(\w+)"', (tmp_path / "back.html").read_text())


def test_graph_forward_makes_a_longer_gif(tmp_path: Path) -> None:
    need("dot")
    pytest.importorskip("PIL")
    from PIL import Image

    assert main(neuron_graph(tmp_path / "back.gif")) == 0
    assert main(neuron_graph(tmp_path / "both.gif", "--forward")) == 0
    with Image.open(tmp_path / "back.gif") as back, Image.open(tmp_path / "both.gif") as both:
        assert both.n_frames == back.n_frames + 6  # a frame per value computed


@pytest.mark.parametrize(
    "suffix, options, complaint",
    [
        (".svg", ["--forward"], "--forward needs steps to play: write .html or .gif, not .svg"),
        (".dot", ["--forward"], "--forward needs steps to play: write .html or .gif, not .dot"),
        (".png", ["--forward", "--color", "grad"], "--forward needs steps to play"),
        (".html", ["--color", "sign"], "--color colours a still picture"),
        (".gif", ["--color", "grad", "--forward"], "--color colours a still picture"),
        (".svg", ["--color", "blue"], "invalid choice: 'blue' (choose from 'grad', 'sign')"),
        (".svg", ["--color"], "expected one argument"),
    ],
)
def test_graph_refuses_options_its_output_cannot_show(
    suffix: str,
    options: list[str],
    complaint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / f"g{suffix}"
    with pytest.raises(SystemExit) as exit_:
        main(neuron_graph(out, *options))
    error = capsys.readouterr().err
    assert exit_.value.code == 2 and complaint in error and len(error.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("color", ["grad", "sign"])
def test_graph_color_fills_the_boxes_and_draws_a_legend(color: str, tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    assert main(neuron_graph(out, "--color", color)) == 0
    text = out.read_text()
    assert "label=<" in text and ("grad &lt; 0" in text) == (color == "sign")
    fills = set(re.findall(r'fillcolor="(#[0-9a-f]{6})"[^\]]*shape=record', text))
    assert len(fills) > 2  # a scale, not one colour
    assert main(neuron_graph(tmp_path / "plain.dot")) == 0
    assert "label=<" not in (tmp_path / "plain.dot").read_text()


def old_demo(dataset: str, epochs: int, seed: int) -> nn.MLP:
    """The demo as it was before it took options: the model it trained, retrained here."""
    X, y = examples.DATASETS[dataset](seed)
    X_train, _, y_train, _ = data.train_test_split(X, y, test_size=0.25, seed=seed)
    X_fit, X_val, y_fit, y_val = data.train_test_split(X_train, y_train, test_size=0.2, seed=seed)
    if dataset == "spiral":
        model = nn.MLP(2, [16, 16, 3], seed=seed)
        loss: Any = losses.cross_entropy
    else:
        model = nn.MLP(2, [4, 6, 6, 4, 1], output_activation="sigmoid", seed=seed)
        loss = losses.binary_cross_entropy
    train.fit(model, X_fit, y_fit, loss=loss, optimizer=optim.Adam(model.parameters(), lr=0.01),
              epochs=epochs, validation=(X_val, y_val), progress=False, seed=seed)  # fmt: skip
    return model


@pytest.mark.parametrize("dataset, seed", [("circles", 0), ("spiral", 3)])
def test_the_demo_defaults_train_the_same_model_as_before(
    dataset: str, seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["demo", "--dataset", dataset, "--epochs", "4", "--seed", str(seed), "--no-progress"]
    assert main([*common, "--out", str(tmp_path / "defaults")]) == 0
    saved = nn.load(tmp_path / "defaults" / "model.json").state_dict()
    assert saved == old_demo(dataset, 4, seed).state_dict()  # the same weights, bit for bit
    spelled = ["--hidden", "16,16" if dataset == "spiral" else "4,6,6,4", "--activation", "relu",
               "--optimizer", "adam", "--lr", "0.01"]  # fmt: skip
    assert main([*common, *spelled, "--out", str(tmp_path / "spelled")]) == 0
    assert nn.load(tmp_path / "spelled" / "model.json").state_dict() == saved


def test_the_demo_options_reach_the_model_the_optimizer_and_the_batches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--hidden", "3, 5", "--activation", "tanh", "--optimizer", "momentum",
               "--lr", "0.05", "--batch-size", "32"]  # fmt: skip
    assert main(["demo", "--dataset", "moons", "--epochs", "3", "--no-progress",
                 "--out", str(tmp_path), *options]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert printed.startswith("Training MLP(2 → [3, 5] → 1, 35 parameters) with momentum "
                              "(lr 0.05, batches of 32) on 600 moons points")  # fmt: skip
    X, y = data.make_moons(1000, noise=0.1, seed=0)
    X_train, _, y_train, _ = data.train_test_split(X, y, test_size=0.25, seed=0)
    X_fit, X_val, y_fit, y_val = data.train_test_split(X_train, y_train, test_size=0.2, seed=0)
    model = nn.MLP(2, [3, 5, 1], "tanh", output_activation="sigmoid", seed=0)
    sgd = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train.fit(model, X_fit, y_fit, losses.binary_cross_entropy, sgd, epochs=3, batch_size=32,
              validation=(X_val, y_val), progress=False, seed=0)  # fmt: skip
    assert nn.load(tmp_path / "model.json").state_dict() == model.state_dict()
    assert main(["demo", "--hidden", "", "--epochs", "1", "--no-progress", "--out",
                 str(tmp_path / "one")]) == 0  # fmt: skip
    assert "Training MLP(2 → 1, 3 parameters)" in capsys.readouterr().out


def test_the_demo_ends_by_saying_which_picture_to_open_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--epochs", "2", "--no-progress", "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"Open {tmp_path / 'decision_boundary.png'} first: ")
    assert (tmp_path / "decision_boundary.png").exists()


def test_a_diverging_demo_says_so_in_one_line_with_the_learning_rate_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "microgradx", "demo", "--optimizer", "sgd", "--lr", "1e300",
         "--epochs", "5", "--no-progress", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("microgradx demo: try a smaller learning rate (now lr=1e+300)")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        ["graph", "-x*2"],
        ["graph", "-x*2", "--at", "x=2", "--out", "OUT"],
        ["graph", "--at", "x=2", "-tanh(x)", "--out", "OUT"],
        ["graph", "--out", "OUT", "-x", "--at", "x=2"],
        ["graph", "-h*2", "--at", "h=2", "--out", "OUT"],  # -h, then "*2"
        ["graph", "--at", "x=2", "--out", "OUT", "-(x+1)/2"],  # (with a space argparse takes it)
    ],
)
def test_a_formula_that_starts_with_a_minus_is_told_to_go_after_dashes(
    arguments: list[str], tmp_path: Path
) -> None:
    out = str(tmp_path / "g.dot")
    arguments = [out if a == "OUT" else a for a in arguments]
    done = subprocess.run([sys.executable, "-m", "microgradx", *arguments],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    message, _, command = done.stderr.strip().partition(", after --: ")
    formula = next(a for a in arguments if a.startswith("-") and a not in ("--at", "--out"))
    assert message == f"microgradx graph: the formula {formula!r} starts with -, so it reads as " \
        "an option; put it last"  # fmt: skip
    fixed = shlex.split(command)  # the command it suggests, run as a shell would split it
    assert fixed[:2] == ["microgradx", "graph"] and fixed[-2:] == ["--", formula]
    if "--out" in fixed:
        assert main(fixed[1:]) == 0 and Path(out).read_text().startswith("digraph")


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.ENOTSUP])
def test_graph_and_demo_in_a_python_that_cannot_start_dot(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def cannot_start(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(subprocess, "run", cannot_start)
    monkeypatch.setattr(subprocess, "Popen", cannot_start)
    assert main(neuron_graph(tmp_path / "g.svg")) == 1
    error = capsys.readouterr().err
    assert error.startswith("microgradx graph: drawing needs the `dot` program")
    assert "cannot start programs" in error and len(error.splitlines()) == 1
    assert main(["demo", "--epochs", "1", "--no-progress", "--out", str(tmp_path / "d")]) == 0
    captured = capsys.readouterr()
    assert "skipped backprop.html: drawing needs the `dot` program" in captured.err
    assert (tmp_path / "d" / "decision_boundary.png").exists()
    assert not (tmp_path / "d" / "backprop.html").exists()
