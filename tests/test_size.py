"""The core stays small enough to read in one sitting (tinygrad's habit: a budget, tested)."""

from __future__ import annotations

import ast
from pathlib import Path

import microgradx

CORE = ["engine.py", "ops.py"]
BUDGET = 300  # lines of code: not blank, not a comment, not a docstring


def lines_of_code(path: Path) -> int:
    source = path.read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        value = getattr(node, "value", None)
        if (
            isinstance(node, ast.Expr)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            docstrings.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return sum(
        1
        for number, line in enumerate(source.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and number not in docstrings
    )


def test_the_engine_and_the_op_table_fit_the_budget() -> None:
    package = Path(microgradx.__file__).parent
    counts = {name: lines_of_code(package / name) for name in CORE}
    assert sum(counts.values()) <= BUDGET, f"{counts}: over {BUDGET} lines of code"


def test_the_counter_counts_code_only(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Doc."""\n\n# comment\nx = 1\n\n\ndef f():\n    """Doc."""\n    return x\n'
    )
    assert lines_of_code(sample) == 3
