"""Take the README's dashboard screenshot (docs/dashboard.png) with Playwright.

    python scripts/dashboard-screenshot.py [OUT.png]

Needs Playwright for Python and a Chromium on PATH (Debian: `apt-get install chromium`);
it serves the bundled `default` scenario, sends a few requests, arms a fault and shoots.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import requests
from playwright.sync_api import expect, sync_playwright

from cadenza_mock import MockServer

OUT = Path(__file__).resolve().parent.parent / "docs" / "dashboard.png"


def main(out: Path) -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium on PATH", file=sys.stderr)
        return 1
    with MockServer("default") as mock, sync_playwright() as p:
        list_url = f"{mock.url}/api/v3/credential/list"
        requests.get(list_url, headers=mock.auth_headers, timeout=10)
        requests.get(f"{list_url}?status=REVOKED", headers=mock.auth_headers, timeout=10)
        requests.get(list_url, headers={"Authorization": "Bearer nope"}, timeout=10)
        mock.add_fault({"match": {"path": "/api/v3/credential/list"}, "respond": {"status": 503}})
        requests.get(list_url, headers=mock.auth_headers, timeout=10)
        browser = p.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1100, "height": 1250})
        page.goto(f"{mock.url}/__admin/ui")
        expect(page.locator("#journal-list > li")).to_have_count(4)
        page.locator("#journal-list > li").nth(1).locator("summary").click()
        page.screenshot(path=str(out), full_page=False)
        browser.close()
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
