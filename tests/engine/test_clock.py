"""The mock clock (no server): frozen or real time, moved forward only, bounded by the
last instant an ISO twin can show, and put back by a reset."""

from __future__ import annotations

import time

import pytest

from cadenza_mock.engine.clock import LAST_MS, Clock

NOW = 1_768_478_400_000


def test_a_frozen_clock_stands_still_until_advanced():
    clock = Clock(NOW)
    assert clock.now_ms() == clock.now_ms() == NOW
    assert clock.advance(1.5) == NOW + 1500
    assert clock.advance(0) == NOW + 1500
    assert clock.advance(0.0004) == NOW + 1500  # rounded to whole milliseconds
    clock.reset()
    assert clock.now_ms() == NOW


def test_a_live_clock_follows_real_time_plus_its_advances():
    clock = Clock()
    before = int(time.time() * 1000)
    seen = clock.now_ms()
    after = int(time.time() * 1000)
    assert before <= seen <= after
    clock.advance(3600)
    assert clock.now_ms() >= after + 3_600_000


@pytest.mark.parametrize("seconds", [-1, -0.001])
def test_the_clock_never_moves_back(seconds):
    clock = Clock(NOW)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(seconds)
    assert clock.now_ms() == NOW


def test_room_is_what_is_left_before_the_year_10000():
    assert LAST_MS == 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
    clock = Clock(NOW)
    assert clock.room_ms() == LAST_MS - NOW
    clock.advance(clock.room_ms() / 1000)
    assert clock.now_ms() == LAST_MS and clock.room_ms() == 0
