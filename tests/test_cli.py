"""The `microgradx` command as a user runs it."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from microgradx.cli import main
from microgradx.testing import numerical_grad


def test_demo_prints_every_gradient_of_the_neuron(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    table = {}
    for line in capsys.readouterr().out.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] in ("x1", "x2", "w1", "w2", "b", "o"):
            table[words[0]] = (float(words[2]), float(words[3]))

    def neuron(x1: float, x2: float, w1: float, w2: float, b: float) -> float:
        return math.tanh(x1 * w1 + x2 * w2 + b)

    point = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    slopes = numerical_grad(neuron, *point.values())
    for (name, data), slope in zip(point.items(), slopes):
        assert table[name] == (pytest.approx(data, abs=1e-4), pytest.approx(slope, abs=1e-4))
    assert table["o"][0] == pytest.approx(neuron(*point.values()), abs=1e-4)


def test_an_unknown_command_exits_with_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["train-everything"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "microgradx", "demo"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "do/dw1" in done.stdout
