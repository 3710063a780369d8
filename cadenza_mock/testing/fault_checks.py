"""The fault helpers' own words, and the check that a test's faults fired.

`fail_next(200)` is refused by the parser that reads every fault, which speaks of
`respond.status` and `add_fault`: `armed_by` says it as the helper the test called, with
its argument names. `unfired` / `describe_unfired` find the faults a test armed that never
fired (`--cadenza-unfired-faults`), from the counters `mock.faults` lists in-process and
remotely alike. No aiohttp import: remote mode does not need it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cadenza_mock.contract.errors import ScenarioError, ScenarioIssue
from cadenza_mock.scenario.faults import parse_fault_dict

# A key path of the fault a helper builds -> the helper's argument that wrote it.
HELPER_ARGUMENTS = {
    "match.path": "path",
    "match.method": "method",
    "respond.status": "status",
    "respond.errno": "errno",
    "respond.error": "error",
    "rate_limit.retry_after": "retry_after",
    "delay": "seconds",
    "delay.min": "seconds",
    "delay.max": "seconds",
    "times": "times",
    # An action refused on the transports the match names (`malformed` on the upgrade).
    "respond": "path",
    "rate_limit": "path",
    "drop": "path",
    "malformed": "path",
}


def armed_by(helper: str, spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """`spec` checked as `helper()` built it: a ScenarioError names the helper and the
    argument at fault (`fail_next(): status: ...`), not the fault's key path."""
    try:
        parse_fault_dict(spec, helper)
    except ScenarioError as exc:
        raise ScenarioError([_as_argument(helper, issue) for issue in exc.issues]) from None
    return spec


def _as_argument(helper: str, issue: ScenarioIssue) -> ScenarioIssue:
    where, sep, problem = issue.message.partition(": ")
    argument = HELPER_ARGUMENTS.get(where) if sep else None
    message = f"{argument}: {problem}" if argument else issue.message
    return ScenarioIssue(f"{helper}()", 0, 0, message)


def unfired(faults: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The faults armed at run time (by the test: a helper, `add_fault`, the admin API)
    that never fired. A scenario's own faults are the scenario's business: not listed."""
    return [f for f in faults if f.get("origin") == "runtime" and not f.get("fired")]


def describe_unfired(faults: Sequence[Mapping[str, Any]]) -> str:
    """One line per unfired fault: id, match, action and how many calls it matched (the
    admin API's form, secrets it matches on already redacted)."""
    lines = [f"cadenza-mock: {len(faults)} fault(s) armed by the test never fired:"]
    for fault in faults:
        spec = dict(fault.get("fault") or {})
        spec.pop("id", None)
        match = spec.pop("match", None)
        where = f"match {_compact(match)}" if match else "match any call"
        matched = int(fault.get("matched") or 0)
        why = f"matched {matched} call(s), fired none" if matched else "matched no call"
        lines.append(f"  {fault.get('id')}: {where}, {_compact(spec)}: {why}")
    return "\n".join(lines)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), default=str)
