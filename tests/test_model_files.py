"""Model files from careless or hostile hands: nn.load checks everything before it builds, reads
a bounded number of bytes, and says what is wrong as a ValueError naming the file; nn.save
keeps the file's permissions and cleans up after a save that was killed (issue 14)."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from microgradx import files, nn

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="resource limits, flock: POSIX")


def saved(tmp_path: Path, model: nn.Module, name: str = "model.json") -> dict[str, Any]:
    """Save `model` under tmp_path and return the file's document."""
    nn.save(model, tmp_path / name)
    document: dict[str, Any] = json.loads((tmp_path / name).read_text())
    return document


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def load_in_a_small_process(path: Path, *, megabytes: int = 512, seconds: float = 60) -> str:
    """nn.load(path) in a child process that may use `megabytes` of memory and `seconds` of
    time (a load that allocates or reads without end fails there, and cannot hang the suite);
    returns the ValueError's message, or fails saying what happened instead."""
    program = textwrap.dedent(f"""
        import resource, sys
        limit = {megabytes} * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from microgradx import nn
        try:
            nn.load(sys.argv[1])
        except ValueError as error:
            print(error)
            sys.exit(3)
        """)
    environment = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", program, str(path)],
            capture_output=True, text=True, timeout=seconds, env=environment,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"nn.load({path.name}) ran for more than {seconds} s")
    assert done.returncode == 3, f"not a ValueError (exit {done.returncode}): {done.stderr[-500:]}"
    return done.stdout.strip()


# --- sizes: checked against the file before anything is built ------------------------------


