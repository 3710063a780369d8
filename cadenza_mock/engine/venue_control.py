"""A trading account's venue behaviour changed at run time (contract/venue_controls.py:
`POST /__admin/venue-behavior`, `mock.venue_behavior(...)`): the body is checked by the
scenario's own reader of `venue_behavior:` (scenario/trading_keys.py), so a value the
scenario refuses the admin API refuses in the same words, and a refusal changes nothing.

What is set is in effect at once for the account's next submit and cancel (the submit
fast path steps aside for any account with a behaviour: http/fast_submit.py); a reset or
a load puts back the scenario's (engine/orders.py `Trading.reset`). A state file does not
keep it: it never held the scenario's behaviours either (they are the scenario's), and,
like a fault armed at run time, a run-time behaviour ends with the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cadenza_mock.contract.errors import ACCOUNT_NOT_FOUND, VALIDATION_FAILED, ScenarioError
from cadenza_mock.engine.orders import Trading
from cadenza_mock.engine.venue_acts import VenueBehavior
from cadenza_mock.scenario.nodes import Problems
from cadenza_mock.scenario.trading_keys import venue_behavior
from cadenza_mock.scenario.yaml_text import from_data

_WHERE = "venue_behavior"


def apply(trading: Trading, body: Any) -> dict[str, Any]:
    """Set (or with `clear: true`, or no key, clear) one account's behaviour; answer what
    is now in effect for it. ACCOUNT_NOT_FOUND before the keys are read (a body the
    document calls valid is then a 404, never a 400: tests/test_schemathesis.py), then
    VALIDATION_FAILED naming the key."""
    if not isinstance(body, Mapping):
        raise VALIDATION_FAILED.error("the body must be a JSON object: {tradingAccountId, ...}")
    given = dict(body)
    account_id = given.pop("tradingAccountId", None)
    if not isinstance(account_id, str) or not account_id:
        raise VALIDATION_FAILED.error("tradingAccountId: required, the account's id")
    account = trading.account(account_id)
    if account is None:  # first: whatever else the body says, there is no such account
        raise ACCOUNT_NOT_FOUND.error(f"no trading account {account_id}")
    clear = given.pop("clear", False)
    if clear not in (True, False):
        raise VALIDATION_FAILED.error("clear: expected true or false")
    if clear and given:
        raise VALIDATION_FAILED.error(
            f"clear: true takes no behaviour keys (given: {', '.join(map(str, given))})"
        )
    pairs = _checked(given)
    key = account.trading_account_id.lower()
    if pairs:
        trading.behaviors[key] = VenueBehavior.of(dict(pairs))
    else:
        trading.behaviors.pop(key, None)
    trading.changed = True  # a reset puts back the scenario's (engine/orders.py)
    return entry(trading, account.trading_account_id)


def _checked(given: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The body's behaviour keys as the scenario reader reads them (the one validator)."""
    if not given:
        return ()
    problems = Problems(_WHERE)
    try:
        node = from_data(given, _WHERE)
    except ScenarioError as exc:
        raise VALIDATION_FAILED.error(str(exc)) from None
    pairs = venue_behavior(node, _WHERE, problems)
    if problems.issues or pairs is None:
        raise VALIDATION_FAILED.error("; ".join(issue.message for issue in problems.issues))
    return pairs


def show(behavior: VenueBehavior) -> dict[str, Any]:
    """The behaviour as the admin API shows it: flags as booleans, numbers as text (what
    may be posted back)."""
    return {k: (v == "true") if v in ("true", "false") else v for k, v in behavior.given}


def entry(trading: Trading, trading_account_id: str) -> dict[str, Any]:
    """One account's behaviour in effect: `venueBehavior` ({} for the normal venue) and
    where it comes from (`scenario`, `admin`, or `normal`)."""
    key = trading_account_id.lower()
    found = trading.behaviors.get(key)
    if found is None:
        source = "normal"
    elif found is trading.scenario_behaviors.get(key):
        source = "scenario"
    else:
        source = "admin"
    return {
        "tradingAccountId": trading_account_id,
        "venueBehavior": {} if found is None else show(found),
        "source": source,
    }


def listed(trading: Trading, trading_account_id: str | None = None) -> list[dict[str, Any]]:
    """Every account with a behaviour in effect (of one account when given; [] when that
    one's venue is normal). ACCOUNT_NOT_FOUND for an unknown account."""
    if trading_account_id is not None:
        account = trading.account(trading_account_id)
        if account is None:
            raise ACCOUNT_NOT_FOUND.error(f"no trading account {trading_account_id}")
        keys = [account.trading_account_id.lower()]
    else:
        keys = list(trading.behaviors)
    found = []
    for key in keys:
        if key not in trading.behaviors:
            continue
        account = trading.account(key)
        found.append(entry(trading, account.trading_account_id if account else key))
    return found
