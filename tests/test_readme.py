"""The README's "Use in your tests" examples, run as a new user would paste them.

Each python block starts with a `# filename.py` comment: `test_*.py` blocks become a
downstream project's test files (run serially and under xdist), others are scripts run
with the interpreter. A README edit that breaks an example fails here.
"""

from __future__ import annotations

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

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "Use in your tests"
# Keep the clients loaded across in-process pytester runs (see test_plugin.py).
_PRELOADED = (aiohttp, httpx, requests)


def section_blocks(text: str, title: str) -> dict[str, str]:
    """`{filename: code}` for the python blocks of one `## title` section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    blocks = {}
    for code in re.findall(r"^```python\n(.*?)^```", match.group(1), re.M | re.S):
        first = code.splitlines()[0]
        name = re.fullmatch(r"# (\w+\.py)", first)
        assert name, f"python block must start with '# name.py', starts with {first!r}"
        blocks[name.group(1)] = code
    return blocks


BLOCKS = section_blocks(README.read_text(encoding="utf-8"), SECTION)
TESTS = {name: code for name, code in BLOCKS.items() if name.startswith("test_")}
SCRIPTS = {name: code for name, code in BLOCKS.items() if not name.startswith("test_")}


def test_the_section_has_examples_for_every_client() -> None:
    text = "\n".join(TESTS.values())
    for needle in ("requests.get", "httpx.Client", "httpx.AsyncClient", "aiohttp.ClientSession"):
        assert needle in text, needle
    assert "aiohttp_client(cadenza_mock_app)" in text
    assert "cadenza_scenario" in text and "MockServer" in "\n".join(SCRIPTS.values())


def _count_tests(code: str) -> int:
    return len(re.findall(r"^\s*(?:async )?def test_", code, re.M))


@pytest.mark.parametrize("args", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_readme_test_examples_pass(pytester: pytest.Pytester, args: tuple[str, ...]) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for name, code in TESTS.items():
        (pytester.path / name).write_text(code, encoding="utf-8")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=sum(_count_tests(code) for code in TESTS.values()))


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_readme_scripts_run(name: str, tmp_path: Path) -> None:
    script = tmp_path / name
    script.write_text(SCRIPTS[name], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"served at http://127\.0\.0\.1:\d+", done.stdout), done.stdout


def test_the_errors_table_lists_every_catalogue_row():
    """Each (status, errno) the mock can answer has a row in the README's Errors table."""
    from cadenza_mock.contract.errors import CATALOGUE

    match = re.search(r"^## Errors\n(.*?)(?=^## )", README.read_text(encoding="utf-8"), re.M | re.S)
    assert match
    rows = set(re.findall(r"^\| (\d{3}) \| (-\d+) \|", match.group(1), re.M))
    missing = sorted({(str(k.status), str(k.errno)) for k in CATALOGUE} - rows)
    assert not missing, f"README Errors table lacks {missing}"


def test_the_rpc_methods_table_is_the_rpc_table_with_the_rows_twins():
    """The WebSocket API section's RPC methods table names every method of http/rpc.py's
    table, once, and as its REST twin the operation whose row names it (`rpc=`)."""
    from cadenza_mock.contract.operations import API_PREFIX, OPERATIONS
    from cadenza_mock.http.rpc import METHODS

    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## WebSocket API\n(.*?)(?=^## )", text, re.M | re.S)
    assert match
    table = re.search(
        r"^\| method \| params \| result `data` \| REST twin \|\n(.*?)\n\n", match[1], re.M | re.S
    )
    assert table, "no RPC methods table in the WebSocket API section"
    rows = re.findall(
        r"^\| `([a-z_.]+)` \|.*\| `(GET|POST|PUT|DELETE) (/[^`]*)`[^|]*\|$", table[1], re.M
    )
    assert len(rows) == len(table[1].splitlines()) - 1, "a row whose method or twin is not `...`"
    named = [method for method, _, _ in rows]
    assert sorted(named) == sorted(METHODS), "README RPC table and rpc.METHODS differ"
    twins = {op.rpc: (op.method, op.path) for op in OPERATIONS if op.rpc}
    shown = {
        method: (verb, path if path.startswith(API_PREFIX) else API_PREFIX + path)
        for method, verb, path in rows
    }
    assert shown == twins


