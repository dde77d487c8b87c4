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
    first, *chinese = mpl.rcParams["font.family"]
    assert first == "DejaVu Sans" and chinese  # Latin and maths as in English, then Chinese
    for family, char in [(chinese[0], "损"), (first, "ŷ")]:  # each glyph from some font
        font = font_manager.get_font(font_manager.findfont(family, fallback_to_default=False))
        assert font.get_char_index(ord(char)) != 0, (family, char)  # a glyph, not a box
    lessons.setup("en")
    assert mpl.rcParams["font.family"] == ["sans-serif"]


def verdict(capsys: pytest.CaptureFixture[str]) -> str:
    """What the last check printed: "right", "not yet" or "not answered"."""
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    for word in ("right", "not yet", "not answered"):
        if f": {word}" in printed:
            return word
    raise AssertionError(printed)


@given(x=st.floats(-1e6, 1e6), off=st.floats(1e-3, 1.0))
def test_a_number_is_right_within_the_tolerance_and_wrong_outside(x: float, off: float) -> None:
    import io
    from contextlib import redirect_stdout

    for answer, expected in [
        (x, "right"),
        (Value(x), "right"),
        (x + off * (1 + abs(x)), "not yet"),
    ]:
        with redirect_stdout(io.StringIO()) as printed:
            assert lessons.check(answer, x, name="t", tolerance=1e-6) is None
        assert f"Exercise t: {expected}" in printed.getvalue()


def test_the_verdicts_are_printed(capsys) -> None:
    lessons.check(..., 1.0, name="1.1")
    assert verdict(capsys) == "not answered"
    lessons.check([1.0, 2.0], np.array([1.0, 2.0]), name="1.2")
    assert verdict(capsys) == "right"
    lessons.check([1.0], [1.0, 2.0], name="1.3", hint="Two numbers.")
    assert "Exercise 1.3: not yet. Two numbers." in capsys.readouterr().out
    lessons.check("Relu ", "relu", name="1.4")
    assert verdict(capsys) == "right"
    lessons.check("x", 1.0, name="1.5")
    assert verdict(capsys) == "not yet"
    lessons.check(..., 1.0, name="1.1")
    assert (
        "Exercise 1.1: not answered yet (replace ... with your answer)." in capsys.readouterr().out
    )
    language.use("zh")
    lessons.check(..., 1.0, name="1.6")
    assert "练习 1.6：还没有作答" in capsys.readouterr().out


def test_strict_mode_raises_on_a_wrong_or_missing_answer(monkeypatch) -> None:
    monkeypatch.setenv("MICROGRADX_EXERCISES", "strict")
    lessons.check(2.0, 2.0, name="2.1")
    with pytest.raises(AssertionError, match=r"Exercise 2\.2: not answered yet"):
        lessons.check(..., 2.0, name="2.2")
    with pytest.raises(AssertionError, match=r"Exercise 2\.3: not yet"):
        lessons.check(3.0, 2.0, name="2.3")


def test_a_function_is_checked_against_a_reference_on_every_input(capsys) -> None:
    def square(x: float) -> float:
        return x * x

    def unwritten(x: float) -> None: ...

    lessons.check_function(square, lambda x: x**2, [1.0, -2.0, 3.5], name="3.1")
    assert verdict(capsys) == "right"
    lessons.check_function(lambda x: 2 * x, square, [2.0, 3.0], name="3.2")
    assert "Exercise 3.2: not yet. For (3.0) it gave 6.0." in capsys.readouterr().out
    lessons.check_function(lambda x, y: x / y, lambda x, y: 0, [(1.0, 0.0)], name="3.3")
    assert "It raised ZeroDivisionError" in capsys.readouterr().out
    lessons.check_function(3.0, square, [1.0], name="3.4")
    assert verdict(capsys) == "not yet"
    lessons.check_function(..., square, [1.0], name="3.5")
    assert verdict(capsys) == "not answered"
    lessons.check_function(unwritten, square, [1.0], name="3.6")
    assert verdict(capsys) == "not answered"
