"""The language of the words microgradx puts in pictures: English ("en", the default) or
Chinese ("zh").

    language.use("zh")
    language.say("loss", "损失")    # "损失" now, "loss" in English

Pictures made by `microgradx.plot` (titles, axis labels, legends) take their words from here.
In a notebook, `microgradx.lessons.setup()` picks the language from the notebook's folder and
also gives matplotlib a font with Chinese characters.
"""

from __future__ import annotations

from microgradx.checks import choice

__all__ = ["LANGUAGES", "current", "say", "use"]

LANGUAGES = ("en", "zh")
_current = ["en"]


def use(language: str) -> str:
    """Speak `language` ("en" or "zh") from now on; returns it."""
    _current[0] = choice("language", language, LANGUAGES)
    return _current[0]


def current() -> str:
    """The language in use: "en" or "zh"."""
    return _current[0]


def say(en: str, zh: str) -> str:
    """The text in the language in use: `en` in English, `zh` in Chinese."""
    return zh if _current[0] == "zh" else en
