"""A real install: build the sdist and the wheel, install the wheel into a fresh virtual
environment (no dev requirements, no source tree), and run the demo and a player there.

A file missing from the wheel (the player's template, py.typed, any file of the package) fails
here twice: in the wheel's list of files, and when the installed package runs. The build needs
no network: hatchling (the build backend) comes from the dev environment (`--no-build-isolation`);
the install takes numpy, graphviz, tqdm and matplotlib from uv's cache when it holds them (at
the versions pinned in requirements/dev.txt), and from the package index otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import IN_CI, need

import microgradx
from microgradx import cli

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "microgradx"
URL_FILES = ["README.md", "notebooks/README.md", "CHANGELOG.md"]  # pyproject's project.urls


def test_the_cli_reports_the_packages_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"microgradx {microgradx.__version__}\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel (built from the sdist), from the source tree as it is."""
    dist = tmp_path_factory.mktemp("dist")
    uv = find_uv()
    command = [uv, "build", "--offline", "--no-build-isolation", "--python", sys.executable]
    run([*command, "--out-dir", str(dist), str(ROOT)], cwd=ROOT)
    (sdist,), (wheel,) = dist.glob("*.tar.gz"), dist.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel, "uv": Path(uv)}


def test_the_wheel_holds_every_file_of_the_package(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
        info = f"microgradx-{microgradx.__version__}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    missing = sorted(package_files() - names)
    assert not missing, f"the wheel lacks {missing}: see [tool.hatch.build] in pyproject.toml"
    assert {"microgradx/py.typed", "microgradx/viz/player.html"} <= names  # (named: they matter)
    assert f"Version: {microgradx.__version__}\n" in metadata
    assert all(f"Project-URL: {label}, {path}" in metadata for label, path in project_urls())
    assert "microgradx = microgradx.cli:main" in entry_points


def test_the_sdist_holds_the_package_and_what_project_urls_name(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as sdist:
        top = f"microgradx-{microgradx.__version__}/"
        names = {name.removeprefix(top) for name in sdist.getnames()}
    expected = package_files() | {"pyproject.toml", "LICENSE", *URL_FILES}
    assert not sorted(expected - names), f"the sdist lacks {sorted(expected - names)}"


def test_the_wheel_installs_and_runs_without_the_source_tree(
    built: dict[str, Path], tmp_path: Path
) -> None:
    need("dot")  # the demo's backprop player and viz.save_html lay the graph out with dot
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    install = [str(built["uv"]), "pip", "install", "--python", str(python), "--quiet"]
    wheel = f"microgradx[plot] @ {built['wheel'].as_uri()}"
    pinned = ["--constraint", str(ROOT / "requirements" / "dev.txt")]
    if not succeeds([*install, "--offline", wheel, *pinned], cwd=tmp_path):  # from uv's cache
        run([*install, wheel, *pinned], cwd=tmp_path)  # else from the package index

    out = tmp_path / "out"
    assert run([str(venv / "bin" / "microgradx"), "--version"], cwd=tmp_path) == (
        f"microgradx {microgradx.__version__}\n"
    )
    demo = [str(venv / "bin" / "microgradx"), "demo", "--epochs", "5", "--no-progress"]
    run([*demo, "--out", str(out)], cwd=tmp_path)
    for name in ("decision_boundary.png", "history.png", "model.json", "backprop.html"):
        assert (out / name).stat().st_size > 0, name
    script = (
        "import importlib.metadata, pathlib, sys, microgradx\n"
        "from microgradx import Value, viz\n"
        "x = Value(2.0, label='x'); w = Value(-3.0, label='w')\n"
        "y = (x * w).tanh(); y.backward()\n"
        "viz.save_html(y, sys.argv[1])\n"
        "print(microgradx.__file__, importlib.metadata.version('microgradx'))\n"
    )
    where, version = run(
        [str(python), "-c", script, str(out / "neuron.html")], cwd=tmp_path
    ).split()
    assert Path(where).is_relative_to(venv), f"{where} is not the installed package"
    assert version == microgradx.__version__
    for page in (out / "neuron.html", out / "backprop.html"):
        html = page.read_text(encoding="utf-8")
        assert 'class="mgx-player"' in html  # the template, player.html
        for part in ("player.js", "player.css"):  # inlined from the package's files
            assert (PACKAGE / "viz" / part).read_text(encoding="utf-8")[:300] in html


# --- helpers ------------------------------------------------------------------------------


def package_files() -> set[str]:
    """Every file of the package in the source tree ("microgradx/viz/player.html"), but
    Python's caches: what the wheel must hold."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def project_urls() -> list[tuple[str, str]]:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as file:
        urls: dict[str, str] = tomllib.load(file)["project"]["urls"]
    assert set(urls.values()) <= set(URL_FILES)  # (the sdist test checks these files are in)
    return list(urls.items())


def find_uv() -> str:
    """uv: $UV, the project's own (.tools/, where `make` puts it), or the one on PATH."""
    own = ROOT / ".tools" / "bin" / "uv"
    found = os.environ.get("UV") or (str(own) if own.is_file() else shutil.which("uv"))
    if found is None:
        message = "uv is not installed (make test bootstraps it into .tools/)"
        if IN_CI:
            pytest.fail(f"{message}: in CI this is an error, not a skip")
        pytest.skip(message)
    return found


def run(command: list[str], cwd: Path) -> str:
    """Run a command outside the source tree's influence; its output, or a failed assertion
    showing what it printed."""
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def succeeds(command: list[str], cwd: Path) -> bool:
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True).returncode == 0


ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | {
    "MPLBACKEND": "Agg",
    "UV_PYTHON_DOWNLOADS": "never",
}
