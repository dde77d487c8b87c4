"""What the notebooks need besides the library: their language and their exercises.

    from microgradx import lessons
    lessons.setup()                        # first cell: language, fonts, picture sizes
    plt.title(lessons.say("loss", "损失"))  # the words of a picture in the notebook's language
    lessons.check(answer, expected=0.0025, name="3.1")

The English and Chinese notebooks share every code cell, so a notebook learns its language from
where it lies: a notebook in a folder named `zh` (notebooks/zh/) speaks Chinese, any other
English. The environment variable MICROGRADX_LANGUAGE ("en" or "zh") overrides that.

An exercise cell holds `...` where the answer goes. `check` says whether the answer is right,
without stopping the notebook; with MICROGRADX_EXERCISES=strict (the tests run the solutions,
notebooks/solutions/, that way) a wrong or missing answer raises an AssertionError.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from microgradx import language
from microgradx.checks import choice
from microgradx.language import say

__all__ = ["check", "check_function", "notebook_language", "say", "setup"]


def notebook_language() -> str:
    """The language of the running notebook: MICROGRADX_LANGUAGE if set; else "zh" when the
    notebook lies in a folder named zh (JupyterLab names the notebook in JPY_SESSION_NAME; a
    kernel started by nbclient or nbmake runs in the notebook's folder); else "en"."""
    chosen = os.environ.get("MICROGRADX_LANGUAGE", "").strip().lower()
    if chosen:
        return choice("MICROGRADX_LANGUAGE", chosen, language.LANGUAGES)
    session = os.environ.get("JPY_SESSION_NAME", "")
    folder = Path(session).parent if session else Path.cwd()
    return "zh" if folder.name == "zh" else "en"


def setup(lang: str | None = None) -> str:
    """Call once, first thing in a notebook: speak `lang` (default: `notebook_language()`),
    and set matplotlib's pictures to a readable size (with a Chinese font for "zh").
    Returns the language."""
    chosen = language.use(notebook_language() if lang is None else lang)
    try:
        import matplotlib as mpl
    except ImportError:
        return chosen
    mpl.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (6.4, 4.2)})
    # DejaVu Sans first (Latin, maths and ŷ look as in English), then a Chinese font, which
    # matplotlib falls back to, glyph by glyph, for the characters DejaVu lacks
    chinese = _chinese_font_names() if chosen == "zh" else []
    mpl.rcParams["font.family"] = ["DejaVu Sans", *chinese] if chinese else ["sans-serif"]
    return chosen


def _chinese_font_names() -> list[str]:
    """The families of the Chinese fonts fontconfig knows, registered with matplotlib (whose
    font cache may predate their install)."""
    from matplotlib import font_manager

    from microgradx.viz.player import _cjk_fonts

    known = {entry.name for entry in font_manager.fontManager.ttflist}
    for path, _ in _cjk_fonts():
        if path.exists() and not any("CJK" in name or "WenQuanYi" in name for name in known):
            font_manager.fontManager.addfont(str(path))
    names = sorted(
        {entry.name for entry in font_manager.fontManager.ttflist},
        key=lambda name: ("Sans" not in name, "Mono" in name, not name.endswith(" SC")),
    )
    return [name for name in names if "CJK" in name or "WenQuanYi" in name][:3]


def _strict() -> bool:
    return os.environ.get("MICROGRADX_EXERCISES", "").strip().lower() == "strict"


def _verdict(name: str, right: bool | None, hint: str) -> None:
    """Print what became of exercise `name` (right: True, False, or None while unanswered);
    in strict mode a wrong or missing answer raises. Returns nothing, so a notebook cell that
    ends with a check shows the verdict only."""
    if right is None:
        message = say(
            f"Exercise {name}: not answered yet (replace ... with your answer).",
            f"练习 {name}：还没有作答（把 ... 换成你的答案）。",
        )
    elif right:
        message = say(f"Exercise {name}: right.", f"练习 {name}：正确。")
    else:
        message = say(f"Exercise {name}: not yet. {hint}", f"练习 {name}：还不对。{hint}")
    print(message)
    if _strict() and not right:
        raise AssertionError(message)


