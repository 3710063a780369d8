"""The `cadenza-mock` command from the outside: a real process, real sockets, real signals."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest
import requests
from support import LIST, REPO, run_cli, write

from cadenza_mock import __version__
from cadenza_mock.run.cli import build_parser, main
from cadenza_mock.scenario import bundled_descriptions, bundled_names
from cadenza_mock.version import uvloop_version

SERVE_OPTIONS = [
    "--host",
    "--port",
    "--scenario",
    "--seed",
    "--profile",
    "--watch",
    "--admin-token",
    "--admin-token-file",
    "--scenario-dir",
    "--admin-open",
    "--allow-origin",
    "--allow-host",
    "--journal-size",
    "--read-timeout",
    "--quiet",
    "--max-namespaces",
    "--namespace-idle",
    "--max-records",
    "--max-streams",
    "--no-hints",
    "--no-fast-path",
    "--tls",
    "--tls-ca-file",
    "--tls-cert",
    "--tls-key",
    "--loop",
    "--state-file",
    "--max-connections",
    "--replica-id",
    "--market-interval",
    "--upstream",
]
RECORD_OPTIONS = ["--upstream", "--ws-upstream", "--out", "--host", "--port"]
DRIFT_OPTIONS = ["--against", "--token", "--profile", "--ws-upstream", "--json"]


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    loop = f"uvloop {uvloop_version()}" if uvloop_version() else "asyncio"
    assert result.stdout.strip() == f"cadenza-mock {__version__} (event loop: {loop})"


@pytest.mark.parametrize(
    ("args", "env", "wanted"),
    [
        (["--loop", "asyncio"], {}, "asyncio"),
        ([], {"CADENZA_MOCK_LOOP": "asyncio"}, "asyncio"),
        (["--loop", "uvloop"], {}, "uvloop"),
        ([], {}, "uvloop"),
    ],
)
def test_serve_runs_and_names_the_event_loop(serve, args, env, wanted):
    if wanted == "uvloop" and uvloop_version() is None:
        pytest.skip("uvloop is not installed here")
    server = serve(*args, "--scenario", "default", env=env)
    url, token = server.banner()
    loop_line = server.read_until("  loop   ").splitlines()[-1]
    assert loop_line.split()[:2] == ["loop", wanted]
    ok = requests.get(f"{url}{LIST}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert ok.status_code == 200 and len(ok.json()["data"]) == 4
    assert server.stop()[0] == 0


def test_loop_choice_is_checked():
    result = run_cli("serve", "--port", "0", "--loop", "trio")
    assert result.returncode == 2 and "invalid choice: 'trio'" in result.stderr


def test_no_command_is_a_usage_error():
    result = run_cli()
    assert result.returncode == 2 and "usage:" in result.stderr


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ([], ["--version", "serve", "validate", "scenarios", "record", "drift"]),
        (["serve"], SERVE_OPTIONS),
        (["validate"], ["FILE", "--profile"]),
        (["scenarios"], ["--paths", "show NAME"]),
        (["record"], RECORD_OPTIONS),
        (["drift"], DRIFT_OPTIONS),
    ],
)
def test_help_mentions_every_option(command, options):
    # In-process: main() is the same entry point, and argparse exits 0 after --help.
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    parser = build_parser()
    declared = {
        opt
        for action in (
            parser._subparsers._group_actions[0].choices[command[0]] if command else parser
        )._actions
        for opt in action.option_strings
        if opt not in ("-h", "--help")
    }
    assert set(options) >= declared  # the list above is complete...


def test_help_text_of_every_command(capsys):
    for command, options in [
        ([], ["--version", "serve", "validate", "scenarios", "record", "drift"]),
        (["record"], RECORD_OPTIONS),
        (["drift"], [*DRIFT_OPTIONS, "CADENZA_MOCK_TOKEN"]),
        (["serve"], SERVE_OPTIONS),
        (["validate"], ["FILE", "--profile"]),
        (["scenarios"], ["ship with cadenza-mock", "serve --scenario NAME", "--paths", "show"]),
    ]:
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        text = capsys.readouterr().out
        for option in options:
            assert option in text, (command, option)  # ...and each one is explained
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    serve_help = capsys.readouterr().out
    for option in SERVE_OPTIONS:
        env = "CADENZA_MOCK_" + option.removeprefix("--").replace("-", "_").upper()
        assert env in serve_help, env


def test_scenarios_lists_every_bundled_scenario():
    result = run_cli("scenarios")
    assert result.returncode == 0
    listed = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(listed) == set(bundled_names())
    assert set(listed) == {p.stem for p in (REPO / "scenarios").glob("*.yaml")}
    for name, description in bundled_descriptions():
        assert description and description in listed[name]


def test_validate_ok_files(tmp_path):
    good = write(
        tmp_path / "good.yaml", "users:\n  - tokens: [t]\n    credentials:\n      - generate: 2\n"
    )
    result = run_cli("validate", str(good), str(REPO / "scenarios" / "default.yaml"))
    assert result.returncode == 0, result.stderr
    assert f"{good}: ok (docs profile, 1 users, 2 credentials, 0 faults)" in result.stdout


def test_validate_reports_every_problem_and_exits_1(tmp_path):
    bad = write(
        tmp_path / "bad.yaml",
        "seed: x\ncolour: 1\nusers:\n  - tokens: [a]\n    credentials:\n"
        "      - venue: FTX\n  - tokens: [a]\n",
    )
    good = write(tmp_path / "good.yaml", "seed: 1\n")
    result = run_cli("validate", str(bad), str(good), str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    located = [line for line in errors if line.startswith(f"{bad}:")]
    assert [line.split(": ")[0] for line in located] == [
        f"{bad}:1:7",
        f"{bad}:2:1",
        f"{bad}:6:16",
        f"{bad}:7:14",
    ]
    assert f"{tmp_path / 'missing.yaml'}: no such scenario file" in errors
    assert "2 of 3 file(s) have problems" in errors
    assert f"{good}: ok" in result.stdout


def test_validate_with_profile(tmp_path):
    sdk_only = write(tmp_path / "s.yaml", "users:\n  - credentials:\n      - venue: B2C2\n")
    assert run_cli("validate", str(sdk_only)).returncode == 1
    assert run_cli("validate", "--profile", "sdk", str(sdk_only)).returncode == 0


# --------------------------------------------------------------------------- serve


def test_serve_prints_url_and_a_working_curl_line_then_stops_on_sigterm(serve):
    server = serve("--scenario", "default")
    url, token = server.banner()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
    assert "scenario 'default'" in "".join(server.output)
    ok = requests.get(f"{url}{LIST}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert ok.status_code == 200 and len(ok.json()["data"]) == 4
    missing = requests.get(f"{url}/nowhere", timeout=10)
    assert missing.status_code == 404
    code, output = server.stop()
    assert code == 0
    log_lines = [line for line in output.splitlines() if " GET /" in line]
    assert len(log_lines) == 2
    assert f"GET {LIST} 200" in log_lines[0] and "GET /nowhere 404" in log_lines[1]


def test_serve_quiet_logs_no_requests(serve):
    server = serve("--quiet", "--scenario", "empty")
    url, token = server.banner()
    requests.get(f"{url}{LIST}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    code, output = server.stop()
    assert code == 0 and f"GET {LIST}" not in output


def test_serve_bad_scenario_exits_2_with_location(tmp_path):
    bad = write(tmp_path / "bad.yaml", "seed: 1\nusers:\n  - tokens: oops\n")
    result = run_cli("serve", "--port", "0", "--scenario", str(bad))
    assert result.returncode == 2
    assert f"{bad}:3:13: users[0].tokens: expected a list" in result.stderr


def test_serve_unknown_bundled_name_exits_2():
    result = run_cli("serve", "--port", "0", "--scenario", "defualt")
    assert result.returncode == 2 and "did you mean 'default'" in result.stderr


def test_env_vars_are_honoured(serve, tmp_path):
    scenario = write(
        tmp_path / "env.yaml",
        "description: from env\nusers:\n  - tokens: [env-token]\n    credentials:\n"
        "      - generate: 2\n",
    )
    server = serve(env={"CADENZA_MOCK_SCENARIO": str(scenario)})
    url, token = server.banner()
    assert token == "env-token"
    body = requests.get(f"{url}{LIST}", headers={"Authorization": "Bearer env-token"}, timeout=10)
    assert len(body.json()["data"]) == 2
    assert server.stop()[0] == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_env_port_is_used(serve):
    port = free_port()
    server = serve(env={"CADENZA_MOCK_PORT": str(port)})
    url, _ = server.banner()
    assert url == f"http://127.0.0.1:{port}"
    assert requests.get(f"{url}/__admin/health", timeout=10).status_code == 200
    assert server.stop()[0] == 0


def test_port_flag_wins_over_env(serve):
    # --port 0 picks a free port, so the variable's port 1 must not be the one used.
    server = serve("--port", "0", env={"CADENZA_MOCK_PORT": "1"})
    url, _ = server.banner()
    assert not url.endswith(":1")
    # The port read back from the banner answers before the server is stopped.
    assert requests.get(f"{url}/__admin/health", timeout=10).status_code == 200
    assert server.stop()[0] == 0


@pytest.mark.parametrize(
    ("variable", "raw", "words"),
    [
        ("CADENZA_MOCK_PORT", "eighty", "CADENZA_MOCK_PORT='eighty'"),
        ("CADENZA_MOCK_PORT", "70000", "port must be 0 to 65535"),
        ("CADENZA_MOCK_SEED", "x", "CADENZA_MOCK_SEED='x'"),
        ("CADENZA_MOCK_JOURNAL_SIZE", "-1", "must be 0 or more"),
        ("CADENZA_MOCK_QUIET", "maybe", "expected true or false"),
        ("CADENZA_MOCK_READ_TIMEOUT", "0", "more than 0 and at most 3600 seconds"),
        ("CADENZA_MOCK_READ_TIMEOUT", "soon", "CADENZA_MOCK_READ_TIMEOUT='soon'"),
        ("CADENZA_MOCK_ADMIN_OPEN", "maybe", "expected true or false"),
    ],
)
def test_bad_env_value_is_a_clear_error(variable, raw, words):
    result = run_cli("serve", env={variable: raw})
    assert result.returncode == 2
    assert words in result.stderr


def test_bad_env_scenario_exits_2():
    result = run_cli("serve", "--port", "0", env={"CADENZA_MOCK_SCENARIO": "nope-nope"})
    assert result.returncode == 2 and "no bundled scenario 'nope-nope'" in result.stderr


def test_bad_flag_value_is_a_clear_error():
    result = run_cli("serve", "--port", "-5")
    assert result.returncode == 2 and "port must be 0 to 65535" in result.stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "7200", "soon"])
def test_bad_read_timeout_flag_is_a_usage_error(value):
    result = run_cli("serve", "--read-timeout", value)
    assert result.returncode == 2 and "--read-timeout" in result.stderr


def test_scenario_dir_flag_repeats(serve, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    write(second / "two.yaml", "description: from the second folder\n")
    served = serve("--scenario-dir", str(first), "--scenario-dir", str(second), "--quiet")
    url, _ = served.banner()
    loaded = requests.put(url + "/__admin/scenario", params={"name": "two"}, timeout=10)
    assert loaded.status_code == 200 and loaded.json()["data"]["description"] == (
        "from the second folder"
    )
    assert served.stop()[0] == 0


def test_release_files_and_metadata():
    """The release's LICENSE, CHANGELOG and Project-URLs exist, match and ship in the sdist."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n\nCopyright (c) 2026 cadenza-mock developers\n")
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.*)$", changelog, re.M)
    assert headings[:2] == ["[Unreleased]", f"[{__version__}] - 2026-12-02"]
    assert __version__ == "0.2.0"
    urls = project["project"]["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())
    sdist = project["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert {"LICENSE", "CHANGELOG.md", "README.md"} <= set(sdist)
    # Every banner the documentation shows is this release's.
    from doc_examples import pages

    shown = "\n".join(pages().values())
    assert set(re.findall(r"cadenza-mock (\d+\.\d+\.\d+) serving", shown)) == {__version__}


def test_asking_for_uvloop_where_it_is_missing_says_so(monkeypatch):
    from cadenza_mock import version

    monkeypatch.setattr(version, "uvloop_version", lambda: None)
    assert version.loop_name("auto") == "asyncio" and version.loop_name("asyncio") == "asyncio"
    with pytest.raises(ValueError, match=r"uvloop is not installed \(pip install uvloop\)"):
        version.loop_name("uvloop")
    assert version.version_line().endswith("(event loop: asyncio)")


@pytest.mark.parametrize("args", [("scenarios", "--paths"), ("scenarios",)])
def test_a_reader_that_stops_early_gets_no_traceback(args: tuple[str, ...]) -> None:
    """`cadenza-mock scenarios --paths | head -1`: the pipe's reader is gone before the
    output is written (closed here at once, so every run hits it)."""
    for _ in range(3):
        process = subprocess.Popen(
            [sys.executable, "-m", "cadenza_mock", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        errors = process.stderr.read()
        assert process.wait(timeout=60) == 0
        assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


def test_the_record_and_drift_tables_list_every_option():
    """docs/reference.md's table says every option of both commands, and nothing else."""
    import doc_examples

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    declared = {
        (command, flag)
        for command in ("record", "drift")
        for action in commands[command]._actions
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    }
    rows = doc_examples.table("record and drift options", "command")
    documented = {(row["command"].strip("`"), row["option"].strip("`")) for row in rows}
    assert documented == declared
    for command in ("record", "drift"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
