"""The dashboard end to end in headless Chromium (Debian's `chromium`, driven by Playwright):
a real `MockServer` on a socket per test, real requests beside the page, Playwright's
auto-waiting `expect()` for everything that arrives later (no sleeps).

Without a Chromium these tests skip, unless CADENZA_MOCK_REQUIRE_BROWSER=1 (set by
.ci/run), where a missing browser fails them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from support import ALICE, LIST, REPO

from cadenza_mock import MockServer

# Under CI (.ci/run) a missing browser or Playwright is a failure, never a skip.
REQUIRED = os.environ.get("CADENZA_MOCK_REQUIRE_BROWSER") == "1"
if REQUIRED:
    from playwright import sync_api as playwright_api
else:
    playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

UI = "/__admin/ui"
CREATE = "/api/v3/credential/create"
ADMIN_TOKEN = "dash-admin-7f3e"
# Auto-waiting ceiling: generous, two cores are shared with other test workers.
expect.set_options(timeout=15_000)


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and REQUIRED:
        pytest.fail("CADENZA_MOCK_REQUIRE_BROWSER=1 but no chromium on PATH")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer("default") as server:
        yield server


def open_page(browser: Any, mock: MockServer) -> Any:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # what went wrong in the page's own script
    page.goto(mock.url + UI)
    expect(page.locator("#live")).to_have_text("live")
    return page


@pytest.fixture
def page(browser: Any, mock: MockServer) -> Iterator[Any]:
    opened = open_page(browser, mock)
    yield opened
    assert opened.errors == []
    opened.context.close()


def entries(page: Any) -> Any:
    return page.locator("#journal-list > li")


SECRET_KEYS = ("apiSecret", "apiPassphrase", "apiKey", "password")


def scenario_secrets(node: Any) -> list[str]:
    """Every secret a scenario hands the mock (full API keys too: the page shows them
    masked), wherever it stands."""
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k in SECRET_KEYS]
        return found + [s for v in node.values() for s in scenario_secrets(v)]
    if isinstance(node, list):
        return [s for v in node for s in scenario_secrets(v)]
    return []


def assert_no_secret(page: Any, scenario: Any) -> None:
    secrets = scenario_secrets(scenario)
    assert secrets  # the check has something to look for
    html = page.content()
    for secret in secrets:
        assert secret not in html


# ----------------------------------------------------------------------------- showing


def test_the_page_shows_the_default_scenario_and_no_secret(page, mock):
    scenario = yaml.safe_load((REPO / "scenarios" / "default.yaml").read_text())
    expect(page.locator("#scenario-name")).to_have_text("default")
    expect(page.locator("#scenario-profile")).to_have_text("docs")
    expect(page.locator("#scenario-seed")).to_have_text(str(scenario["seed"]))
    expect(page.locator("#clock")).to_contain_text("2026-01-15T12:00:00.000Z")
    user = page.locator(".user", has_text="alice@example.com")
    curl = f"curl -H 'Authorization: Bearer alice-token' {mock.url}{LIST}"
    expect(user.locator(".curl")).to_have_text(curl)
    creds = scenario["users"][0]["credentials"]
    rows = user.locator("table.credentials tbody tr")
    expect(rows).to_have_count(len(creds))
    expect(rows.filter(has_text="REVOKED")).to_have_count(1)
    expect(user.locator("table.credentials")).to_contain_text("abc123***")
    assert "correct-horse" in scenario_secrets(scenario)  # the user's password is looked for
    assert_no_secret(page, scenario)


def test_a_request_appears_in_the_journal_and_the_credentials_live(page, mock):
    expect(entries(page)).to_have_count(0)
    assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 200
    newest = entries(page).first
    expect(newest.locator(".path")).to_have_text(LIST)
    expect(newest.locator(".status")).to_have_text("200")
    expect(newest.locator(".who")).to_have_text("alice@example.com")
    newest.locator("summary").click()
    expect(newest.locator("pre.request")).to_contain_text('"Authorization": "<redacted>"')
    expect(newest.locator("pre.response")).to_contain_text('"status": 200')
    # The answer itself: the credentials the client got, keys masked as on the wire.
    expect(newest.locator("pre.response")).to_contain_text('"apiKey": "abc123***"')
    assert "alice-token" not in newest.locator("pre.request").text_content()
    body = {"venue": "BINANCE", "name": "from the test", "apiKey": "k" * 64, "apiSecret": "s3"}
    assert requests.post(mock.url + CREATE, headers=ALICE, json=body, timeout=10).ok
    expect(entries(page)).to_have_count(2)
    expect(entries(page).first.locator(".path")).to_have_text(CREATE)  # newest first
    rows = page.locator(".user table.credentials tbody tr")
    expect(rows.filter(has_text="from the test")).to_have_count(1)
    expect(rows.filter(has_text="from the test")).to_contain_text("kkkkkk***")


def test_the_journal_filters_by_path_status_and_user(page, mock):
    requests.get(mock.url + LIST, headers=ALICE, timeout=10)
    requests.get(mock.url + LIST, headers={"Authorization": "Bearer nope"}, timeout=10)
    requests.get(mock.url + "/api/v3/tradingAccount/list", headers=ALICE, timeout=10)
    expect(entries(page)).to_have_count(3)
    page.fill("#filter-status", "401")
    expect(entries(page)).to_have_count(1)
    expect(entries(page).first.locator(".status")).to_have_text("401")
    page.fill("#filter-status", "2xx")
    expect(entries(page)).to_have_count(2)
    page.fill("#filter-path", "tradingAccount")
    expect(entries(page)).to_have_count(1)
    page.fill("#filter-path", "")
    page.fill("#filter-status", "")
    page.select_option("#filter-user", label="alice@example.com")
    expect(entries(page)).to_have_count(2)
    expect(page.locator("#journal-count")).to_have_text("2 of 3 requests")


# ----------------------------------------------------------------------------- acting


def test_arm_a_fault_see_it_fire_and_clear_them(page, mock):
    page.click("[data-preset=error]")
    page.click("#fault-form button[type=submit]")
    row = page.locator("#fault-rows tr", has_text="runtime-1")
    expect(row).to_contain_text("yes")  # armed
    expect(row.locator("td").nth(3)).to_have_text("1")  # remaining
    assert [f["id"] for f in mock.faults] == ["runtime-1"]
    assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 500
    expect(entries(page).first.locator(".status")).to_have_text("500")
    expect(entries(page).first.locator(".fault")).to_contain_text("runtime-1")
    expect(row.locator("td").nth(3)).to_have_text("0")  # used up, shown live
    page.fill("#fault-text", '{"match": {"path": "/api/v3/*"}, "delay": 0.01}')
    page.click("#fault-form button[type=submit]")
    expect(page.locator("#fault-rows tr", has_text="runtime-2")).to_have_count(1)
    page.click("#clear-faults")
    expect(page.locator("#fault-rows")).to_have_text("no faults")
    assert mock.faults == []


def test_a_bad_fault_shows_the_servers_own_message(page, mock):
    text = "match: {path: /api/v3/*}\nrespond: {status: 99}\n"
    page.fill("#fault-text", text)
    page.click("#fault-form button[type=submit]")
    answer = requests.post(
        mock.url + "/__admin/faults",
        data=text,
        headers={"Content-Type": "application/yaml"},
        timeout=10,
    )
    assert answer.status_code == 400
    expect(page.locator("#fault-error")).to_have_text(answer.json()["error"])
    expect(page.locator("#fault-rows")).to_have_text("no faults")
    assert mock.faults == []


def test_advance_the_clock(page, mock):
    before = mock.now_ms
    page.fill("#advance", "3600")
    page.click("#advance-form button[type=submit]")
    expect(page.locator("#clock")).to_contain_text("2026-01-15T13:00:00.000Z")
    assert mock.now_ms == before + 3_600_000
    page.fill("#advance", "-5")  # the browser lets it through (no min check on submit)
    page.locator("#advance").evaluate("input => input.removeAttribute('min')")
    page.click("#advance-form button[type=submit]")
    expect(page.locator("#message")).to_contain_text("advance must be a number of seconds")
    assert mock.now_ms == before + 3_600_000


def test_reset_goes_back_to_the_scenario_and_the_stream_follows(page, mock):
    body = {"venue": "BINANCE", "name": "gone on reset", "apiKey": "r" * 64, "apiSecret": "x"}
    requests.post(mock.url + CREATE, headers=ALICE, json=body, timeout=10)
    rows = page.locator(".user table.credentials tbody tr")
    expect(rows.filter(has_text="gone on reset")).to_have_count(1)
    page.fill("#advance", "60")
    page.click("#advance-form button[type=submit]")
    expect(page.locator("#clock")).to_contain_text("12:01:00")
    page.click("#reset")
    expect(rows.filter(has_text="gone on reset")).to_have_count(0)
    expect(entries(page)).to_have_count(0)
    expect(page.locator("#clock")).to_contain_text("2026-01-15T12:00:00.000Z")
    assert mock.requests == []
    requests.get(mock.url + LIST, headers=ALICE, timeout=10)  # the stream came back
    expect(entries(page)).to_have_count(1)
    expect(entries(page).first.locator(".seq")).to_have_text("#1")


def test_reload_and_a_load_from_outside(page, mock):
    requests.get(mock.url + LIST, headers=ALICE, timeout=10)
    expect(entries(page)).to_have_count(1)
    page.click("#reload")
    expect(entries(page)).to_have_count(0)  # a reload starts a new run
    expect(page.locator("#scenario-name")).to_have_text("default")
    mock.load("empty")  # someone else loads another: the stream ends, the page follows
    expect(page.locator("#scenario-name")).to_have_text("empty")
    expect(page.locator(".user table.credentials tbody tr")).to_have_count(0)


# ----------------------------------------------------------------------------- security


def test_admin_token_prompt_wrong_then_right_kept_in_the_session_only(browser):
    with MockServer("default", admin_token=ADMIN_TOKEN) as guarded:
        context = browser.new_context()
        page = context.new_page()
        page.goto(guarded.url + UI)
        expect(page.locator("#login")).to_be_visible()
        expect(page.locator("#dashboard")).to_be_hidden()
        page.fill("#admin-token", "not-it")
        page.click("#login button[type=submit]")
        expect(page.locator("#login-error")).to_have_text("That token was refused.")
        page.fill("#admin-token", ADMIN_TOKEN)
        page.click("#login button[type=submit]")
        expect(page.locator("#scenario-name")).to_have_text("default")
        expect(page.locator("#live")).to_have_text("live")
        requests.get(guarded.url + LIST, headers=ALICE, timeout=10)
        expect(entries(page)).to_have_count(1)  # the stream carries the token too
        stored = page.evaluate("() => [sessionStorage.length, localStorage.length]")
        assert stored == [1, 0]
        assert page.evaluate("() => document.cookie") == ""
        page.reload()  # the same tab keeps it
        expect(page.locator("#scenario-name")).to_have_text("default")
        expect(page.locator("#login")).to_be_hidden()
        other = context.new_page()  # a new tab (session storage is per tab) asks again
        other.goto(guarded.url + UI)
        expect(other.locator("#login")).to_be_visible()
        context.close()


XSS = "<img src=x onerror=window.__xss='{}'>"


def test_attacker_strings_show_as_text_and_run_nothing(page, mock):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    path = "/api/v3/" + XSS.format("path")
    headers = {"X-Evil": XSS.format("header"), "User-Agent": "<script>window.__xss='ua'</script>"}
    requests.get(mock.url + requests.utils.quote(path), headers=headers, timeout=10)
    body = {"name": XSS.format("body"), "venue": "<svg onload=alert(1)>"}
    requests.post(mock.url + CREATE, headers=ALICE, json=body, timeout=10)
    expect(entries(page)).to_have_count(2)
    first_seen = entries(page).nth(1)
    expect(first_seen.locator(".path")).to_have_text(path)  # the markup, as text
    for entry in (entries(page).nth(0), first_seen):
        entry.locator("summary").click()
    expect(first_seen.locator("pre.request")).to_contain_text(XSS.format("header"))
    expect(entries(page).first.locator("pre.request")).to_contain_text("<svg onload=alert(1)>")
    assert page.locator("#journal img, #journal svg, #journal script").count() == 0
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []


# --------------------------------------------------------------------------- namespaces


def test_the_namespace_picker_shows_one_namespace_and_comes_back_when_it_is_gone(page, mock):
    created = requests.post(
        f"{mock.url}/__admin/namespaces?namespace=team-b&name=empty", timeout=10
    )
    assert created.ok, created.text
    picker = page.locator("#namespace")
    page.locator("#reset").click()  # any refresh lists the namespaces
    expect(picker.locator("option")).to_have_count(2)
    picker.select_option("team-b")
    expect(page.locator("#scenario-name")).to_have_text("empty")
    expect(page.locator(".user .curl").first).to_contain_text(f"{mock.url}/__ns/team-b/api/v3")
    # Its journal only: a call to the server's own is not shown, one through its base URL is.
    assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).ok
    assert requests.get(f"{mock.url}/__ns/team-b{LIST}", headers=ALICE, timeout=10).ok
    expect(entries(page)).to_have_count(1)
    expect(entries(page).first.locator(".path")).to_have_text(LIST)
    entries(page).first.locator("summary").click()
    expect(entries(page).first.locator("pre.response")).to_contain_text('"data": []')
    # Deleted: the page says so and shows the server's own again.
    assert requests.delete(f"{mock.url}/__admin/namespaces/team-b", timeout=10).ok
    expect(page.locator("#message")).to_contain_text("namespace team-b is gone")
    expect(page.locator("#scenario-name")).to_have_text("default")
    expect(picker).to_have_value("")
    expect(entries(page)).to_have_count(1)  # the server's own call from above


def test_the_market_shows_each_instruments_ticker_per_namespace(page, mock):
    rows = page.locator("#market-rows tr")
    expect(rows).to_have_count(len(mock.market.state()["instruments"]))
    btc = page.locator('#market-rows tr[data-instrument="BINANCE:BTC/USDT"]')
    expect(btc).to_contain_text("ACTIVE")
    expect(page.locator("#market-venues")).to_contain_text("BINANCE: live")
    mock.market.set_price("BINANCE:BTC/USDT", "58000")
    mock.market.halt("BINANCE:BTC/USDT")
    mock.market.venue_data("OKX", "stale")
    disable = f"{mock.url}/api/v3/market/instrument/disable"
    eth = {"instrumentId": "BINANCE:ETH/USDT"}
    assert requests.post(disable, json=eth, headers=ALICE, timeout=10).ok  # refreshes the page
    expect(page.locator('#market-rows tr[data-instrument="BINANCE:ETH/USDT"]')).to_contain_text(
        "DISABLED"
    )
    expect(btc).to_contain_text("58000.00")
    expect(btc).to_contain_text("INACTIVE")
    expect(btc).to_contain_text("halted")
    expect(page.locator("#market-venues")).to_contain_text("OKX: stale")
    expect(page.locator("#market button, #market input")).to_have_count(0)  # read-only
    scenario = {
        "now": "2026-01-01T00:00:00Z",
        "market": {"OKX": [{"symbol": "ETH/USDT", "price": "3100"}]},
    }
    created = requests.post(
        f"{mock.url}/__admin/namespaces?namespace=team-m", json={"scenario": scenario}, timeout=10
    )
    assert created.ok, created.text
    page.locator("#reset").click()  # any refresh lists the namespaces
    page.locator("#namespace").select_option("team-m")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("OKX:ETH/USDT")
    expect(rows.first).to_contain_text("3100.00")


# ----------------------------------------------------------------------------- trading

SPOT = "a1c3e5f7-2b4d-4e6f-8a0c-1e3f5a7c9b11"  # alice's Binance spot account (accounts)
SUBMIT = "/api/v3/tradeOrder/submit"
BTC = "BINANCE:BTC/USDT"


def submit(base: str, **fields: str) -> dict[str, Any]:
    body = {"tradingAccountId": SPOT, "instrumentId": BTC, "orderSide": "BUY", **fields}
    answer = requests.post(base + SUBMIT, headers=ALICE, json=body, timeout=10)
    assert answer.ok, answer.text
    order: dict[str, Any] = answer.json()["data"][0]
    return order


def balance(mock: MockServer, account: str, asset: str) -> dict[str, str]:
    found: dict[str, str] = next(
        b for b in mock.portfolio(account)["balances"] if b["securitySymbol"] == asset
    )
    return found


def test_the_trading_panel_shows_orders_moved_balances_and_the_venue_behaviour(browser):
    with MockServer("accounts") as mock:
        page = open_page(browser, mock)
        connected = [a for a in mock.trading_accounts() if a["status"] != "DISCONNECTED"]
        expect(page.locator("#trading-accounts .account")).to_have_count(len(connected))
        card = page.locator(f'#trading-accounts .account[data-account="{SPOT}"]')
        expect(card.locator("h3")).to_have_text("Main spot (BINANCE)")
        expect(card.locator(".behavior")).to_have_text("venue behaviour: normal")
        usdt = card.locator("table.balances tbody tr", has_text="USDT")
        expect(usdt).to_have_text(re.compile(r"USDT\s*1000000\s*0\s*1000000"))
        expect(card.locator("table.orders tbody tr")).to_have_count(0)

        bought = submit(mock.url, orderType="MARKET", quantity="0.01")  # a POST: refreshes
        assert bought["status"] == "FILLED"
        orders = card.locator("table.orders tbody tr")
        expect(orders).to_have_count(1)
        for shown in ("FILLED", "BUY", "MARKET", "0.01000", f"avg {bought['executedPrice']}"):
            expect(orders.first).to_contain_text(shown)
        free = balance(mock, SPOT, "USDT")["free"]
        assert free != "1000000"  # the fill moved it
        expect(usdt.locator("td").nth(1)).to_have_text(free)
        btc = card.locator("table.positions tbody tr", has_text=BTC)
        position = next(p for p in mock.portfolio(SPOT)["positions"] if p["instrumentId"] == BTC)
        expect(btc.locator("td").nth(2)).to_have_text(position["quantity"])
        expect(btc.locator("td").nth(5)).to_have_text(position["unrealizedPnl"])

        resting = submit(mock.url, orderType="LIMIT", limitPrice="60000.00", quantity="0.01")
        assert resting["status"] == "ACCEPTED"
        expect(orders).to_have_count(2)
        expect(orders.first).to_contain_text("ACCEPTED")  # the open one first
        expect(orders.first).to_contain_text("60000.00")
        expect(card.locator("h4", has_text="Orders")).to_have_text("Orders (1 open, 1 closed)")
        locked = balance(mock, SPOT, "USDT")["locked"]
        assert locked != "0"
        expect(usdt.locator("td").nth(2)).to_have_text(locked)

        # A behaviour set through the admin API shows with the next refresh (its own call
        # is not journaled): here the order that meets it.
        mock.venue_behavior(SPOT, partial="0.5")
        halved = submit(mock.url, orderType="MARKET", quantity="0.02")
        assert halved["status"] == "EXPIRED" and halved["executedQuantity"] == "0.01000"
        expect(card.locator(".behavior")).to_have_text("venue behaviour: partial 0.5 (admin)")
        expect(orders).to_have_count(3)
        expect(orders.nth(1)).to_contain_text("EXPIRED")  # the newest closed one
        expect(orders.nth(1)).to_contain_text("0.01000")
        for _ in range(5):  # more closed orders than the card shows: the newest
            submit(mock.url, orderType="MARKET", quantity="0.001")
        heading = "Orders (1 open, the newest 5 closed)"
        expect(card.locator("h4", has_text="Orders")).to_have_text(heading)
        expect(orders).to_have_count(6)
        expect(orders.nth(5)).to_contain_text("0.00100")  # not the EXPIRED one
        other = page.locator("#trading-accounts .account", has_text="Main futures")
        expect(other.locator(".behavior")).to_have_text("venue behaviour: normal")
        expect(other.locator("table.orders tbody tr")).to_have_count(0)
        assert_no_secret(page, yaml.safe_load((REPO / "scenarios" / "accounts.yaml").read_text()))
        assert page.errors == []
        page.context.close()


def test_a_portfolio_gone_meanwhile_is_its_error_and_the_rest_still_shows(browser):
    """An account listed, then gone before its portfolio is read (a reset or load between
    the two calls): its card says why, the other cards and its orders still show."""
    with MockServer("accounts") as mock:
        submit(mock.url, orderType="MARKET", quantity="0.01")
        gone = "No trading account (gone meanwhile)"
        context = browser.new_context()
        context.route(
            f"**/__admin/portfolios/{SPOT}",
            lambda route: route.fulfill(
                status=404,
                content_type="application/json",
                body=json.dumps({"data": None, "success": False, "errno": -22016, "error": gone}),
            ),
        )
        page = context.new_page()
        page.goto(mock.url + UI)
        card = page.locator(f'#trading-accounts .account[data-account="{SPOT}"]')
        expect(card.locator(".error")).to_have_text(f"portfolio: {gone}")
        expect(card.locator("table.balances")).to_have_count(0)
        expect(card.locator("table.orders tbody tr")).to_have_count(1)
        expect(page.locator("#trading-accounts table.balances")).to_have_count(
            len([a for a in mock.trading_accounts() if a["status"] != "DISCONNECTED"]) - 1
        )
        expect(page.locator("#message")).to_be_hidden()
        context.close()


NAMESPACED = {
    "now": "2026-01-15T12:00:00Z",
    "users": [
        {
            "email": "alice@example.com",
            "tokens": ["alice-token"],
            "credentials": [
                {
                    "venue": "BINANCE",
                    "name": "ns key",
                    "apiKey": "nsKey" + "7" * 59,
                    "apiSecret": "ns-secret-never-served",
                }
            ],
            "trading_accounts": [
                {
                    "tradingAccountId": SPOT,
                    "nickname": XSS.format("nickname"),
                    "credentials": ["ns key"],
                    "externalTradingAccountId": "spot",
                    "balances": {"USDT": "5000", "BTC": "0.1"},
                    "venue_behavior": {"taker_fee": "0.002"},
                }
            ],
        }
    ],
}


def test_a_namespaces_trading_panel_shows_that_namespaces(page, mock):
    expect(page.locator("#trading-accounts")).to_have_text("no connected trading accounts")
    created = requests.post(
        f"{mock.url}/__admin/namespaces?namespace=team-t", json={"scenario": NAMESPACED}, timeout=10
    )
    assert created.ok, created.text
    page.locator("#reset").click()  # any refresh lists the namespaces
    page.locator("#namespace").select_option("team-t")
    card = page.locator(f'#trading-accounts .account[data-account="{SPOT}"]')
    expect(card.locator(".behavior")).to_have_text("venue behaviour: taker_fee 0.002 (scenario)")
    expect(card.locator("h3")).to_have_text(XSS.format("nickname") + " (BINANCE)")  # as text
    assert page.locator("#trading img").count() == 0
    assert page.evaluate("() => window.__xss") is None
    balances = card.locator("table.balances tbody tr")
    expect(balances).to_have_count(2)
    expect(balances.filter(has_text="USDT")).to_contain_text("5000")
    submit(f"{mock.url}/__ns/team-t", orderType="MARKET", quantity="0.01")
    orders = card.locator("table.orders tbody tr")
    expect(orders).to_have_count(1)
    expect(orders.first).to_contain_text("FILLED")
    assert mock.orders() == []  # the server's own has none
    expect(balances.filter(has_text="BTC").locator("td").nth(3)).to_have_text(
        "0.11"
    )  # 0.1 and the 0.01 bought
    assert_no_secret(page, NAMESPACED)


# ------------------------------------------------------------------ other web pages


@pytest.fixture
def other_site() -> Iterator[str]:
    """A page at another origin (another port of 127.0.0.1): any site the user visits."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>another site</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# What a hostile page tries: a simple POST (no preflight), a reset, a WebSocket that
