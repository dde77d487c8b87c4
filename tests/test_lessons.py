"""The notebooks' helpers: their language, and the checks of their exercises."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgradx import Value, language, lessons


@pytest.fixture(autouse=True)
def _english_afterwards(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.delenv("MICROGRADX_LANGUAGE", raising=False)
    monkeypatch.delenv("MICROGRADX_EXERCISES", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    yield
    language.use("en")


def test_a_notebook_in_a_zh_folder_speaks_chinese(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "zh").mkdir()
    monkeypatch.chdir(tmp_path / "zh")
    assert lessons.setup() == "zh"
    assert lessons.say("loss", "损失") == "损失"
    monkeypatch.chdir(tmp_path)
    assert lessons.setup() == "en"
    assert lessons.say("loss", "损失") == "loss"


def test_jupyterlab_names_the_notebook_and_the_variable_overrides(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "notebooks/zh/05_x.ipynb"))
    assert lessons.notebook_language() == "zh"
    monkeypatch.setenv("MICROGRADX_LANGUAGE", "en")
    assert lessons.notebook_language() == "en"
    monkeypatch.setenv("MICROGRADX_LANGUAGE", "fr")
    with pytest.raises(ValueError, match="MICROGRADX_LANGUAGE must be one of en, zh; got 'fr'"):
        lessons.notebook_language()


def test_an_unknown_language_is_refused_and_changes_nothing() -> None:
    language.use("zh")
    with pytest.raises(ValueError, match="language must be one of en, zh"):
        language.use("Chinese")
    assert language.current() == "zh"


def test_chinese_pictures_get_a_font_with_chinese_characters(monkeypatch) -> None:
    from conftest import need_font

    need_font("zh")
    pytest.importorskip("matplotlib")
    import matplotlib as mpl
    from matplotlib import font_manager

    monkeypatch.setattr(mpl, "rcParams", mpl.rcParams.copy())
    lessons.setup("zh")
    family = mpl.rcParams["font.sans-serif"][0]
    font = font_manager.get_font(font_manager.findfont(family, fallback_to_default=False))
    assert font.get_char_index(ord("损")) != 0, family  # a glyph, not the empty box
    lessons.setup("en")
    assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"


@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1.0))
def test_a_number_is_right_within_the_tolerance_and_wrong_outside(x: float, off: float) -> None:
    assert lessons.check(x, x, name="t") is True
    assert lessons.check(Value(x), x, name="t") is True
    assert lessons.check(x + off * (1 + abs(x)), x, name="t", tolerance=1e-6) is False


def test_the_verdicts_are_printed(capsys) -> None:
    assert lessons.check(..., 1.0, name="1.1") is None
    assert lessons.check([1.0, 2.0], np.array([1.0, 2.0]), name="1.2") is True
    assert lessons.check([1.0], [1.0, 2.0], name="1.3", hint="Two numbers.") is False
    assert lessons.check("Relu ", "relu", name="1.4") is True
    assert lessons.check("x", 1.0, name="1.5") is False
    printed = capsys.readouterr().out
    assert "Exercise 1.1: not answered yet (replace ... with your answer)." in printed
    assert "Exercise 1.2: right." in printed
    assert "Exercise 1.3: not yet. Two numbers." in printed
    assert "Exercise 1.5: not yet." in printed
    language.use("zh")
    lessons.check(..., 1.0, name="1.6")
    assert "练习 1.6：还没有作答" in capsys.readouterr().out


def test_strict_mode_raises_on_a_wrong_or_missing_answer(monkeypatch) -> None:
    monkeypatch.setenv("MICROGRADX_EXERCISES", "strict")
    assert lessons.check(2.0, 2.0, name="2.1") is True
    with pytest.raises(AssertionError, match=r"Exercise 2\.2: not answered yet"):
        lessons.check(..., 2.0, name="2.2")
    with pytest.raises(AssertionError, match=r"Exercise 2\.3: not yet"):
        lessons.check(3.0, 2.0, name="2.3")


def test_a_function_is_checked_against_a_reference_on_every_input(capsys) -> None:
    def square(x: float) -> float:
        return x * x

    assert lessons.check_function(square, lambda x: x**2, [1.0, -2.0, 3.5], name="3.1") is True
    assert lessons.check_function(lambda x: 2 * x, square, [2.0, 3.0], name="3.2") is False
    assert "For (3.0) it gave 6.0." in capsys.readouterr().out
    assert (
        lessons.check_function(lambda x, y: x / y, lambda x, y: 0, [(1.0, 0.0)], name="3.3")
        is False
    )
    assert "It raised ZeroDivisionError" in capsys.readouterr().out
    assert lessons.check_function(3.0, square, [1.0], name="3.4") is False
    assert lessons.check_function(..., square, [1.0], name="3.5") is None
