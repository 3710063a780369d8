"""`cadenza-mock serve --watch`: edits reload the scenario (state resets), broken edits are
reported with file:line while the previous scenario keeps serving, a fix reloads again.

The server runs in a subprocess; waits are bounded polls of its output or its answers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import requests
from support import LIST, bearer, write

TOKEN = "watch-token"
SCENARIO = """\
seed: 3
users:
  - email: w@example.com
    tokens: [watch-token]
    credentials:
      - generate: {count}
        venue: {venue}
"""
# Line of `venue:` in SCENARIO, 1-based: where a bad venue must be reported.
VENUE_LINE = SCENARIO.splitlines().index("        venue: {venue}") + 1


def count(url: str) -> int:
    response = requests.get(url + LIST, headers=bearer(TOKEN), timeout=10)
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def poll(condition: Callable[[], bool], what: str, limit: float = 30) -> None:
    """Wait for `condition` in short steps; fail after `limit` seconds (a hang, not a timing)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def edit(path: Path, text: str, *, atomic: bool = False) -> None:
    if atomic:  # how many editors save: write a sibling, rename over the original
        temp = path.with_suffix(".tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    else:
        path.write_text(text, encoding="utf-8")


def test_watch_reloads_reports_broken_edits_and_recovers(serve, tmp_path):
    path = write(tmp_path / "watched.yaml", SCENARIO.format(count=2, venue="BINANCE"))
    served = serve("--watch", "--scenario", str(path), "--quiet")
    url, token = served.banner()
    assert token == TOKEN
    assert count(url) == 2

    # A change made at run time, which a reload must throw away.
    created = requests.post(
        url + "/api/v3/credential/create",
        headers=bearer(TOKEN),
        json={"venue": "BINANCE", "apiKey": "k" * 64, "apiSecret": "s" * 64},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    assert count(url) == 3

    edit(path, SCENARIO.format(count=5, venue="OKX"))
    assert "reloaded (state reset)" in served.read_until("reloaded")
    # 5 from the file, not 6: the created credential went with the old state.
    assert count(url) == 5
    venues = {
        c["venue"]
        for c in requests.get(url + LIST, headers=bearer(TOKEN), timeout=10).json()["data"]
    }
    assert venues == {"OKX"}

    edit(path, SCENARIO.format(count=1, venue="NYSE"))
    served.read_until("not reloaded")
    located = served.read_until(f"{path}:{VENUE_LINE}:")
    assert f"{path}:{VENUE_LINE}:" in located and "unknown venue 'NYSE'" in located
    assert count(url) == 5  # the previous scenario keeps serving

    edit(path, "users: [\n")  # a YAML syntax error: reported too, still serving
    assert "not reloaded" in served.read_until("not reloaded")
    assert f"{path}:2:" in served.read_until(f"{path}:")
    assert count(url) == 5

    edit(path, SCENARIO.format(count=1, venue="BYBIT"), atomic=True)
    served.read_until("reloaded (state reset)")
    assert count(url) == 1
    code, output = served.stop()
    assert code == 0
    assert "Traceback" not in output


def test_watch_resets_the_journal_and_runtime_faults(serve, tmp_path):
    path = write(tmp_path / "watched.yaml", SCENARIO.format(count=1, venue="BINANCE"))
    served = serve("--watch", "--scenario", str(path), "--quiet")
    url, _ = served.banner()
    armed = requests.post(url + "/__admin/faults", json={"respond": {"status": 503}}, timeout=10)
    assert armed.status_code == 200
    assert requests.get(url + LIST, headers=bearer(TOKEN), timeout=10).status_code == 503

    edit(
        path, SCENARIO.format(count=2, venue="BINANCE") + "faults:\n  - drop: true\n    times: 1\n"
    )
    served.read_until("reloaded (state reset)")
    faults = requests.get(url + "/__admin/faults", timeout=10).json()["data"]
    assert [(f["id"], f["origin"]) for f in faults] == [("scenario-1", "scenario")]
    assert requests.get(url + "/__admin/requests", timeout=10).json()["data"] == []
    with requests.Session() as session:
        try:
            session.get(url + LIST, headers=bearer(TOKEN), timeout=10)
        except requests.ConnectionError:
            pass  # the scenario's one drop
        else:
            raise AssertionError("the reloaded scenario's drop fault did not fire")
        assert count(url) == 2
    served.stop()


def test_without_watch_edits_are_ignored(serve, tmp_path):
    path = write(tmp_path / "plain.yaml", SCENARIO.format(count=2, venue="BINANCE"))
    served = serve("--scenario", str(path), "--quiet")
    url, _ = served.banner()
    edit(path, SCENARIO.format(count=4, venue="BINANCE"))
    # Proof that a watcher would have seen it by now: a watched twin of the file reloads.
    twin = write(tmp_path / "twin.yaml", SCENARIO.format(count=2, venue="BINANCE"))
    watched = serve("--watch", "--scenario", str(twin), "--quiet")
    twin_url, _ = watched.banner()
    edit(twin, SCENARIO.format(count=4, venue="BINANCE"))
    poll(lambda: count(twin_url) == 4, "the watched twin to reload")
    assert count(url) == 2
    served.stop()
    watched.stop()


def test_watch_survives_any_bad_edit_and_takes_the_next_good_one(serve, tmp_path):
    path = write(tmp_path / "watched.yaml", SCENARIO.format(count=2, venue="BINANCE"))
    served = serve("--watch", "--scenario", str(path), "--quiet")
    url, token = served.banner()
    assert token == TOKEN and count(url) == 2
    for bad in ("seed: !!int abc\n", "seed: " + "9" * 5000 + "\n", "a: [" * 2000 + "\n"):
        edit(path, SCENARIO.format(count=3, venue="BINANCE") + bad)
        served.read_until("not reloaded")
        assert count(url) == 2  # the last good scenario keeps serving
    path.unlink()
    time.sleep(0.6)
    edit(path, SCENARIO.format(count=5, venue="OKX"))
    poll(lambda: count(url) == 5, "the good edit after the bad ones")
    code, output = served.stop()
    assert code == 0 and "Traceback" not in output