@posix_only
@pytest.mark.parametrize(
    "change",
    [{"nin": 1_000_000_000}, {"nouts": [100_000, 100_000, 1]}],
    ids=["nin", "nouts"],
)
def test_a_small_file_with_a_huge_architecture_is_refused_in_little_memory(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    document = saved(tmp_path, nn.MLP(2, [3, 1], seed=0))
    document["architecture"].update(change)
    path = write(tmp_path / "huge.json", document)
    assert path.stat().st_size < 1000
    message = load_in_a_small_process(path, megabytes=512)
    assert "huge.json" in message and "implies" in message and "holds 13" in message


ENORMOUS = [
    ("MLP", {"nin": 10**9}),
    ("MLP", {"nouts": [10**5, 10**5, 1]}),
    ("MLP", {"nouts": [1] * 10**5}),
    ("MLP", {"nin": 10**400}),
    ("MLP", {"nouts": [10**4000, 10**4000, 1]}),
    ("Layer", {"nin": 10**9, "nout": 10**9}),
    ("Neuron", {"nin": 10**12}),
    ("BatchNorm", {"n": 10**9}),
]


@pytest.mark.parametrize("kind, change", ENORMOUS)
def test_sizes_are_checked_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, change: dict[str, Any]
) -> None:
    small = {
        "MLP": nn.MLP(2, [3, 1]), "Layer": nn.Layer(2, 3), "Neuron": nn.Neuron(2),
        "BatchNorm": nn.BatchNorm(2),
    }[kind]  # fmt: skip
    document = saved(tmp_path, small)
    document["architecture"].update(change)
    path = write(tmp_path / "enormous.json", document)

    def built(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("nn.load built a module before checking the sizes")

    for module in (nn.Neuron, nn.BatchNorm):
        monkeypatch.setattr(module, "__init__", built)
    with pytest.raises(
        ValueError, match=r"enormous\.json: .* implies (about 10\^)?[\d,]+ parameters"
    ):
        nn.load(path)


@given(
    kind=st.sampled_from(["MLP", "Layer", "Neuron", "BatchNorm"]),
    nin=st.integers(1, 4),
    nouts=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    batch_norm=st.booleans(),
)
def test_the_parameters_an_architecture_implies_are_those_the_model_has(
    kind: str, nin: int, nouts: list[int], batch_norm: bool
) -> None:
    """The count and names nn.load computes from an architecture, without building it, are
    those of the model built from it (the oracle: the model itself)."""
    model = {
        "MLP": lambda: nn.MLP(nin, nouts, batch_norm=batch_norm),
        "Layer": lambda: nn.Layer(nin, nouts[0], batch_norm=batch_norm),
        "Neuron": lambda: nn.Neuron(nin),
        "BatchNorm": lambda: nn.BatchNorm(nin),
    }[kind]()
    architecture = model.architecture()
    names = list(model.state_dict())
    assert nn._parameter_count(kind, architecture) == len(names)
    assert list(nn._parameter_names(kind, architecture)) == names


# --- reading: a bounded number of bytes -----------------------------------------------------


@posix_only
def test_a_file_that_never_ends_is_refused_unread(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    message = load_in_a_small_process(link, megabytes=512)
    assert f"{link} (a link to /dev/zero) is a character device, not a regular file" in message


def test_max_bytes_limits_what_load_reads(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    nn.save(model, tmp_path / "model.json")
    size = (tmp_path / "model.json").stat().st_size
    with pytest.raises(ValueError, match=rf"model\.json is larger than max_bytes={size - 1:,}"):
        nn.load(tmp_path / "model.json", max_bytes=size - 1)
    assert nn.load(tmp_path / "model.json", max_bytes=size).state_dict() == model.state_dict()
    for wrong in (0, -5, 1.5, True):
        with pytest.raises(ValueError, match="max_bytes must be a whole number"):
            nn.load(tmp_path / "model.json", max_bytes=wrong)  # type: ignore[arg-type]


# --- fields: only the architecture's own, every problem a ValueError naming the file ---------


@pytest.mark.parametrize(
    "kind, field, value",
    [
        ("MLP", "rng", 5),
        ("MLP", "seed", 0),
        ("MLP", "expanded", True),
        ("Neuron", "nout", 3),
        ("Layer", "nouts", [3]),
        ("BatchNorm", "nin", 2),
    ],
)
def test_only_the_architectures_own_fields_are_accepted(
    tmp_path: Path, kind: str, field: str, value: Any
) -> None:
    small = {"MLP": nn.MLP(2, [3, 1]), "Layer": nn.Layer(2, 3), "Neuron": nn.Neuron(2),
             "BatchNorm": nn.BatchNorm(2)}[kind]  # fmt: skip
    document = saved(tmp_path, small)
    document["architecture"][field] = value
    path = write(tmp_path / "extra.json", document)
    with pytest.raises(ValueError, match=rf"extra\.json: .*unknown fields '{field}'.*may have"):
        nn.load(path)


def test_a_missing_size_is_named(tmp_path: Path) -> None:
    document = saved(tmp_path, nn.MLP(2, [3, 1]))
    del document["architecture"]["nouts"]
    with pytest.raises(ValueError, match=r"lacking\.json: the MLP architecture has no 'nouts'"):
        nn.load(write(tmp_path / "lacking.json", document))


@pytest.mark.parametrize("version", [True, 1.0, "1", None, [1]])
def test_only_the_number_1_is_version_1(tmp_path: Path, version: Any) -> None:
    document = saved(tmp_path, nn.Neuron(2))
    document["version"] = version
    with pytest.raises(ValueError, match=r"v\.json has model format version"):
        nn.load(write(tmp_path / "v.json", document))


# --- load_state_dict: NumPy numbers are numbers ----------------------------------------------

NUMPY_TYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint16]


@given(
    kind=st.sampled_from(NUMPY_TYPES), numbers=st.lists(st.integers(0, 120), min_size=3, max_size=3)
)
def test_load_state_dict_takes_numpy_numbers(kind: type[Any], numbers: list[int]) -> None:
    """A NumPy number is a number: the model holds its value as a float (the oracle: float())."""
    neuron = nn.Neuron(2)
    values = [x / 4 - 15 if np.dtype(kind).kind == "f" else x for x in numbers]
    state = {name: kind(x) for name, x in zip(["w1", "w2", "b"], values)}
    neuron.load_state_dict(state)
    assert neuron.state_dict() == {name: float(x) for name, x in state.items()}


@pytest.mark.parametrize(
    "number, reason",
    [
        (np.float32("inf"), "must be a finite number, got np.float32(inf)"),
        (np.float64("nan"), "must be a finite number, got np.float64(nan)"),
        ("0.5", "must be a finite number (an int or a float), got str '0.5'"),
        (np.bool_(True), "must be a finite number (an int or a float), got bool np.True_"),
        (10**400, "must be a finite number, got 1000000000"),
        (10**5000, "must be a finite number, got an int too long to print"),
    ],
    ids=["float32 inf", "nan", "text", "NumPy bool", "10**400", "10**5000"],
)
def test_load_state_dict_says_why_it_refuses_a_number(number: Any, reason: str) -> None:
    neuron = nn.Neuron(2)
    before = neuron.state_dict()
    with pytest.raises(ValueError, match=re.escape(f"parameter 'w2' {reason}")):
        neuron.load_state_dict({"w1": 1.0, "w2": number, "b": 0.0})
    assert neuron.state_dict() == before


# --- saving: permissions kept, stale temporary files removed ---------------------------------


@posix_only
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(mode=st.integers(0o400, 0o777))
def test_save_keeps_the_files_permissions(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "model.json"
    path.unlink(missing_ok=True)
    nn.save(nn.Neuron(2), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~files._umask()  # a new file
    path.chmod(mode)
    nn.save(nn.Neuron(2, seed=1), path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert nn.load(path).state_dict() == nn.Neuron(2, seed=1).state_dict()


WRITER = """
import sys, time
from pathlib import Path
from microgradx import files

def write(temporary):
    Path(temporary).write_text("half a model")
    print(Path(temporary).name, flush=True)
    time.sleep(120)

files.write_atomically(sys.argv[1], write)
"""


def start_a_slow_save(path: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process that is writing `path` (and takes minutes), and its temporary file."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
        env=environment,
    )  # fmt: skip
    assert writer.stdout is not None
    temporary = path.parent / writer.stdout.readline().strip()
    writer.stdout.close()
    assert temporary.is_file() and temporary != path.parent
    return writer, temporary


@posix_only
def test_a_save_killed_midway_leaves_a_file_the_next_save_removes(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    nn.save(nn.Neuron(2), path)
    others = [".model.json.backup.tmp", ".other.json.k2x_8q.microgradx.tmp", "model.json.tmp"]
    for name in others:  # not temporary files of this model's saves: never touched
        (tmp_path / name).write_text("keep me")
    writer, temporary = start_a_slow_save(path)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert temporary.is_file()  # what a killed save leaves behind
    nn.save(nn.Neuron(2, seed=1), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.json", *others])
    assert nn.load(path).state_dict() == nn.Neuron(2, seed=1).state_dict()


@posix_only
def test_a_save_in_progress_elsewhere_keeps_its_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    writer, temporary = start_a_slow_save(path)
    try:
        nn.save(nn.Neuron(2), path)
        assert temporary.read_text() == "half a model"  # still being written: not stale
    finally:
        writer.kill()
        writer.wait(timeout=30)


# --- any mutation of a valid file: a ValueError naming the file, or the whole model ---------

JSON_LEAVES = (
    st.sampled_from([True, False, None, 0, 1, -1, 10**9, 10**30, 2.5, "relu", "MLP", [], {}])
    | st.integers() | st.floats() | st.text(max_size=4)
)  # fmt: skip
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(
    ["rng", "seed", "expanded", "nout", "nin", "n", "batch_norm", "type"]
) | st.text(max_size=6)


def models() -> st.SearchStrategy[nn.Module]:
    sizes = st.integers(1, 3)
    flags = st.booleans()
    return st.one_of(
        st.builds(lambda a, b, n: nn.MLP(a, b, batch_norm=n, seed=0), sizes,
                  st.lists(sizes, min_size=1, max_size=3), flags),
        st.builds(lambda a, b, n: nn.Layer(a, b, batch_norm=n, seed=0), sizes, sizes, flags),
        st.builds(lambda a: nn.Neuron(a, seed=0), sizes),
        st.builds(nn.BatchNorm, sizes),
    )  # fmt: skip


def places(document: Any) -> list[tuple[Any, Any]]:
    """(container, key) for every value inside a JSON document."""
    found: list[tuple[Any, Any]] = []
    stack = [document]
    while stack:
        container = stack.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            found.append((container, key))
            if isinstance(container[key], (dict, list)):
                stack.append(container[key])
    return found


def mutate(document: dict[str, Any], data: st.DataObject) -> None:
    """Remove, retype, resize or add one value: half the time a field of the document or of
    its architecture (where a wrong value does most harm), else anywhere."""
    everywhere = places(document)
    fields = [(container, key) for container, key in everywhere
              if container is document or container is document.get("architecture")]  # fmt: skip
    container, key = data.draw(st.sampled_from(data.draw(st.sampled_from([fields, everywhere]))))
    action = data.draw(st.sampled_from(["remove", "retype", "resize", "add"]))
    if action == "remove":
        del container[key]
    elif action == "retype":
        container[key] = copy.deepcopy(data.draw(JSON_VALUES))  # (not a shared [] or {})
    elif action == "resize" and isinstance(container[key], (int, float)):
        container[key] = container[key] + data.draw(st.sampled_from([-2, -1, 1, 2, 10**6]))
    elif action == "add":
        target = container if isinstance(container, dict) else document
        target[data.draw(KEYS)] = copy.deepcopy(data.draw(JSON_VALUES))


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=200
)
@given(model=models(), data=st.data())
def test_any_mutation_of_a_model_file_is_a_value_error_naming_it_or_a_whole_model(
    tmp_path: Path, model: nn.Module, data: st.DataObject
) -> None:
    document = saved(tmp_path, model)
    for _ in range(data.draw(st.integers(1, 3))):
        mutate(document, data)
    text = json.dumps(document)
    if data.draw(st.booleans()):
        text = text[: data.draw(st.integers(0, len(text)))]
    path = tmp_path / "mutated.json"
    path.write_text(text)
    try:
        loaded = nn.load(path)
    except ValueError as error:
        assert "mutated.json" in str(error)
        event("refused")
        return
    event("loaded")
    # Loaded: then the file was a whole, valid model, and all of it is in the model.
    read = json.loads(text)
    assert type(read["version"]) is int and read["version"] == 1
    assert loaded.state_dict() == {k: float(v) for k, v in read["parameters"].items()}
    assert loaded.buffer_dict() == {k: float(v) for k, v in read.get("buffers", {}).items()}
    expected = {"batch_norm": False, **copy.deepcopy(read["architecture"])}
    assert {"batch_norm": False, **loaded.architecture()}.items() >= expected.items()
