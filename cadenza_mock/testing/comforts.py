"""What the fixture API adds for a downstream suite's comfort: waiting for requests still
in flight before reading the journal, count assertions that name the journal's bound,
and putting the mock's clock where a test wants it. Shared by MockServer and RemoteMock
through MockHandle; each supplies `_in_flight_after`, `journal_size` and `_set_clock`."""

from __future__ import annotations

from datetime import datetime

from cadenza_mock.engine.clock import instant_ms
from cadenza_mock.engine.journal import JournalEntry

# Seconds `wait_idle()` and a journal read with `wait=True` wait at most for requests in
# flight (a delayed call whose client gave up is journaled when the server notices).
DEFAULT_WAIT = 5.0


class HandleComforts:
    """Mixed into MockHandle: journal waits, the journal's bound, clock placement."""

    @property
    def url(self) -> str:
        raise NotImplementedError  # MockHandle's

    # ----------------------------------------------------------------- waiting, the cap

    def wait_idle(self, timeout: float = DEFAULT_WAIT) -> None:
        """Wait until no API request is in flight, so the journal holds every request sent
        so far (a delayed one whose client gave up included, in its arrival place).
        TimeoutError, saying how many are still in flight, after `timeout` seconds."""
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
            raise ValueError(f"wait_idle: timeout must be seconds, 0 or more, got {timeout!r}")
        left = self._in_flight_after(float(timeout))
        if left:
            raise TimeoutError(
                f"cadenza-mock at {self.url}: {left} request(s) still in flight after "
                f"{timeout:g} s (a delay fault longer than that?)"
            )

    def _in_flight_after(self, timeout: float) -> int:
        """How many API requests are still in flight after waiting up to `timeout` s for
        none (0 when unknowable)."""
        return 0

    @property
    def journal_size(self) -> int | None:
        """How many entries the journal keeps (the oldest fall off); None if unknown."""
        return None

    def _wait_for_journal(self, caller: str, wait: bool | float) -> None:
        if wait is False:
            return
        if wait is True:
            self.wait_idle(DEFAULT_WAIT)
        elif isinstance(wait, int | float) and wait >= 0:
            self.wait_idle(float(wait))
        else:
            raise ValueError(f"{caller}: wait must be True, False or seconds, got {wait!r}")

    # ----------------------------------------------------------------- the clock

    def freeze(self, at: int | str | datetime | None = None) -> int:
        """Stop the mock's clock at `at` (ms, ISO-8601 or a datetime; None: where it
        stands); return it in ms. Records are stamped from it; tokens keep following the
        wall clock (plus `advance()`), so a client checking `exp` still trusts them."""
        return self._set_clock(None if at is None else instant_ms(at, "freeze(at)"), True)

    def set_now(self, at: int | str | datetime) -> int:
        """Put the mock's clock at `at` (ms, ISO-8601 or a datetime), frozen or running
        as it was; return it in ms. `reset()` goes back to the scenario's `now`."""
        return self._set_clock(instant_ms(at, "set_now(at)"), None)

    def unfreeze(self) -> int:
        """Let the mock's clock run from where it stands (as a scenario with `now: null`)."""
        return self._set_clock(None, False)

    def _set_clock(self, at_ms: int | None, frozen: bool | None) -> int:
        """Put the clock at `at_ms` (None: where it stands), `frozen` or not (None: as it
        is); the new time in ms."""
        raise NotImplementedError

    def _journal_cap_note(self, entries: list[JournalEntry], times: int) -> str:
        """What a count assertion must say when the journal's bound hid requests."""
        size = self.journal_size
        if size is None or (times <= size and len(entries) < size):
            return ""
        return (
            f"the journal keeps the newest {size} entries (--journal-size, "
            f"--cadenza-journal-size; {len(entries)} kept now), so older calls may have "
            "fallen off; "
        )
