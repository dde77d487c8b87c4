"""Imports point one way: no module of microgradx imports itself through other modules.

`make lint` checks DESIGN.md's layers with import-linter (pyproject.toml); this test holds the
part that matters most everywhere, sub-packages and `__init__` files included: no cycles.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest


def test_there_is_no_import_cycle_in_microgradx() -> None:
    cycles = import_cycles("microgradx")
    assert not cycles, "import cycles:\n" + "\n".join(f"  {' -> '.join(c)}" for c in cycles)


def import_cycles(package: str) -> list[tuple[str, ...]]:
    """Every shortest import cycle in `package`, each once, written a -> b -> ... -> a.

    Every import counts: at the top of a file, inside a function, under `if TYPE_CHECKING:`.
    """
    graph = grimp.build_graph(package, cache_dir=None)
    cycles: set[tuple[str, ...]] = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            way_back = graph.find_shortest_chain(importer=imported, imported=importer)
            if way_back is not None:  # importer -> imported -> ... -> importer
                cycles.add(starting_at_the_first_name((importer, *way_back[:-1])))
    return sorted(cycles)


def starting_at_the_first_name(loop: tuple[str, ...]) -> tuple[str, ...]:
    """The same loop, rotated to start (and end) at its alphabetically first module."""
    start = loop.index(min(loop))
    rotated = loop[start:] + loop[:start]
    return (*rotated, rotated[0])


def test_a_cycle_through_an_import_inside_a_function_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "__init__.py": "",
        "a.py": "from loopy import b\n",
        "b.py": "import loopy.c\n",
        "c.py": "def later():\n    from loopy.a import name\n",
        "d.py": "from loopy import a\n",  # imports into the cycle, is not part of it
    }
    (tmp_path / "loopy").mkdir()
    for name, text in files.items():
        (tmp_path / "loopy" / name).write_text(text)
    monkeypatch.syspath_prepend(tmp_path)

    assert import_cycles("loopy") == [("loopy.a", "loopy.b", "loopy.c", "loopy.a")]
