"""`serve` stops at once on SIGTERM, even with a delayed request pending."""

from __future__ import annotations

import threading
import time

import requests
from support import ALICE, LIST


def test_sigterm_with_a_delayed_request_pending_exits_at_once(serve):
    served = serve("--quiet")
    url, _ = served.banner()
    armed = requests.post(
        url + "/__admin/faults", json={"match": {"path": LIST}, "delay": 600}, timeout=10
    )
    assert armed.ok
    pending = threading.Thread(
        target=lambda: requests.get(url + LIST, headers=ALICE, timeout=30), daemon=True
    )
    pending.start()
    time.sleep(0.3)
    started = time.monotonic()
    code, _ = served.stop()
    assert code == 0 and time.monotonic() - started < 1
