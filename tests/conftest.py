"""Shared test set-up.

Hypothesis profiles: "dev" (quick, the default on your machine) and "ci" (more examples,
derandomized so that a CI failure reproduces). Choose one with HYPOTHESIS_PROFILE=ci.

Tests that need an outside program (`dot`, Chromium) call `need(program)`: on a user's
machine without it they skip; in CI (CI=true) they fail, so a missing install step cannot hide.
`need_module(name)` does the same for an optional Python package (anywidget, jupyterlab).
`need_font(lang)` does the same for a font with that language's glyphs (fonts-noto-cjk for "zh").
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from microgradx.testing import strategies

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

strategies.load_profile("ci" if IN_CI else "dev")


def need(program: str) -> None:
    """Skip the test when `program` is missing, unless this is CI, where that is a failure."""
    if shutil.which(program) is None:
        message = f"`{program}` is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(f"{message}: in CI this is an error, not a skip")
        pytest.skip(message)


def need_module(name: str) -> None:
    """Skip the test when the Python package `name` is missing (an optional extra), unless this
    is CI, where that is a failure."""
    try:
        __import__(name)
    except ImportError:
        message = f"the Python package {name!r} is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(f"{message}: in CI this is an error, not a skip")
        pytest.skip(message)


def need_font(lang: str) -> None:
    """Skip the test when fontconfig knows no font for `lang` ("zh": Chinese), unless this is
    CI, where that is a failure."""
    try:
        found = subprocess.run(["fc-list", f":lang={lang}", "file"], capture_output=True, text=True)
        listed = found.stdout.strip()
    except OSError:
        listed = ""
    if not listed:
        message = f"no font with {lang!r} glyphs is installed (make test installs fonts-noto-cjk)"
        if IN_CI:
            pytest.fail(f"{message}: in CI this is an error, not a skip")
        pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), driven by Playwright; the player's tests need dot too."""
    need("dot")
    need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
