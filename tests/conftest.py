"""Shared test set-up.

Hypothesis profiles: "dev" (quick, the default on your machine) and "ci" (more examples,
derandomized so that a CI failure reproduces). Choose one with HYPOTHESIS_PROFILE=ci.

Tests that need an outside program (`dot`, Chromium) call `need(program)`: on a user's
machine without it they skip; in CI (CI=true) they fail, so a missing install step cannot hide.
"""

import os
import shutil

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
