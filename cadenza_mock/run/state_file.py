"""The state file's writer while a server runs (`serve --state-file`, `MockServer(state_file=)`):
locked and restored at start, written shortly after changes and at stop.

What goes into the file and how it is read back is `engine/persist.py`; this is when and
from which thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from cadenza_mock.engine import persist
from cadenza_mock.engine.state import MockState

log = logging.getLogger("cadenza_mock")

# The state file is written this long after the last change, and never later than
# STATE_MAX_DELAY after the first unsaved one however steadily changes come.
STATE_DEBOUNCE = 0.5
STATE_MAX_DELAY = 2.0
STATE_POLL = 0.1


class StateFile:
    """Keeps one `MockState` in a state file (`serve --state-file`, `MockServer(state_file=)`).

    `open()` checks that the folder can be written, locks the file (another server on it
    is refused) and restores what it holds (or finds none), so every problem shows at
    start. Then `run()` writes the file, debounced, as the state changes, and `close()`
    writes what is still unsaved and lets the lock go. It polls a cheap change mark rather
    than hooking every transport's changes: nothing a request can change is missed, and no
    code path has to remember to report itself.
    """

    def __init__(
        self, state: MockState, path: Path, restored: bool, lock: persist.StateLock
    ) -> None:
        self.state = state
        self.path = path
        self.restored = restored
        self.lock = lock
        self._lines = persist.RecordLines()  # what the last write encoded, reused
        self._saved = persist.change_mark(state)
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Future[None] | None = None
        self._failing = False

    @classmethod
    def open(cls, state: MockState, path: str | Path) -> StateFile:
        """Restore `state` from the file when there is one; StateFileError (the file left as
        it is) for one that is corrupt, foreign or another scenario's, an unwritable place,
        or a file another cadenza-mock holds."""
        path = Path(path)
        persist.check_writable(path)
        lock = persist.StateLock(path)
        if not lock.supported:
            log.warning("state file %s not locked (no flock here): serve it from one process", path)
        lock.acquire()
        try:
            document = persist.read_document(path)
            if document is not None:
                persist.restore(state, document, f"state file {path}")
        except BaseException:
            lock.release()
            raise
        return cls(state, path, document is not None, lock)

    @property
    def pending(self) -> bool:
        """Changes not in the file yet."""
        return persist.change_mark(self.state) != self._saved

    def start(self) -> None:
        """Write on change from now on (call on the loop that serves the state)."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        seen = self._saved
        first = last = retry_at = 0.0  # when the first unsaved and the latest change were seen
        while True:
            await asyncio.sleep(STATE_POLL)
            mark = persist.change_mark(self.state)
            now = loop.time()
            if mark == self._saved:
                seen = mark
                continue
            if mark != seen:
                if seen == self._saved:
                    first = now
                seen, last = mark, now
            if now < retry_at:
                continue
            due = now - last >= STATE_DEBOUNCE or now - first >= STATE_MAX_DELAY
            if due and not await self._write(loop):
                retry_at = now + STATE_MAX_DELAY  # a full disk is not hammered

    async def _write(self, loop: asyncio.AbstractEventLoop) -> bool:
        # A snapshot is taken on the loop, between requests (a consistent state, in a few
        # list copies); the document (fingerprints), its encoding and the disk happen in a
        # thread, so a big one does not stop the server answering.
        try:
            snap = persist.snapshot(self.state)
            self._writing = loop.run_in_executor(None, self._put, snap)
            # Shielded: cancelled at shutdown, the write in the thread still ends first.
            await asyncio.shield(self._writing)
        except Exception as exc:  # the writer must outlive a full disk, or anything else
            if not self._failing:
                log.error("state file %s not written (%s); retrying", self.path, exc)
            self._failing = True
            return False
        if self._failing:
            log.info("state file %s written again", self.path)
        self._failing = False
        self._saved = snap.mark
        return True

    def _put(self, snap: persist.Snapshot) -> None:
        persist.write_file(self.path, persist.encode(persist.document_of(snap, self._lines)))

    async def close(self) -> None:
        """Stop writing on change, then write what is still unsaved (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writing is not None:  # a write in a thread ends before the last one begins
            await asyncio.wait([self._writing])
        self.flush()
        self.lock.release()

    def flush(self) -> None:
        """Write now if anything is unsaved (synchronously; the server must not be serving
        from another thread meanwhile)."""
        if not self.pending:
            return
        snap = persist.snapshot(self.state)
        try:
            self._put(snap)
        except Exception as exc:  # whatever it is, the server still stops cleanly
            log.error("state file %s not written at shutdown: %s", self.path, exc)
            return
        self._saved = snap.mark
