"""viz.live end to end in a real JupyterLab: the server on a loopback port with a token and a
temporary root folder, Debian's Chromium (Playwright) opens a notebook, runs a cell with
viz.live, moves a slider, and sees the kernel's new gradient on the graph. The server is
always stopped. Skips where JupyterLab, anywidget or Chromium are missing; fails in CI."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import CHROMIUM, CHROMIUM_FLAGS, need, need_module

import microgradx
from microgradx import Value

CELL = """from microgradx import viz
live = viz.live(lambda x, w: (x * w).tanh(), x=(2.0, -3, 3), w=(-0.5, -2, 2), height=460)
live"""


TRAINING = """from microgradx import data, losses, nn, optim, train, viz
X, y = data.make_moons(40, noise=0.1, seed=0)
model = nn.MLP(2, [4, 1], seed=0)
live = viz.live(model, [0.5, -1.0], every=2, X=X, y=y, height=460)
history = train.fit(model, X, y, losses.hinge, optim.SGD(model, lr=0.1), epochs=3,
                    batch_size=10, progress=False, seed=0, callbacks=[live])
live"""


def notebook(cells: list[str]) -> dict[str, Any]:
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
             "outputs": [], "source": source}
            for i, source in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def jupyterlab(root: Path) -> Iterator[str]:
    """A JupyterLab server serving root, only on 127.0.0.1; yields its URL with the token.
    Its settings, runtime files and kernels' IPython folder are kept inside root's parent."""
    port, token = free_port(), secrets.token_hex(16)
    home = root.parent / "jupyter-home"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        # the kernel imports this checkout's microgradx
        "PYTHONPATH": os.pathsep.join(
            [str(Path(microgradx.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
        ),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
        "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # a container's root: Jupyter asks for this
        command.append("--allow-root")
    log = (root.parent / "jupyterlab.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # until the server answers (its API needs the token)
            if server.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"jupyter lab did not answer: see {log.name}") from None
                time.sleep(0.25)
        yield f"{url}/lab/tree/live.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def run_live_cell(page: Any, url: str) -> None:
    """Open the notebook, wait for its kernel, run its first cell, wait for the widget's view."""
    run_first_cell(page, url)
    page.wait_for_selector('.mgx-live [id="counter"]:not(:empty)', timeout=60_000)


def run_first_cell(page: Any, url: str) -> None:
    """Open the notebook, wait for its kernel, run its first cell (clicking again if the click
    was lost while the notebook was starting)."""
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    from playwright.sync_api import TimeoutError as Timeout

    prompt = page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first
    run = page.locator(
        '.jp-NotebookPanel-toolbar [data-command="notebook:run-cell-and-select-next"]'
    )
    for attempt in range(3):  # a click while the notebook is still starting can be lost
        page.locator(".jp-Notebook .jp-Cell").first.click()
        run.first.click()
        try:  # the prompt shows [*] (running) or [1] (done) once the cell was sent
            prompt.filter(has_text="[").filter(has_not_text="[ ]").wait_for(timeout=10_000)
            break
        except Timeout:
            if attempt == 2:
                raise


def grad_texts(page: Any) -> list[str]:
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll(".mgx-live #graph svg .node text"))
            .map(t => t.textContent).filter(t => t.startsWith("grad"))"""
        )
    )


def test_a_slider_in_jupyterlab_moves_the_kernels_gradients_onto_the_graph(
    tmp_path: Path,
) -> None:
    need_module("jupyterlab")
    need_module("anywidget")
    need(CHROMIUM)
    need("dot")
    from playwright.sync_api import sync_playwright

    root = tmp_path / "root"
    root.mkdir()
    (root / "live.ipynb").write_text(json.dumps(notebook([CELL, TRAINING])), encoding="utf-8")
    with jupyterlab(root) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            run_live_cell(page, url)
            x, w = Value(2.0), Value(-0.5)
            (x * w).tanh().backward()
            before = grad_texts(page)
            assert f"grad {x.grad:#.4g}" in before  # the kernel's numbers, drawn
            page.locator('.mgx-live input[aria-label="x"]').fill("0.5")
            x, w = Value(0.5), Value(-0.5)
            (x * w).tanh().backward()
            page.wait_for_function(
                """wanted => Array.from(document.querySelectorAll(".mgx-live #graph .node text"))
                .some(t => t.textContent === wanted)""",
                arg=f"grad {w.grad:#.4g}",
                timeout=30_000,
            )
            after = grad_texts(page)
            assert f"grad {x.grad:#.4g}" in after and after != before
            # the second cell, a model trained with the widget as its callback: the kernel sends
            # the loss curve and the decision boundary (a binary grid) with the graph
            page.locator(".jp-Notebook .jp-Cell").nth(1).click()
            page.locator(
                '.jp-NotebookPanel-toolbar [data-command="notebook:run-cell-and-select-next"]'
            ).first.click()
            curve = page.locator(".mgx-curve polyline >> visible=true")  # (the second widget's)
            curve.wait_for(timeout=30_000)
            points = curve.get_attribute("points")
            assert points is not None and len(points.split()) == 12  # 3 epochs of 4 batches
            colours = page.evaluate(
                """() => { const c = Array.from(document.querySelectorAll('.mgx-boundary'))
                .find(e => e.offsetParent !== null);
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                const seen = new Set();
                for (let i = 0; i < d.length; i += 4) { seen.add(d[i] + ',' + d[i + 1]); }
                return seen.size; }"""
            )
            assert colours >= 2  # both sides of the boundary drawn
        finally:
            browser.close()


def test_a_notebook_in_a_zh_folder_speaks_chinese_in_jupyterlab(tmp_path: Path) -> None:
    """The Chinese lessons share their code with the English ones: in JupyterLab, as under
    nbmake, lessons.setup() learns the language from the notebook's folder."""
    need_module("jupyterlab")
    need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    root = tmp_path / "root"
    cell = 'from microgradx import lessons\nprint("says:", lessons.setup(), lessons.say("a", "甲"))'
    for folder in ("zh", "en"):
        (root / folder).mkdir(parents=True)
        (root / folder / "lesson.ipynb").write_text(json.dumps(notebook([cell])), encoding="utf-8")
    with jupyterlab(root) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            for folder, said in (("zh", "says: zh 甲"), ("en", "says: en a")):
                # (reset: JupyterLab would reopen the last notebook beside this one)
                run_first_cell(page, url.replace("/live.ipynb?", f"/{folder}/lesson.ipynb?reset&"))
                shown = page.locator(".jp-OutputArea-output >> visible=true")  # this notebook's
                output = shown.filter(has_text="says:").first
                output.wait_for(timeout=60_000)
                assert output.inner_text().strip() == said
        finally:
            browser.close()
