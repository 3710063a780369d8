"""ServerOptions, the one value every `serve` option lives in: the CLI flags, the docs'
variable table, make_app and MockServer agree with it; and `serve`'s start imports only
what its first answer needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import doc_examples
import pytest
import requests
from support import LIST, bearer

from cadenza_mock import MockServer, make_app
from cadenza_mock.contract import wire
from cadenza_mock.contract.options import ServerOptions
from cadenza_mock.http.keys import HINTS, STATE
from cadenza_mock.run.cli import ENV_PREFIX, build_parser


def serve_flags() -> dict[str, str]:
    """flag -> argparse dest of every `serve` option."""
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    return {
        flag: action.dest
        for action in serve._actions
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    }


def test_every_option_is_a_serve_flag_and_every_flag_an_option():
    flags = serve_flags()
    fields = {ServerOptions.flag(name) for name in ServerOptions.names()}
    assert fields <= set(flags), f"fields without a flag: {fields - set(flags)}"
    # The token file is read into admin_token: the one flag that is not a field itself.
    assert set(flags) - fields == {"--admin-token-file"}
    for name in ServerOptions.names():
        assert ServerOptions.doc(name), f"{name} has no doc line"


def test_the_docs_variable_table_lists_every_serve_option():
    documented: dict[str, str] = {}
    for row in doc_examples.table("CLI options", "variable"):
        variables, flags = row["variable"], row["same as"]
        names = re.findall(r"`(CADENZA_MOCK_\w+)`", variables)
        given = re.findall(r"`(--[a-z-]+)`", flags)
        assert names and len(names) == len(given), row
        documented.update(zip(given, names, strict=True))
    flags = serve_flags()
    assert set(documented) == set(flags), (
        f"missing: {set(flags) - set(documented)}; unknown: {set(documented) - set(flags)}"
    )
    for flag, variable in documented.items():
        assert variable == ENV_PREFIX + flags[flag].upper(), flag


def test_defaults_are_the_help_text_defaults():
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    defaults = ServerOptions()
    for action in serve._actions:
        if action.dest in ServerOptions.names() and action.default is not None:
            assert action.default == getattr(defaults, action.dest), action.dest


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"read_timeout": 0}, "read_timeout: must be more than 0 and at most 3600 seconds"),
        ({"journal_limit": -1}, "journal_size: must be 0 or more"),
        ({"port": 70000}, "port: port must be 0 to 65535"),
        ({"profile": "rest"}, "profile: choose from docs, sdk"),
    ],
)
def test_mock_server_checks_its_keywords_as_serve_checks_its_flags(keywords, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MockServer("default", **keywords)


def test_make_app_refuses_an_unknown_keyword_and_a_bad_value():
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_record'"):
        make_app("default", max_record=5)
    with pytest.raises(ValueError, match="max_records: must be 0 or more"):
        make_app("default", max_records=-1)


async def test_make_app_takes_options_and_keywords_over_them(make_client: Any):
    options = ServerOptions(journal_size=5, hints=False)
    client = await make_client("default", options=options, journal_limit=1)
    state = client.server.app[STATE]
    assert client.server.app[HINTS] is False
    for _ in range(3):
        answer = await client.get(LIST, headers=bearer(state.scenario.users[0].tokens[0]))
        assert answer.status == 200
    assert len(state.journal.entries()) == 1  # journal_limit=1 won over the options' 5


def test_the_one_encoder_keeps_utf8_and_escapes_a_lone_surrogate():
    value = {"name": "Zürich ✓", "odd": "\ud800"}
    assert wire.dumps(value) == b'{"name":"Z\xc3\xbcrich \xe2\x9c\x93","odd":"\\ud800"}'
    assert wire.dumps_text({"a": [1, "é"]}) == '{"a":[1,"é"]}'


# `serve` in a fresh interpreter: at its first answer, which modules has it loaded?
# (http.client, imported before the server, rather than requests, which loads metadata.)
FIRST_ANSWER = """
import http.client, json, os, signal, socket, sys, threading, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
def get(path, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status
def probe():
    while True:
        try:
            first = get("/api/v3/credential/list", {"Authorization": "Bearer alice-token"})
            break
        except OSError:
            time.sleep(0.01)
    at_first = sorted(sys.modules)
    document = get("/api/v3/openapi.json", {})
    print(json.dumps([first, document, at_first, sorted(sys.modules)]))
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=probe, daemon=True).start()
from cadenza_mock.run.cli import main
main(["serve", "--port", str(port), "--quiet"])
"""


def test_serve_loads_the_documents_and_the_state_file_code_only_when_asked():
    run = subprocess.run(
        [sys.executable, "-c", FIRST_ANSWER], capture_output=True, text=True, timeout=120
    )
    line = [text for text in run.stdout.splitlines() if text.startswith("[")]
    assert line, run.stdout + run.stderr
    first, document, at_first, after = json.loads(line[0])
    assert (first, document) == (200, 200)
    deferred = {
        "cadenza_mock.specs.openapi",
        "cadenza_mock.specs.asyncapi",
        "cadenza_mock.http.meta",
        "cadenza_mock.http.ui",
        "cadenza_mock.engine.persist",
        "cadenza_mock.run.state_file",
        "importlib.metadata",
        "faker",
        "trustme",
    }
    assert not deferred & set(at_first)
    # ...and they are there once asked for (so the check above reads the right process).
    assert {"cadenza_mock.specs.openapi", "cadenza_mock.http.meta"} <= set(after)
    assert "cadenza_mock.http.app" in at_first


def test_mock_server_serves_with_the_options_it_was_given():
    with MockServer("default", journal_limit=0, hints=False) as mock:
        assert mock.options.journal_size == 0 and mock.options.hints is False
        ok = requests.get(mock.url + LIST, headers=mock.auth_headers, timeout=10)
        assert ok.status_code == 200
        assert mock.requests == []
