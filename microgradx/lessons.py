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
    try:
        got = np.asarray(getattr(answer, "data", answer), dtype=float)
        want = np.asarray(getattr(expected, "data", expected), dtype=float)
        right = got.shape == want.shape and bool(
            np.allclose(got, want, rtol=tolerance, atol=tolerance)
        )
    except (TypeError, ValueError):
        right = False
    return _verdict(name, right, hint)


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
            fault = f"{type(error).__name__}: {error}"
            return _verdict(name, False, say(f"It raised {fault}.", f"它抛出了 {fault}。"))
        if result is None:  # def f(x): ... (not written yet)
            return _verdict(name, None, hint)
        got = getattr(result, "data", result)
        want = reference(*args)
        want = getattr(want, "data", want)
        try:
            close = bool(np.allclose(
                np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                rtol=tolerance, atol=tolerance,
            ))  # fmt: skip
        except (TypeError, ValueError):
            close = False
        if not close:
            shown = ", ".join(map(repr, args))
            fault = say(f"For ({shown}) it gave {got!r}.", f"输入 ({shown}) 时它给出 {got!r}。")
            return _verdict(name, False, f"{fault} {hint}".strip())
    return _verdict(name, True, hint)
