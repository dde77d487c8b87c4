"""The curriculum's shape: every notebook in English and in Chinese with the same code, a map
from every checklist concept to the section that teaches it, and exercises whose solutions
(notebooks/solutions/) pass. `make test` also executes every notebook of both languages (nbmake).
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
ENGLISH = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CHINESE = sorted((NOTEBOOKS / "zh").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = NOTEBOOKS / "solutions"

# The checklist of ../shared/LESSONS.md ("Every concept, to be taught"): how many concepts
# each group has. Every id (A1 to A12, B1 to B6, ...) must be mapped in notebooks/README.md.
CHECKLIST = {"A": 12, "B": 6, "C": 9, "D": 17, "E": 9, "F": 9, "G": 10, "H": 8}
CONCEPTS = [f"{group}{k}" for group, count in CHECKLIST.items() for k in range(1, count + 1)]
CJK = re.compile("[\u4e00-\u9fff]")
EXERCISE = re.compile(r"""name\s*=\s*["']([\w.]+)["']""")
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)#([^)\s]+)\)")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def headings(notebook: nbformat.NotebookNode) -> set[str]:
    """The anchors JupyterLab gives the notebook's headings: the text, spaces as '-'."""
    found = set()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if match := re.match(r"#{1,6}\s+(.+?)\s*$", line):
                    found.add(match.group(1).replace(" ", "-"))
    return found


def test_every_notebook_has_a_chinese_twin_with_the_same_code() -> None:
    assert len(ENGLISH) >= 4
    assert [p.name for p in ENGLISH] == [p.name for p in CHINESE]
    for english, chinese in zip(ENGLISH, CHINESE):
        assert code(read(english)) == code(read(chinese)), f"{chinese.name}: code differs"


def test_the_chinese_prose_is_chinese() -> None:
    """Every markdown cell of a Chinese notebook with words in it has Chinese characters
    (formulas alone excepted), and none is the English cell copied."""
    for english, chinese in zip(ENGLISH, CHINESE):
        prose = [c.source for c in read(english).cells if c.cell_type == "markdown"]
        for cell in read(chinese).cells:
            words = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\([^)]*\)", "", cell.source, flags=re.S)
            if cell.cell_type == "markdown" and re.search(r"[A-Za-z]{4,}\s+[A-Za-z]{4,}", words):
                assert CJK.search(cell.source), f"{chinese.name}: English prose: {cell.source!r}"
                assert cell.source not in prose
            # a line break inside a Chinese sentence shows as a space: one line per paragraph
            broken = re.search(
                "[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]\n[\u4e00-\u9fff]", cell.source
            )
            assert cell.cell_type == "code" or not broken, f"{chinese.name}: {broken}"


def test_each_notebook_opens_with_its_aims_sets_its_language_and_ends_with_exercises() -> None:
    for path in [*ENGLISH, *CHINESE]:
        notebook = read(path)
        first_markdown = next(c for c in notebook.cells if c.cell_type == "markdown")
        assert re.search(r"you will|你将", first_markdown.source), f"{path.name}: no aims"
        assert "lessons.setup()" in code(notebook)[0], f"{path.name}: no lessons.setup()"
        marks = [h.lower() for h in headings(notebook)]
        assert any(h.startswith(("exercises", "练习")) for h in marks), f"{path}: no exercises"


@pytest.mark.parametrize("language", ["", "zh"])
def test_the_map_sends_every_checklist_concept_to_a_section_that_exists(language: str) -> None:
    folder = NOTEBOOKS / language
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in (folder / "README.md").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\|\s*([A-H]\d+)\s*\|", line):
            rows.setdefault(match.group(1), []).extend(LINK.findall(line))
    missing = [concept for concept in CONCEPTS if not rows.get(concept)]
    assert not missing, f"{folder / 'README.md'}: no lesson for {', '.join(missing)}"
    assert set(rows) <= set(CONCEPTS), f"unknown ids: {set(rows) - set(CONCEPTS)}"
    for concept, links in rows.items():
        for target, anchor in links:
            path = folder / target
            assert path.exists(), f"{concept}: {target} does not exist"
            assert anchor in headings(read(path)), f"{concept}: no heading #{anchor} in {target}"


def exercises(notebook: nbformat.NotebookNode) -> dict[str, int]:
    """Each exercise's name -> the index of the code cell that checks it."""
    found: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "lessons.check" in cell.source:
            for name in EXERCISE.findall(cell.source):
                found[name] = index
    return found


def solution_blocks(path: Path) -> dict[str, str]:
    """A solutions file's blocks: `# %% <name>` then the code of the whole exercise cell."""
    blocks = re.split(r"^# %% ([\w.]+)[^\n]*\n", path.read_text(encoding="utf-8"), flags=re.M)
    return {name: body.strip() for name, body in zip(blocks[1::2], blocks[2::2])}


def test_every_exercise_has_a_solution_and_every_solution_an_exercise() -> None:
    for path in ENGLISH:
        names = exercises(read(path))
        assert names, f"{path.name} has no checked exercise"
        solutions = SOLUTIONS / f"{path.stem}.py"
        assert solutions.exists(), f"no solutions for {path.name}: write {solutions}"
        assert set(solution_blocks(solutions)) == set(names), path.name


@pytest.mark.parametrize("path", ENGLISH, ids=[p.stem for p in ENGLISH])
def test_the_solutions_pass_their_checks(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook runs top to bottom with each exercise cell replaced by its solution, and
    every check passes (strict: a wrong or missing answer raises)."""
    from nbclient import NotebookClient

    notebook = read(path)
    blocks = solution_blocks(SOLUTIONS / f"{path.stem}.py")
    for name, index in exercises(notebook).items():
        notebook.cells[index].source = blocks[name]
    monkeypatch.setenv("MICROGRADX_EXERCISES", "strict")
    monkeypatch.setenv("MICROGRADX_LANGUAGE", "en")
    client = NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    for name in blocks:
        assert f"Exercise {name}: right." in printed, f"{path.name}: {name} did not pass"
