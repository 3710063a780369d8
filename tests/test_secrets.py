"""No secret given in a scenario ever leaves the process: responses, journal, logs, errors."""

from __future__ import annotations

import json

import pytest
import requests
from support import LIST, write

from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.scenario import load_scenario

SECRETS = {
    "binance key": "BINANCEfullKEYvalue000111222333444555666777888999aaabbbcccdddeeeff",
    "binance secret": "binance-api-secret-value-Q9",
    "okx key": "0f5e9a7c-3b1d-4e2f-8a6b-9c0d1e2f3a4b",
    "okx secret": "okx-api-secret-value-Z7",
    "okx passphrase": "okx-passphrase-value-K3",
    "password": "alice-password-value-P5",
}
SCENARIO = f"""\
seed: 8
users:
  - email: alice@example.com
    password: {SECRETS["password"]}
    tokens: [alice-token]
    credentials:
      - venue: BINANCE
        apiKey: {SECRETS["binance key"]}
        apiSecret: {SECRETS["binance secret"]}
      - venue: OKX
        apiKey: {SECRETS["okx key"]}
        apiSecret: {SECRETS["okx secret"]}
        apiPassphrase: {SECRETS["okx passphrase"]}
      - generate: 3
        venue: [OKX, KRAKEN]
"""
# Fragments long enough to identify a leaked value; masking keeps only the first six.
FRAGMENTS = {name: value[6:] for name, value in SECRETS.items()}


def leaked(text: str, fragments: dict[str, str]) -> list[str]:
    return [name for name, fragment in fragments.items() if fragment in text]


def generated_fragments(path) -> dict[str, str]:
    """Secrets the scenario generated itself (keys, secrets, passphrases of `generate:`)."""
    found = {}
    for cred in load_scenario(path).credentials:
        for attr in ("api_key", "api_secret", "api_passphrase"):
            value = getattr(cred, attr)
            if value and not value.endswith("***"):
                found[f"{cred.credential_id} {attr}"] = value[6:]
    return found


def test_no_secret_in_responses_journal_or_log(tmp_path, serve):
    path = write(tmp_path / "secrets.yaml", SCENARIO)
    fragments = {**FRAGMENTS, **generated_fragments(path)}
    assert len(fragments) > len(FRAGMENTS)  # the generated OKX/KRAKEN records count too
    server = serve("--scenario", str(path))
    url, token = server.banner()
    auth = {"Authorization": f"Bearer {token}"}
    bodies = []
    for method, target, headers in [
        ("GET", LIST, auth),
        ("GET", f"{LIST}?status=ACTIVE&type=EXCHANGE", auth),
        ("GET", f"{LIST}?status=NOPE", auth),
        ("GET", f"{LIST}?credentialIds=zz", auth),
        ("GET", LIST, {}),
        ("GET", LIST, {"Authorization": "Bearer wrong"}),
        ("POST", LIST, auth),
        ("GET", "/api/v3/nothing", auth),
        ("GET", "/__admin/health", {}),
        ("GET", "/__admin/scenario", {}),
        ("GET", "/__admin/requests", {}),
    ]:
        response = requests.request(method, url + target, headers=headers, timeout=10)
        bodies.append(f"{method} {target} -> {response.status_code} {response.text}")
    journal = requests.get(f"{url}/__admin/requests", timeout=10)
    assert journal.status_code == 200
    entries = journal.json()["data"]
    assert len(entries) >= 8  # the API calls above were journalled...
    bodies.append(journal.text)
    for body in bodies:
        assert leaked(body, fragments) == [], body
    listed = json.loads(bodies[0].split(" ", 4)[4])["data"]
    keys = {i["apiKey"] for i in listed}
    assert {SECRETS["binance key"][:6] + "***", SECRETS["okx key"][:6] + "***"} <= keys
    code, output = server.stop()
    assert code == 0
    assert f"GET {LIST}" in output  # ...and logged
    assert leaked(output, fragments) == [], output


def test_journal_never_holds_the_bearer_token(tmp_path, serve):
    server = serve("--scenario", "default")
    url, token = server.banner()
    requests.get(url + LIST, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    entries = requests.get(f"{url}/__admin/requests", timeout=10).json()["data"]
    assert entries and all(token not in json.dumps(entry) for entry in entries)
    server.stop()


@pytest.mark.parametrize(
    "field", ["password: 123456789", "apiKey: 123456789", "apiSecret: 123456789"]
)
def test_scenario_errors_never_quote_a_secret(tmp_path, field):
    """A secret of the wrong type is reported without its value (errors reach logs/HTTP)."""
    if field.startswith("password"):
        text = f"users:\n  - {field}\n"
    else:
        text = f"users:\n  - credentials:\n      - venue: BINANCE\n        {field}\n"
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "expected str" in message and "secret" in message
    assert "123456789" not in message


def test_records_and_users_do_not_repr_secrets(tmp_path):
    scenario = load_scenario(write(tmp_path / "s.yaml", SCENARIO))
    text = repr(scenario)
    assert "BINANCE" in text  # the records are in there...
    assert leaked(text, FRAGMENTS) == []  # ...without their secrets or full keys


def test_secrets_outside_the_known_body_fields_are_redacted_too(serve):
    """Secret-named query parameters and headers (any spelling) and non-string API keys:
    the journal and the log line show none of them."""
    served = serve()
    url, token = served.banner()
    leaks = ["QUERYSECRET1", "pw-in-query-2", "HEADERSECRET3", "SNAKESECRET4", "FULLKEY567890"]
    query = f"?status=ACTIVE&apiSecret={leaks[0]}&password={leaks[1]}&api_key=abcdefghijkl"
    headers = {"Authorization": f"Bearer {token}", "X-Api-Secret": leaks[2]}
    assert requests.get(f"{url}{LIST}{query}", headers=headers, timeout=10).ok
    body = {"api_secret": leaks[3], "apiKey": [leaks[4]], "credentialId": "x"}
    requests.post(f"{url}/api/v3/credential/revoke", headers=headers, json=body, timeout=10)
    journal = requests.get(f"{url}/__admin/requests", timeout=10).text
    _, log = served.stop()
    for leak in leaks:
        assert leak not in journal
        assert leak not in log
    entries = json.loads(journal)["data"]
    assert entries[0]["query"]["status"] == ["ACTIVE"]  # ordinary parameters stay readable
    assert entries[0]["query"]["api_key"] == ["abcdef***"]
    assert "status=ACTIVE" in log and "apiSecret=<redacted>" in log
