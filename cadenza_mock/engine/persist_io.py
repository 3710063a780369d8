"""The state file on disk: its bytes, the atomic replace, the start-up checks, the lock.

Split from `engine.persist` (which turns a state into a document and back) so that each
stays short; `persist` re-exports what callers use.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

if sys.platform != "win32":
    import fcntl


class StateFileError(ValueError):
    """A state file that cannot be used; the message (one line) names it, what is wrong and
    what to do. The file itself is left as it is."""


# ----------------------------------------------------------------- the bytes

# json's C encoder, called once per line: a big file costs a fraction of what `indent`
# costs (its pure-Python encoder), in many short calls, none holding the GIL for long.
_inline = json.JSONEncoder(ensure_ascii=False).encode


class Encoded(str):
    """A record already encoded (a line `RecordLines` kept): written as it is."""

    __slots__ = ()


class RecordLines:
    """Each record's line from the previous write, reused while the record is the same
    object (records are frozen: a change replaces the object) and the store and its salt
    are the same, so a write fingerprints and encodes only what changed since the last.
    One per writer, used by one thread at a time; records gone since are dropped."""

    def __init__(self) -> None:
        self._key: tuple[object, bytes] | None = None
        self._held: dict[int, tuple[object, Encoded]] = {}
        self._used: dict[int, tuple[object, Encoded]] = {}

    def begin(self, store: object, salt: bytes) -> None:
        if self._key is None or self._key[0] is not store or self._key[1] != salt:
            self._held = {}  # another store (a load) or salt: every line differs
        self._key = (store, salt)  # held, so neither id can be reused while cached
        self._used = {}

    def line(self, record: object, make: Callable[[], Any]) -> Encoded:
        """`record`'s line: the one kept for this very object, or `make()` encoded now."""
        held = self._held.get(id(record))
        if held is None or held[0] is not record:
            held = (record, Encoded(_inline(make())))
        self._used[id(record)] = held
        return held[1]

    def end(self) -> None:
        self._held, self._used = self._used, {}


def _json(value: Any, level: int) -> str:
    """The top-level object and the objects in it laid out one key to a line, their lists
    one item (a record) to a line; anything deeper on the line it belongs to."""
    pad, end = " " * (level + 1), "\n" + " " * level
    if isinstance(value, dict) and value and level < 2:
        members = (f"{pad}{_inline(key)}: {_json(item, level + 1)}" for key, item in value.items())
        return "{\n" + ",\n".join(members) + end + "}"
    if isinstance(value, list) and value and level < 3:
        lines = (item if isinstance(item, Encoded) else _inline(item) for item in value)
        return "[\n" + ",\n".join(pad + line for line in lines) + end + "]"
    return _inline(value)


def encode(document: Mapping[str, Any]) -> bytes:
    """The file's bytes: JSON a person can read, one record to a line. A lone surrogate (a
    scenario's YAML may hold one) is written escaped, as `wire.dumps` does, and reads back
    the same."""
    return (_json(dict(document), 0) + "\n").encode("utf-8", "backslashreplace")


# ----------------------------------------------------------------- the file


def write_file(path: Path, data: bytes) -> None:
    """Replace the file atomically: a temporary file in the same folder (created readable
    by its owner only, which the rename keeps), flushed to disk, then renamed over it, so a
    reader (or a crash) sees the old file or the new, never part of one. OSError if it
    cannot be written; no temporary file is left behind."""
    folder = path.parent
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    # The rename itself is durable once the folder is synced (where the OS allows it).
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def check_writable(path: Path) -> None:
    """StateFileError unless a state file can be written at `path` (checked at start, by
    writing and removing a temporary file beside it, not when the first change comes)."""
    where = f"state file {path}"
    if path.is_dir():
        raise StateFileError(f"{where}: is a folder; give the path of a file in it")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)  # as --tls-ca-file does
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise StateFileError(
            f"{where}: folder {folder} cannot be written ({exc.strerror or exc}); "
            "give a folder this user may write (in a container: a writable volume)"
        ) from None
    os.close(handle)
    os.unlink(temp)


# ----------------------------------------------------------------- the lock


class StateLock:
    """An exclusive lock on `PATH.lock` beside the state file: two servers on one file
    would issue the same ids and each overwrite the other's changes, so the second refuses.

    flock: the kernel releases it when the process ends, however it ends (kill -9
    included), so a stale lock cannot stop a start. The lock file holds the holder's
    process id only, and stays: removing it at exit would let a third server lock a new
    file while a second still held the old one. Where there is no flock (Windows) nothing is
    locked, and `open` says so in the log.
    """

    supported = sys.platform != "win32"

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.path = state_file.with_name(state_file.name + ".lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock unless held already; StateFileError (one line, naming the file) if
        another process holds it or the lock file cannot be opened."""
        if self._fd is not None or not self.supported:
            return
        where = f"state file {self.state_file}"
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise StateFileError(
                f"{where}: its lock file {self.path} cannot be opened ({exc.strerror or exc}); "
                "give a folder this user may write"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise StateFileError(
                f"{where}: another cadenza-mock{holder} holds it (lock {self.path}); stop that "
                "one first, or give this one another state file"
            ) from None
        with contextlib.suppress(OSError):  # who holds it, for the message above
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let another process take it (at stop; process exit does the same)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:
        self.release()


def _holder(fd: int) -> str:
    """' (process N)' from the lock file another process holds, if it says."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {text})" if text.isdigit() else ""