# would read and revoke. Each promise settles; the page learns nothing either way.
_ATTACK = """async (mock) => {
  const simple = {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}};
  await fetch(mock + "/__admin/faults",
              {...simple, body: 'match: {path: "/api/*"}\\nrespond: {status: 503}\\n'});
  await fetch(mock + "/__admin/reset", simple);
  await fetch(mock + "/__admin/clock?advance=3600", simple);
  return await new Promise((done) => {
    const ws = new WebSocket(mock.replace("http", "ws") + "/connection/websocket");
    ws.onopen = () => {
      ws.send(JSON.stringify({id: 1, connect: {token: "alice-token"}}));
      done("open");
    };
    ws.onerror = () => done("refused");
  });
}"""


def test_a_page_of_another_site_changes_nothing(browser, mock, other_site):
    context = browser.new_context()
    page = context.new_page()
    page.goto(other_site)
    now = mock.now_ms
    assert page.evaluate(_ATTACK, mock.url) == "refused"
    assert mock.faults == [] and mock.requests == [] and mock.now_ms == now
    assert requests.get(mock.url + LIST, headers=ALICE, timeout=10).status_code == 200
    context.close()


def test_an_allowed_browser_app_reads_and_writes_through_cors(browser, other_site):
    with MockServer("default", allow_origins=[other_site]) as mock:
        context = browser.new_context()
        page = context.new_page()
        page.goto(other_site)
        # Authorization and a JSON body make both calls preflighted, as a real app's are.
        got = page.evaluate(
            """async (mock) => {
              const auth = {Authorization: "Bearer alice-token"};
              const listed = await (await fetch(mock + "/api/v3/credential/list",
                                                {headers: auth})).json();
              const created = await fetch(mock + "/api/v3/credential/create", {
                method: "POST",
                headers: {...auth, "Content-Type": "application/json"},
                body: JSON.stringify({venue: "BINANCE", apiKey: "k".repeat(64), apiSecret: "s"}),
              });
              return [listed.data.length, created.status];
            }""",
            mock.url,
        )
        assert got == [4, 200]
        assert len(mock.credentials()) == 5
        context.close()