def check(
    answer: Any, expected: Any, *, name: str, tolerance: float = 1e-6, hint: str = ""
) -> None:
    """Print whether `answer` (a number, a list or array of numbers, or text) equals
    `expected`, to `tolerance` relative (or absolute, near 0) for numbers; while the answer is
    still `...`, that it is not answered yet."""
    if answer is ...:
        return _verdict(name, None, hint)
    if isinstance(expected, str):
        right = isinstance(answer, str) and answer.strip().lower() == expected.strip().lower()
        return _verdict(name, right, hint)
    got, want = _numbers(answer), _numbers(expected)
    right = (
        got is not None
        and want is not None
        and got.shape == want.shape
        and bool(np.allclose(got, want, rtol=tolerance, atol=tolerance))
    )
    if right:
        return _verdict(name, True, hint)
    shown = _quote(_data(answer))
    if got is None:  # a huge int, a complex number, text, a ragged list, one that raises
        note = say(f"{shown} is not a number.", f"{shown} 不是数。")
    elif not np.isfinite(got).all():
        note = say(f"{shown} is not a finite number.", f"{shown} 不是有限的数。")
    else:
        note = ""
    return _verdict(name, False, f"{note} {hint}".strip())


def check_function(
    function: Any,
    reference: Callable[..., Any],
    inputs: Iterable[Any],
    *,
    name: str,
    tolerance: float = 1e-6,
    hint: str = "",
) -> None:
    """Print whether `function` gives what `reference` gives on every one of `inputs` (each a
    tuple of arguments, or one argument); while it is still `...`, or returns None (its body
    is still `...`), that it is not answered yet."""
    if function is ...:
        return _verdict(name, None, hint)
    if not callable(function):
        return _verdict(name, False, say("It must be a function.", "它应当是一个函数。"))
    for arguments in inputs:
        args = arguments if isinstance(arguments, tuple) else (arguments,)
        try:
            result = function(*args)
        except Exception as error:  # the learner's code: say what went wrong, do not stop
            fault = f"{type(error).__name__}: {_quote(error, str)}"
            return _verdict(name, False, say(f"It raised {fault}.", f"它抛出了 {fault}。"))
        if result is None:  # def f(x): ... (not written yet)
            return _verdict(name, None, hint)
        got, want = _numbers(result), _numbers(reference(*args))
        close = (
            got is not None
            and want is not None
            and bool(np.allclose(got, want, rtol=tolerance, atol=tolerance))
        )
        if not close:
            shown, gave = _quote(args, lambda a: ", ".join(map(repr, a))), _quote(_data(result))
            fault = say(f"For ({shown}) it gave {gave}.", f"输入 ({shown}) 时它给出 {gave}。")
            return _verdict(name, False, f"{fault} {hint}".strip())
    return _verdict(name, True, hint)


def _data(x: Any) -> Any:
    """What an answer stands for: a Value's number (or that of a Value-like class with .data,
    as the lecture's), else the answer itself."""
    if isinstance(x, (np.ndarray, np.generic)):  # their .data is a buffer
        return x
    try:
        return getattr(x, "data", x)
    except Exception:  # the learner's object: a .data that raises
        return x


def _numbers(x: Any) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """An answer (a number, a Value, or a list or array of them) as an array of floats; None
    if it is none of those (an int too large for a float, a complex number, a ragged list, an
    object whose conversion raises or warns)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # float(np.complex128(1j)) only warns
            array = np.asarray(_data(x))
            if array.dtype.kind == "O":  # one by one: NumPy would read None as nan
                return np.array([float(v) for v in array.flat]).reshape(array.shape)
            return None if array.dtype.kind == "c" else array.astype(np.float64)
    except Exception:
        return None


def _quote(x: Any, show: Callable[[Any], str] = repr, most: int = 80) -> str:
    """How a verdict quotes what the learner gave: show(x), cut to `most` characters with "…"
    (an answer may be a megabyte), or its type's name if show(x) raises."""
    try:
        text = show(x)
    except Exception:  # a __repr__ that raises; an int of more than 4300 digits
        text = f"<{type(x).__name__}>"
    return text if len(text) <= most else text[: most - 1] + "…"
