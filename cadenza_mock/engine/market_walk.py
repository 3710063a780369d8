"""One instrument's price path: a seeded random walk on the mock clock, in whole ticks.

The walk is a pure function of (seed, instrument, minute): nothing runs while the server
is idle, and a read after the clock moved a year computes only what it reads. It is built
top-down so any point costs a few dozen draws, not one per minute since the start:

- day points (every 1440 minutes from the market's origin) walk from the starting price,
  one seeded draw a day (backwards too, for history before the origin);
- the 24 hour points of a day are a bridge between its two day points: seeded steps,
  corrected so they end where the next day starts;
- the 60 minute points of an hour are a bridge between its hour points, likewise;
- between two minute points the price moves linearly, second by second, rounded down to
  the tick, so a candle's extremes are extremes of minute points and its two ends.

Draws are 32-bit words of `random.Random` seeded by text (seeded.py): integer arithmetic
only, so every machine computes the same path. Prices never fall below `floor` ticks.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from decimal import Decimal
from itertools import accumulate

from cadenza_mock.contract.market_catalogue import InstrumentSpec
from cadenza_mock.seeded import reseed, rng_for, seed_text

MINUTE_MS = 60_000
HOUR = 60  # minutes
DAY = 1440  # minutes
_MINUTE_CACHE = 256  # hours whose minute points are kept
_HOUR_CACHE = 100_000  # hour summaries kept (a few MB at most)

# (open, high, low, close, volume in lots) of a span of minute points, ends included.
Summary = tuple[int, int, int, int, int]


def _uniform(words: tuple[int, ...], k: int) -> list[int]:
    """Steps in [-k, k] from 32-bit words (k = 0: no move)."""
    width = 2 * k + 1
    return [w % width - k for w in words]


def _bridge(a: int, b: int, steps: list[int]) -> list[int]:
    """len(steps) + 1 points from a to b: the steps' path, tilted to end at b."""
    count = len(steps)
    sums = list(accumulate(steps, initial=0))
    gap = sums[-1] - (b - a)
    return [a + s - (i * gap) // count for i, s in enumerate(sums)]


class Walk:
    """The price path of one instrument from its origin minute (ticks, lots)."""

    def __init__(self, seed: int, spec: InstrumentSpec, origin_ms: int) -> None:
        self.spec = spec
        self.seed = seed
        self.key = spec.instrument_id
        self.origin_ms = origin_ms - origin_ms % MINUTE_MS
        self.tick = spec.pip_size
        self.start = int(spec.price / spec.pip_size)
        self.floor = max(1, self.start // 100)
        # A minute's step is uniform in [-k, k]: its standard deviation is about
        # k / sqrt(3); a day's (1440 of them) about the volatility times the price.
        sigma = spec.price * spec.volatility / spec.pip_size  # a day's, in ticks
        three = Decimal(3).sqrt()
        self.k_minute = int((sigma / Decimal(DAY).sqrt() * three).to_integral_value())
        self.k_hour = int((sigma / Decimal(24).sqrt() * three).to_integral_value())
        self.k_day = int((sigma * three).to_integral_value())
        # Lots a minute trades: uniform in [0, 2 * level]; a book level holds about
        # `level` lots (worth some 50,000 of the quote asset).
        self.level_lots = max(1, int(Decimal(50_000) / (spec.price * spec.lot_size)))
        self._days: dict[int, int] = {0: self.start}
        self._low_day = 0
        self._high_day = 0
        self._hours: dict[int, list[int]] = {}  # day -> its 25 hour points
        self._minutes: OrderedDict[int, tuple[list[int], list[int]]] = OrderedDict()
        self._summaries: dict[int, Summary] = {}  # hour -> summary
        self._day_summaries: dict[int, Summary] = {}
        self._rng = rng_for(seed, "walk")
        # Prices set outright (admin API, handle): from each instant (a whole second) on,
        # the walk is moved by that many ticks. In time order; a reset empties it.
        self.shifts: list[tuple[int, int]] = []
        # Halts (engine/market_control.py): from each instant to the resume (None: still
        # halted) the price is the halt's, and nothing trades. In time order.
        self.freezes: list[tuple[int, int | None, int]] = []

    # --------------------------------------------------------------- draws

    def _words(self, n: int, *position: object) -> tuple[int, ...]:
        rng = reseed(self._rng, seed_text(self.seed, "walk", self.key, *position))
        return struct.unpack(f"<{n}I", rng.getrandbits(32 * n).to_bytes(4 * n, "little"))

    # --------------------------------------------------------------- points

    def day_point(self, day: int) -> int:
        days = self._days
        while day > self._high_day:
            d = self._high_day
            days[d + 1] = days[d] + _uniform(self._words(1, "day", d), self.k_day)[0]
            self._high_day = d + 1
        while day < self._low_day:
            d = self._low_day - 1
            days[d] = days[d + 1] - _uniform(self._words(1, "day", d), self.k_day)[0]
            self._low_day = d
        return days[day]

    def _hour_points(self, day: int) -> list[int]:
        points = self._hours.get(day)
        if points is None:
            steps = _uniform(self._words(24, "hours", day), self.k_hour)
            points = _bridge(self.day_point(day), self.day_point(day + 1), steps)
            if len(self._hours) > 4 * _MINUTE_CACHE:
                self._hours.clear()
            self._hours[day] = points
        return points

    def hour_point(self, hour: int) -> int:
        day, within = divmod(hour, 24)
        return self._hour_points(day)[within]

    def minute_points(self, hour: int) -> tuple[list[int], list[int]]:
        """The 61 minute points of an hour (floored) and its 60 minutes' volumes (lots)."""
        found = self._minutes.get(hour)
        if found is not None:
            self._minutes.move_to_end(hour)
            return found
        words = self._words(120, "minutes", hour)
        steps = _uniform(words[:60], self.k_minute)
        raw = _bridge(self.hour_point(hour), self.hour_point(hour + 1), steps)
        floor = self.floor
        points = [p if p > floor else floor for p in raw]
        width = 2 * self.level_lots + 1
        volumes = [w % width for w in words[60:]]
        found = (points, volumes)
        self._minutes[hour] = found
        if len(self._minutes) > _MINUTE_CACHE:
            self._minutes.popitem(last=False)
        return found

    def minute_point(self, minute: int) -> int:
        hour, within = divmod(minute, HOUR)
        return self.minute_points(hour)[0][within]

    # --------------------------------------------------------------- time

    def minute_of(self, ms: int) -> tuple[int, int]:
        """(minute index, seconds into it) of an instant."""
        minute, rest = divmod(ms - self.origin_ms, MINUTE_MS)
        return minute, rest // 1000

    def minute_ms(self, minute: int) -> int:
        return self.origin_ms + minute * MINUTE_MS

    def shift_at(self, ms: int) -> int:
        found = 0
        for at, shift in self.shifts:
            if at > ms:
                break
            found = shift
        return found

    def set_price(self, ms: int, ticks: int) -> None:
        """From the second holding `ms` on, the price is `ticks` and walks on from there (a
        later instant set before replaces what was set from it)."""
        at = ms - ms % 1000
        self.shifts = [(t, s) for t, s in self.shifts if t < at]
        self.shifts.append((at, ticks - self._walked(at)))

    def set_prices(self) -> list[tuple[int, int]]:
        """(instant, ticks) of each price set, in time order: `set_price` makes them again."""
        return [(at, max(1, self._walked(at) + shift)) for at, shift in self.shifts]

    def price(self, ms: int) -> int:
        """The price (ticks) at an instant: linear between minute points, by the second,
        moved by the price set last before it (never below one tick), frozen by a halt."""
        if self.freezes:
            for start, until, ticks in self.freezes:
                if start <= ms and (until is None or ms < until):
                    return ticks
        if not self.shifts:
            return self._walked(ms)
        return max(1, self._walked(ms) + self.shift_at(ms))

    def _walked(self, ms: int) -> int:
        minute, second = self.minute_of(ms)
        a = self.minute_point(minute)
        if second == 0:
            return a
        b = self.minute_point(minute + 1)
        return a + ((b - a) * second) // 60

    # --------------------------------------------------------------- summaries

    def _hour_summary(self, hour: int) -> Summary:
        found = self._summaries.get(hour)
        if found is None:
            points, volumes = self.minute_points(hour)
            found = (points[0], max(points), min(points), points[-1], sum(volumes))
            if len(self._summaries) > _HOUR_CACHE:
                self._summaries.clear()
            self._summaries[hour] = found
        return found

    def _day_summary(self, day: int) -> Summary:
        found = self._day_summaries.get(day)
        if found is None:
            parts = [self._hour_summary(day * 24 + h) for h in range(24)]
            found = _merge(parts)
            self._day_summaries[day] = found
        return found

    def span(self, first: int, last: int) -> tuple[int, int]:
        """(high, low) of the minute points first..last, both included (first <= last)."""
        high, low = -1, 1 << 62
        m = first
        while m <= last:
            if m % DAY == 0 and m + DAY <= last:
                _, h, lo, _, _ = self._day_summary(m // DAY)
                step = DAY
            elif m % HOUR == 0 and m + HOUR <= last:
                _, h, lo, _, _ = self._hour_summary(m // HOUR)
                step = HOUR
            else:
                hour, within = divmod(m, HOUR)
                points = self.minute_points(hour)[0]
                end = min(HOUR, within + last - m)
                chunk = points[within : end + 1]
                h, lo = max(chunk), min(chunk)
                step = end - within + 1
            high, low = max(high, h), min(low, lo)
            m += step
        return high, low

    def volume(self, start_ms: int, end_ms: int) -> int:
        """Lots traded in [start_ms, end_ms): whole minutes' volumes, and a minute's share
        per second at the edges (its lots spread over its 60 seconds)."""
        if end_ms <= start_ms:
            return 0
        first, first_s = self.minute_of(start_ms)
        last, last_s = self.minute_of(end_ms)
        total = 0
        m = first
        while m <= last:
            s1 = first_s if m == first else 0
            s2 = last_s if m == last else 60
            if s1 == 0 and s2 == 60 and m % DAY == 0 and m + DAY <= last:
                total += self._day_summary(m // DAY)[4]
                m += DAY
                continue
            if s1 == 0 and s2 == 60 and m % HOUR == 0 and m + HOUR <= last:
                total += self._hour_summary(m // HOUR)[4]
                m += HOUR
                continue
            hour, within = divmod(m, HOUR)
            lots = self.minute_points(hour)[1][within]
            total += _seconds_share(lots, s1, s2)
            m += 1
        return total

    def candle(self, start_ms: int, end_ms: int) -> Summary:
        """open, high, low, close, volume of [start_ms, end_ms]: the price at both ends and
        every minute point between; a halt's span is its price, and no volume."""
        frozen = [
            (a, end_ms + 1 if b is None else b, p)
            for a, b, p in self.freezes
            if a <= end_ms and (b is None or b > start_ms)
        ]
        if not frozen:
            return self._candle(start_ms, end_ms)
        parts: list[Summary] = []
        t = start_ms
        for a, b, p in frozen:
            if t < a:
                parts.append(self._candle(t, a))  # the price at `a` is the halt's
            parts.append((p, p, p, p, 0))
            t = max(t, b)
        if t <= end_ms:
            parts.append(self._candle(t, end_ms))  # a resume walks on from the halt's price
        return _merge(parts)

    def _candle(self, start_ms: int, end_ms: int) -> Summary:
        open_, close = self.price(start_ms), self.price(end_ms)
        high, low = max(open_, close), min(open_, close)
        first, first_s = self.minute_of(start_ms)
        if first_s:
            first += 1
        last, last_s = self.minute_of(end_ms)
        if last_s == 0:
            last -= 1
        cuts = [(at, shift) for at, shift in self.shifts if start_ms < at <= end_ms]
        if not self.shifts:
            if first <= last:
                h, lo = self.span(first, last)
                high, low = max(high, h), min(low, lo)
            return open_, high, low, close, self.volume(start_ms, end_ms)
        # Moved by set prices: the minute points between two instants carry one shift; a
        # price set inside the range adds its instant and the second before it.
        shift = self.shift_at(start_ms)
        for at, next_shift in [*cuts, (end_ms + 1, 0)]:
            upto = min(last, -(-(at - self.origin_ms) // MINUTE_MS) - 1)  # points before at
            if first <= upto:
                h, lo = self.span(first, upto)
                high, low = max(high, h + shift, 1), min(low, max(1, lo + shift))
                first = upto + 1
            if at <= end_ms:
                for edge in (self.price(at - 1000), self.price(at)):
                    high, low = max(high, edge), min(low, edge)
            shift = next_shift
        return open_, high, low, close, self.volume(start_ms, end_ms)


def _seconds_share(lots: int, s1: int, s2: int) -> int:
    """Lots of seconds [s1, s2) of a minute that traded `lots` (the first lots % 60
    seconds carry one more): shares of a minute always sum to its lots."""
    base, extra = divmod(lots, 60)
    return (s2 - s1) * base + max(0, min(s2, extra) - min(s1, extra))


def _merge(parts: list[Summary]) -> Summary:
    return (
        parts[0][0],
        max(p[1] for p in parts),
        min(p[2] for p in parts),
        parts[-1][3],
        sum(p[4] for p in parts),
    )
