"""The credential store at scale, in process (no HTTP): what issue 14 asks to keep flat.

1. First (uncached) list filtered by one `credentialIds` on a 100,000-record scenario,
   through `Store.list_answer` (what the list handler calls: auth, query, list bytes),
   a different id on every repetition; and the same call cached.
2. `Store.reset()` after one create (the create not timed), on the 100,000-record store.
3. One create (a fresh apiKey each time, so the duplicate-key check runs) on stores of
   5,000 and 40,000 scenario credentials.
4. Mixed load (create, list by the new id, list by a scenario id, a cached list) on the
   100,000-record store: the median per-request time of the window ending at 50,000
   requests against the one ending at 200,000.

    python bench/bench_store.py            # print the results
    python bench/bench_store.py --write    # ...and record them in bench/README.md
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from _common import README, REPO_ROOT, machine_description, package_revision, write_section

from cadenza_mock.engine.store import Store
from cadenza_mock.scenario import load_scenario_text

TOKEN = "bench-token"
HEADER = f"Bearer {TOKEN}"
SCENARIO = """\
seed: 7
now: "2026-01-15T12:00:00Z"
users:
  - id: 4b6f0d1e-8c2a-4f57-9a63-2d1e7f0b5c11
    email: bench@example.com
    tokens: [{token}]
    credentials:
      - generate: {n}
"""


def build(n: int) -> Store:
    return Store(load_scenario_text(SCENARIO.format(token=TOKEN, n=n), name=f"bench-{n}"))


def median_us(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1e6


def timed(call: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def by_id(store: Store, cid: str) -> tuple[str, bytes]:
    qs = f"credentialIds={cid}"
    return store.list_answer(HEADER, qs, lambda: parse_qsl(qs))


class Keys:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"BenchKey{self.n:09d}-0123456789abcdef"


def create(store: Store, keys: Keys) -> str:
    user = store.users[next(iter(store.users))]
    cred = store.create(user, venue="BINANCE", api_key=keys(), api_secret="S" * 32)
    return cred.credential_id


def bench_lists(store: Store, reps: int) -> tuple[float, float]:
    ids = [c.credential_id for c in store.all_credentials()]
    first = []
    for i in range(reps):
        cid = ids[(i * 7919) % len(ids)]
        first.append(timed(lambda: by_id(store, cid)))  # noqa: B023 (called at once)
    by_id(store, ids[0])
    cached = [timed(lambda: by_id(store, ids[0])) for _ in range(reps)]
    return median_us(first), median_us(cached)


def bench_reset(store: Store, reps: int) -> float:
    keys, samples = Keys(), []
    store.reset()
    for _ in range(reps):
        create(store, keys)
        samples.append(timed(store.reset))
    return median_us(samples)


def bench_create(n: int, reps: int) -> float:
    store, keys = build(n), Keys()
    samples = [timed(lambda: create(store, keys)) for _ in range(reps)]
    return median_us(samples)


def bench_mixed(store: Store, total: int, window: int) -> dict[int, float]:
    store.reset()
    keys = Keys()
    ids = [c.credential_id for c in store.all_credentials()]
    marks = {m for m in (50_000, total) if m <= total}
    out: dict[int, float] = {}
    samples: list[float] = []
    done = 0
    while done < total:
        t0 = time.perf_counter()
        cid = create(store, keys)
        by_id(store, cid)
        by_id(store, ids[(done * 7919) % len(ids)])
        by_id(store, ids[0])
        samples.append((time.perf_counter() - t0) / 4)
        done += 4
        for mark in marks:
            if done == mark or (done > mark and done - 4 < mark):
                out[mark] = median_us(samples[-window // 4 :])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=100_000, help="scenario credentials (100000)")
    p.add_argument("--reps", type=int, default=1000, help="repetitions per measure (1000)")
    p.add_argument("--mixed-total", type=int, default=200_000, help="mixed requests (200000)")
    p.add_argument("--window", type=int, default=5000, help="mixed-load window (5000)")
    p.add_argument("--write", action="store_true", help="record in bench/README.md")
    args = p.parse_args(argv)

    print(f"building {args.size:,} credentials ...", file=sys.stderr)
    t0 = time.perf_counter()
    big = build(args.size)
    load_s = time.perf_counter() - t0
    rows: list[tuple[str, str]] = []
    first, cached = bench_lists(big, args.reps)
    rows.append((f"first list `?credentialIds=<one id>` ({args.size:,} stored)", f"{first:,.1f}"))
    rows.append((f"cached list, same call ({args.size:,} stored)", f"{cached:,.1f}"))
    reset = bench_reset(big, min(args.reps, 200))
    rows.append((f"`reset()` after one create ({args.size:,} stored)", f"{reset:,.1f}"))
    for n in (5_000, 40_000):
        rows.append((f"one create, {n:,} stored", f"{bench_create(n, args.reps):,.1f}"))
    print("mixed load ...", file=sys.stderr)
    mixed = bench_mixed(big, args.mixed_total, args.window)
    for mark, value in sorted(mixed.items()):
        rows.append(
            (f"mixed load: window of {args.window:,} requests ending at {mark:,}", f"{value:,.1f}")
        )
    if len(mixed) == 2:
        a, b = (mixed[m] for m in sorted(mixed))
        rows.append(("mixed load: late / early", f"{b / a:.2f}x"))

    table = [
        "| measure | median µs |",
        "|---|---:|",
        *(f"| {label} | {value} |" for label, value in rows),
    ]
    text = "\n".join(
        [
            f"Measured {datetime.now(UTC):%Y-%m-%d} on a {machine_description()}; "
            f"cadenza-mock at commit {package_revision()}. In process (no HTTP), "
            f"`time.perf_counter()` medians; building the {args.size:,}-record store "
            f"took {load_s:.1f} s.",
            "",
            "Command: `" + shlex.join(["python", "bench/bench_store.py", *argv]) + "`",
            "",
            *table,
        ]
    )
    print(text)
    if args.write:
        write_section("bench_store", "### Credential store at scale\n\n" + text)
        print(f"recorded in {README.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
