"""The admin API's schema of a scenario body, from the scenario keys' declarations
(`scenario/keys.py`): which keys each record may give, and what each means.

Keys and descriptions only: the values are checked by the scenario loader (a bad one is a
400 naming it, with its line), with rules (unique ids, the profile's venues, one venue per
account) a schema would only repeat and drift from.
"""

from __future__ import annotations

from typing import Any

from cadenza_mock.scenario import keys


def _entries(table: tuple[keys.ScenarioKey, ...], what: str) -> dict[str, Any]:
    """A list key's items: explicit records or `generate: N` entries."""
    allowed = [*keys.names(table), keys.GENERATE.name]
    properties = {key.name: {"description": keys.description(key, table)} for key in table}
    properties[keys.GENERATE.name] = {
        "description": f"{keys.GENERATE.type}: make this many {what}, drawn from the seed "
        f"(with {', '.join(keys.generate_names(table)[1:])})"
    }
    return {"propertyNames": {"enum": allowed}, "properties": properties}


def _properties(
    table: tuple[keys.ScenarioKey, ...], nested: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    return {
        key.name: {"description": keys.description(key, table), **nested.get(key.name, {})}
        for key in table
    }


def scenario_file_schema() -> dict[str, Any]:
    """`AdminScenarioFile`: a scenario file's content, as in scenarios/*.yaml."""
    user = {
        "propertyNames": {"enum": list(keys.names(keys.USER))},
        "properties": _properties(
            keys.USER,
            {
                "credentials": {"items": _entries(keys.CREDENTIAL, "credentials")},
                "trading_accounts": {"items": _entries(keys.TRADING_ACCOUNT, "trading accounts")},
            },
        ),
    }
    return {
        "type": "object",
        "propertyNames": {"enum": list(keys.names(keys.TOP))},
        "properties": _properties(keys.TOP, {"users": {"items": user}}),
        "description": "a scenario file's content, as in scenarios/*.yaml",
    }
