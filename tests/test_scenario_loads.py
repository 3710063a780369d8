"""Scenario loads through the admin API: they leave no YAML nodes behind, a big one does
not stop other answers, and one load is bounded to 200,000 credentials."""

from __future__ import annotations

import gc
import threading
import time

import requests
import yaml
from support import LIST, bearer, error_text, module_mock

YAML = {"Content-Type": "application/yaml"}  # admin bodies say what they are


server, mock = module_mock("default")


def test_scenario_loads_leave_nothing_behind(mock):
    text = (
        "seed: 4\nusers:\n  - email: x@example.com\n    tokens: [t]\n"
        "    credentials:\n      - generate: 20\n"
    )

    def nodes() -> int:
        gc.collect()
        return sum(isinstance(o, yaml.Node) for o in gc.get_objects())

    for _ in range(5):  # warm: caches and the first load's one-time objects
        assert requests.put(mock.url + "/__admin/scenario", data=text, headers=YAML, timeout=10).ok
    before = nodes()
    for _ in range(60):
        assert requests.put(mock.url + "/__admin/scenario", data=text, headers=YAML, timeout=10).ok
        assert requests.put(mock.url + "/__admin/scenario?name=multi-user", timeout=10).ok
    assert nodes() <= before


def test_a_big_load_does_not_stop_other_answers(mock):
    text = "users:\n  - tokens: [big]\n    credentials:\n      - generate: 5000\n"
    loaded: list[requests.Response] = []
    loader = threading.Thread(
        target=lambda: loaded.append(
            requests.put(mock.url + "/__admin/scenario", data=text, headers=YAML, timeout=120)
        )
    )
    loader.start()
    answered_during_load = 0
    while loader.is_alive():
        started = time.monotonic()
        health = requests.get(mock.url + "/__admin/health", timeout=10)
        assert health.ok and time.monotonic() - started < 2
        answered_during_load += loader.is_alive()
    loader.join()
    assert loaded[0].ok and answered_during_load >= 1
    assert len(requests.get(mock.url + LIST, headers=bearer("big"), timeout=30).json()["data"])
    mock.load("default")


def test_one_load_may_ask_for_at_most_200000_credentials(mock):
    text = "users:\n  - credentials:\n      - generate: 150000\n      - generate: 60000\n"
    answer = requests.put(mock.url + "/__admin/scenario", data=text, headers=YAML, timeout=30)
    assert "at most 200000 credentials" in error_text(answer, 400, -19004)
    assert ":4:" in answer.json()["error"]  # the second entry is the one over the bound
    assert "brings it to 210000" in answer.json()["error"]