# ------------------------------------------------------------------ curl walkthroughs

# Sections (`##` or `###`) whose console blocks are replayed against a fresh `serve`:
# every `$ curl` line must print exactly the line that follows it in the README.
REPLAYED = (
    "Trading accounts",
    "Near-miss hints",
    "Namespaces: one server for a whole team",
    "Security",
    "Wire profiles: docs and sdk",
    "Stubs",
)
# A section's `$ cadenza-mock serve ARGS` line starts its server with ARGS (a fresh port);
# the loopback URL it printed stands for that server's in the lines after it.
LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")


def _section(text: str, title: str) -> str:
    """One `## title` or `### title` section, up to the next heading of its level or above."""
    match = re.search(rf"^(##|###) {re.escape(title)}\n", text, re.M)
    assert match, f"README has no '## {title}' or '### {title}' section"
    end = re.compile(rf"^#{{2,{len(match.group(1))}}} ", re.M).search(text, match.end())
    body = text[match.end() : end.start() if end else len(text)]
    # A subsection replayed on its own (with its own server) is not part of this one.
    for other in REPLAYED:
        inner = re.search(rf"^#{{3,}} {re.escape(other)}\n", body, re.M)
        if other != title and inner:
            body = body[: inner.start()]
    return body


def console_steps(text: str, title: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of each `$ ` line in one section's console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"^```console\n(.*?)^```", _section(text, title), re.M | re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps


def run_curl(command: str, variables: dict[str, str]) -> str:
    """Run one `curl -s ...` line of the README with requests: what curl would print.

    `curl -si` prints the status line and headers too; `| grep -i PATTERN` keeps the
    lines that match."""
    command, _, grep = command.partition(" | grep -i ")
    words = shlex.split(command)
    assert words[0] == "curl" and words[1] in ("-s", "-si"), command
    method, url, headers, data = "GET", "", {}, None
    args = iter(words[2:])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            name, _, value = _expand(next(args), variables).partition(": ")
            headers[name] = value
        elif word == "-d":
            data = _expand(next(args), variables)
        else:
            url = _expand(word, variables)
    response = requests.request(method, url, headers=headers, data=data, timeout=10)
    printed = response.text
    if words[1] == "-si":
        head = [f"HTTP/1.1 {response.status_code} {response.reason}"]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        printed = "\n".join([*head, "", printed])
    if grep:
        pattern = shlex.split(grep)[0]
        printed = "\n".join(line for line in printed.splitlines() if re.search(pattern, line, re.I))
    return printed


def _expand(word: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], word)


def replay(title: str, base_url: str) -> list[tuple[str, list[str], str]]:
    """Each step of a section as (command, README output, real output) on a server."""
    variables: dict[str, str] = {}
    found = []
    for command, expected in console_steps(README.read_text(encoding="utf-8"), title):
        if command.startswith("cadenza-mock "):  # the server itself: see serve_args
            continue
        if not command.startswith("curl "):  # B=...; H='...': shell assignments
            for part in shlex.split(command.replace(";", " ")):
                name, _, value = part.partition("=")
                variables[name] = LOOPBACK.sub(base_url, value)
            continue
        real = LOOPBACK.sub(base_url, command)
        found.append((command, expected, run_curl(real, variables)))
    return found


def serve_args(title: str) -> tuple[list[str], str | None]:
    """The section's `cadenza-mock serve` arguments (no --port) and the banner's first line
    the README shows for them; none for a section that uses the default server."""
    for command, expected in console_steps(README.read_text(encoding="utf-8"), title):
        if command.startswith("cadenza-mock serve"):
            args = shlex.split(command)[2:]
            if "--port" in args:
                at = args.index("--port")
                del args[at : at + 2]
            return args, expected[0] if expected else None
    return [], None


@pytest.mark.parametrize("title", REPLAYED)
def test_curl_walkthroughs_print_what_the_readme_shows(title: str, serve: Any) -> None:
    args, first_line = serve_args(title)
    served = serve(*args)
    url, _ = served.banner()
    if first_line is not None:
        assert LOOPBACK.sub(url, first_line) == served.output[0].rstrip("\n")
    steps = replay(title, url)
    assert steps, f"no curl lines in '## {title}'"
    for command, expected, got in steps:
        assert expected == [got], f"{command}\n  README: {expected}\n  server: {got}"
