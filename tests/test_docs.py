"""Every example of the documentation (README.md and docs/), run; its tables checked.

tests/doc_examples.py reads the pages; this file runs what it finds: each page's python
test files as a downstream project (serially and under xdist), its scripts with the
interpreter, and each section's console blocks against a fresh `cadenza-mock serve`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests
from doc_examples import (
    LOG_LINE,
    LOOPBACK,
    Replay,
    banner_line,
    blocks,
    console_steps,
    count_tests,
    files_of,
    log_lines,
    printed_outputs,
    python_examples,
    replayed_sections,
    section,
    shows,
    table,
    timeless,
)
from support import write

# Keep the clients loaded across in-process pytester runs (see test_plugin.py).
_PRELOADED = (aiohttp, httpx, requests)

EXAMPLES = python_examples()
# Every page's test files make one downstream project (names are unique across pages).
TESTS = {
    name: code
    for files in EXAMPLES.values()
    for name, code in files.items()
    if name.startswith("test_")
}
SCRIPTS = {
    f"{page}:{name}": code
    for page, files in EXAMPLES.items()
    for name, code in files.items()
    if not name.startswith("test_")
}
# The skip reason of a python example that needs a Docker API and the image.
NEEDS_CONTAINERS = "needs a Docker API and the image (tests/test_testcontainers.py runs it)"
# What a script must print besides exiting 0 (the others print what they like).
SCRIPT_OUTPUT = {
    "docs/pytest.md:script.py": r"served at http://127\.0\.0\.1:\d+",
    "docs/recording.md:record_example.py": (
        r"wrote uat\.yaml \(docs profile, 1 users, 4 credentials, \d trading accounts, "
        r"1 replayed queries\)\nsame bytes"
    ),
    "docs/recording.md:drift_example.py": (
        r"docs 0 8 \[\]\nsdk 1 8 \['enum', 'missing field', 'unknown field'\]"
    ),
}
# What a script prints, exactly, where the page shows it (`<!-- replay: prints: x.py -->`).
PRINTED = printed_outputs()


def test_every_block_is_run_or_says_why_not() -> None:
    """Every console block is replayed (it has commands), or is marked
    `<!-- replay: skip: why -->` with a reason; every python block is named, but for the
    contributor pages' excerpts of the package's source."""
    for block in blocks("console"):
        if block.marker:
            assert block.marker[0] in ("skip", "prints") and block.marker[1], block.where
        else:
            assert block.code.startswith("$ "), f"{block.where}: a console block starts with $"
    names = [name for files in EXAMPLES.values() for name in files]
    excerpts = [b for b in blocks("python") if b.marker]
    # Excerpts of the package's source; or an example that needs a container engine, which
    # tests/test_testcontainers.py runs where podman is.
    assert all(
        b.page.startswith("docs/contributing/") or b.marker == ("skip", NEEDS_CONTAINERS)
        for b in excerpts
    ), excerpts
    assert len(names) == len(set(names)) == len(blocks("python")) - len(excerpts), names
    assert set(SCRIPT_OUTPUT) <= set(SCRIPTS)
    assert set(PRINTED) <= set(SCRIPTS), set(PRINTED) - set(SCRIPTS)


def test_the_plugin_page_has_examples_for_every_client() -> None:
    text = "\n".join(c for n, c in EXAMPLES["docs/pytest.md"].items() if n.startswith("test_"))
    for needle in ("requests.get", "httpx.Client", "httpx.AsyncClient", "aiohttp.ClientSession"):
        assert needle in text, needle
    assert "aiohttp_client(cadenza_mock_app)" in text
    assert "cadenza_scenario" in text and "MockServer" in SCRIPTS["docs/pytest.md:script.py"]


@pytest.mark.parametrize(
    "args", [(), pytest.param(("-n", "2"), marks=pytest.mark.slow)], ids=["serial", "xdist"]
)
def test_the_test_examples_pass(pytester: pytest.Pytester, args: tuple[str, ...]) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for name, code in TESTS.items():
        (pytester.path / name).write_text(code, encoding="utf-8")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=sum(count_tests(code) for code in TESTS.values()))


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_scripts_run(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    script = tmp_path / name.rsplit(":", 1)[1]
    script.write_text(SCRIPTS[name], encoding="utf-8")
    env = dict(os.environ)
    if re.search(r"^import cadenza_client", SCRIPTS[name], re.M):  # the official client
        env["PYTHONPATH"] = str(request.getfixturevalue("official_client"))
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    if name in SCRIPT_OUTPUT:
        assert re.search(SCRIPT_OUTPUT[name], done.stdout), done.stdout
    if name in PRINTED:  # exactly what the page shows it prints
        assert done.stdout == PRINTED[name]


@pytest.mark.parametrize("title", [s.title for s in replayed_sections()])
def test_console_blocks_print_what_the_page_shows(
    title: str, serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each `$ ` line prints exactly the lines below it; the section's `cadenza-mock serve
    ARGS` line (if any) starts its server, whose banner must read as shown."""
    part = section(title)
    steps = console_steps(part)
    files_of(part, write, tmp_path)
    monkeypatch.chdir(tmp_path)
    started = [s for s in steps if s.command.startswith("cadenza-mock serve")]
    assert len(started) <= 1, f"{title}: one server per section"
    args = shlex.split(started[0].command)[2:] if started else []
    if "--port" in args:
        at = args.index("--port")
        del args[at : at + 2]
    served = serve(*args)
    shown = [x for x in (started[0].expected if started else []) if not LOG_LINE.match(x)]
    # The lines the page shows are the banner's first lines (it may show fewer).
    banner = "".join(served.read_until("\n") for _ in shown) or served.read_until("curl ")
    if shown:
        port = re.search(r"127\.0\.0\.1:(\d+)", shown[0])
        assert port, shown[0]
        printed = [banner_line(x, port.group(1)) for x in banner.splitlines()]
        assert printed == [banner_line(x, port.group(1)) for x in shown], part.page
    url = LOOPBACK.search(banner)
    assert url, banner
    done = Replay(url.group(0), tmp_path).run(steps)
    assert done or shown, f"{title}: nothing replayed"
    for command, expected, printed in done:
        where = f"{part.page}: {command}"
        assert shows(expected, printed), f"{where}\n  page:   {expected}\n  server: {printed}"
    logged = log_lines(part)
    if logged:
        code, output = served.stop()
        assert code == 0
        real = {timeless(line) for line in output.splitlines()}
        for line in logged:
            assert timeless(line) in real, f"{part.page}: log line not printed: {line}"


def test_the_errors_table_lists_every_catalogue_row() -> None:
    """Each (status, errno) the mock can answer has a row in the Errors table."""
    from cadenza_mock.contract.errors import CATALOGUE

    rows = {(row["HTTP"], row["errno"]) for row in table("Errors")}
    missing = sorted({(str(k.status), str(k.errno)) for k in CATALOGUE} - rows)
    assert not missing, f"{section('Errors').page}: the Errors table lacks {missing}"


def test_an_ellipsis_stands_for_text_and_nothing_else_is_loose() -> None:
    assert shows(['{"expiresAt":...,"user":1}'], ['{"expiresAt":1796631956,"user":1}'])
    assert not shows(['{"expiresAt":...,"user":1}'], ['{"expiresAt":1796631956,"user":2}'])
    assert not shows(["a"], ["a", "b"])
    assert not shows(["a.b"], ["axb"])  # only `...` is loose; the rest is literal
