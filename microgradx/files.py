"""Writing files atomically: a reader sees the old file or the complete new one, never half;
reading only regular files (a FIFO would hang, a device never end)."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMPORARY = (
    ".microgradx.tmp"  # the end of a temporary file's name: .model.json.k2x_8q.microgradx.tmp
)


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], object]) -> None:
    """Call `write(temporary_path)` for a temporary file beside `path`, then rename it to
    `path`. If anything fails, the temporary file is removed and `path` is left as it was.
    An existing file keeps its permissions. Temporary files that earlier writes of `path`
    left behind (a process killed while writing) are removed first."""
    path = destination(path)
    _remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY)
    try:
        _hold(handle)  # locked while this process writes it: not stale
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.chmod(temporary, _mode(path))  # mkstemp makes 0600
        os.replace(temporary, path)
    finally:
        os.close(handle)
        Path(temporary).unlink(missing_ok=True)


def destination(path: str | os.PathLike[str]) -> Path:
    """path as a Path, once it can name a file to write: an error naming it if it is empty or
    an existing folder, before any temporary file is made (which the error would name)."""
    if os.fspath(path) == "":
        raise ValueError("cannot write to an empty path: give a file name, such as model.json")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder; give a file name inside it")
    return path


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading. Anything else (a folder, a FIFO, whose open() would
    wait for a writer for ever, a socket, a device such as /dev/zero) is a ValueError naming
    the path, found before it is opened."""
    _regular(path, os.stat(path).st_mode)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    handle = os.open(path, flags)  # (non-blocking: a FIFO swapped in since cannot hang)
    file = open(handle, "rb")  # noqa: SIM115  (the caller closes it)
    try:
        _regular(path, os.fstat(handle).st_mode)
    except ValueError:
        file.close()
        raise
    return file


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` as UTF-8, atomically."""
    write_atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _regular(path: str | os.PathLike[str], mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in KINDS if test(mode)), "a special file")
        real = os.path.realpath(path)
        link = f" (a link to {real})" if real != os.path.abspath(path) else ""
        raise ValueError(f"{path}{link} is {kind}, not a regular file; give the path of a file")


def _mode(path: Path) -> int:
    """The permissions for the new file: the existing file's, else the usual (0666 - umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except OSError:  # no such file yet
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _hold(handle: int) -> None:
    """Lock a temporary file while it is written, so that no other write removes it as stale
    (the lock ends with the process, however it ends). Where files cannot be locked, nothing."""
    if sys.platform != "win32":
        import fcntl

        with contextlib.suppress(OSError):  # a file system without locks: none are removed
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of earlier writes of `path` whose process is gone (no one
    holds their lock). Anything that fails here is left alone: it never stops a write."""
    if sys.platform == "win32":
        return
    import fcntl

    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        middle = name[len(prefix) : -len(TEMPORARY)]  # mkstemp's random letters, no dots
        if not (name.startswith(prefix) and name.endswith(TEMPORARY) and middle) or "." in middle:
            continue
        candidate = path.parent / name
        try:
            with open(candidate, "rb") as file:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # busy: OSError
                candidate.unlink()
        except OSError:
            continue
