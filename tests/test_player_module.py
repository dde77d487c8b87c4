"""The player's script as a module (player.js), mounted on a root element: two players on one
page keep apart (their boxes share ids), and keys reach a player only while it has the focus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from microgradx import Value
from microgradx.viz.player import _svg, film_data, frames, source, view_html


def graphs() -> list[Value]:
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    first = (x * w).tanh()
    a, b = Value(0.5, label="a"), Value(4.0, label="b")
    second = a + b * a  # other numbers, the same box ids (v0, v1, ...)
    return [first, second]


def two_players(browser: Any, folder: Path) -> tuple[Any, list[Any]]:
    """A page holding two players, each mounted on its own root; their films in order."""
    films = [frames(root) for root in graphs()]
    views = "".join(
        f'<div class="mgx-player" tabindex="0" style="height: 380px">'
        f"{view_html(_svg(film.scene, *film.widest()))}</div>"
        for film in films
    )
    data = json.dumps([film_data(f) for f in films]).replace("<", "\\u003c")
    document = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<style>{source("player.css")}</style></head><body>
<button id="elsewhere">the rest of the notebook</button>{views}
<script type="application/json" id="films">{data}</script>
<script type="module">{source("player.js")}
const films = JSON.parse(document.getElementById("films").textContent);
const roots = document.querySelectorAll(".mgx-player");
window.players = films.map((film, i) => mount(roots[i], film));
</script></body></html>"""
    path = folder / "two.html"
    path.write_text(document, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_function("window.players && window.players.length === 2")
    return page, [film_data(f) for f in films]


def counters(page: Any) -> list[str]:
    return [str(t) for t in page.locator('.mgx-player [id="counter"]').all_inner_texts()]


def texts(page: Any, k: int) -> dict[str, list[str]]:
    """Every box's texts in the k-th player."""
    return dict(
        page.evaluate(
            """k => Object.fromEntries(Array.from(document.querySelectorAll(".mgx-player")[k]
            .querySelectorAll("#graph > svg .node")).map(g => [g.id,
            Array.from(g.getElementsByTagName("text")).map(t => t.textContent)]))""",
            k,
        )
    )


def test_two_players_on_one_page_keep_apart(browser: Any, tmp_path: Path) -> None:
    page, films = two_players(browser, tmp_path)
    lasts = [len(f["steps"]) - 1 for f in films]
    assert counters(page) == [f"step 0 / {lasts[0]}", f"step 0 / {lasts[1]}"]
    second = texts(page, 1)
    page.locator('.mgx-player [id="last"]').first.click()  # the first player's button
    assert counters(page) == [f"step {lasts[0]} / {lasts[0]}", f"step 0 / {lasts[1]}"]
    assert texts(page, 1) == second  # same ids, other boxes: untouched
    shown = texts(page, 0)
    root = films[0]["steps"][0]["node"]
    assert shown[root][2] == "grad 1.000"
    assert all(t[2] != "grad ?" for box, t in shown.items() if box.startswith("v"))
    page.locator('.mgx-player [id="next"]').nth(1).click()
    assert counters(page) == [f"step {lasts[0]} / {lasts[0]}", f"step 1 / {lasts[1]}"]


def test_keys_reach_a_player_only_while_it_has_the_focus(browser: Any, tmp_path: Path) -> None:
    page, films = two_players(browser, tmp_path)
    lasts = [len(f["steps"]) - 1 for f in films]
    page.focus("#elsewhere")  # the notebook's own element: its keys stay its own
    for key in ("ArrowRight", "End", "+", "0"):
        page.keyboard.press(key)
    assert counters(page) == [f"step 0 / {lasts[0]}", f"step 0 / {lasts[1]}"]
    page.locator(".mgx-player").nth(1).focus()
    page.keyboard.press("ArrowRight")
    assert counters(page) == [f"step 0 / {lasts[0]}", f"step 1 / {lasts[1]}"]
    page.locator(".mgx-player").nth(0).focus()
    page.keyboard.press("End")
    assert counters(page) == [f"step {lasts[0]} / {lasts[0]}", f"step 1 / {lasts[1]}"]
