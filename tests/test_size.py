"""The core stays small enough to read in one sitting (tinygrad's habit: a budget, tested).

The budget covers what a reader of engine.py must read: engine.py and every module of the
package that it needs at run time, directly or through another module. The list is found
from the code (the import graph), so a module moved out of engine.py still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

import microgradx

CORE = "microgradx.engine"
BUDGET = 670  # lines of code: not blank, not a comment, not a docstring (400 before the
# weighted-sum row: its batch forward and stacked derivatives, the engine's n-ary path, and
# each local derivative written by the table for captions; 480: the walk order pictures choose;
# 515: the lecture's names on Value, which learners' own code reads: _prev, _op, the
# Value(data, _children, _op, label) constructor and its error, and _backward(explain=True),
# one node's step of the same backward walk, said in words; 516: UNREACHED, the 0.0 gradient
# no backward() reached, which optimizers skip as PyTorch does; 531: a batch checked for inf
# and nan as a number is, the error naming the first example, and NumPy's warning kept quiet;
# 539: a batch input's gradient checked as a number's is, and math's overflow named as one;
# 580: a layer's nodes recorded together, record_each and the rows' forward_each (its
# weighted sums one matrix product, its activations one NumPy call), gradients added in place;
# 658: backward takes a layer's weighted sums together, as record_each made and marked them:
# the row's local derivatives of all of them as one array, their contributions by matrix
# products, an input they share summed once, and one at a time wherever that cannot be;
# 662: those local derivatives as small blocks that broadcast (x the same for every neuron,
# w for every example), each contracted by the matrix product its shape allows; 667: a
# weighted sum tells numbers from batches by one sum of its inputs, not a look at each one;
# 669: a layer's batch of one example goes one node at a time, as a number would; 670: the
# weighted sum's W and X built by one helper for its forward_each and local_grads_each)


def test_the_engine_and_what_it_needs_fit_the_budget() -> None:
    package = Path(microgradx.__file__).parent
    counts = {
        module: lines_of_code(source_file(package, module))
        for module in sorted(needed_at_run_time(CORE))
    }
    total = sum(counts.values())
    table = "\n".join(f"  {module}: {count}" for module, count in counts.items())
    assert total <= BUDGET, f"{total} lines of code, over the budget of {BUDGET}:\n{table}"


def needed_at_run_time(module: str) -> set[str]:
    """`module` and every module of its package that it imports, directly or not.

    Imports inside functions count (they run when the function does); `if TYPE_CHECKING:`
    imports do not (they never run). `from package import submodule` counts the submodule,
    not the package's `__init__`.
    """
    package = module.partition(".")[0]
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    return {module} | graph.find_upstream_modules(module)


def source_file(package: Path, module: str) -> Path:
    """The file that holds `module` ("microgradx.viz.scene" -> package/viz/scene.py)."""
    path = package.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


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


def test_the_counter_counts_code_only(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Doc."""\n\n# comment\nx = 1\n\n\ndef f():\n    """Doc."""\n    return x\n'
    )
    assert lines_of_code(sample) == 3


def test_what_a_module_needs_follows_every_import_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "__init__.py": "",
        "core.py": (
            "from typing import TYPE_CHECKING\n"
            "from tiny import table\n"
            "if TYPE_CHECKING:\n"
            "    from tiny import annotations_only\n"
            "def later():\n"
            "    from tiny.helpers import helper\n"
        ),
        "table.py": "import tiny.leaf\n",  # needed through table
        "leaf.py": "",
        "helpers.py": "def helper(): ...\n",
        "annotations_only.py": "",
        "unrelated.py": "from tiny import core\n",  # imports core, is not needed by it
    }
    (tmp_path / "tiny").mkdir()
    for name, text in files.items():
        (tmp_path / "tiny" / name).write_text(text)
    monkeypatch.syspath_prepend(tmp_path)

    assert needed_at_run_time("tiny.core") == {
        "tiny.core",
        "tiny.table",
        "tiny.leaf",
        "tiny.helpers",
    }
    assert source_file(tmp_path / "tiny", "tiny.leaf") == tmp_path / "tiny" / "leaf.py"
