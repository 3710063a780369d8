"""The README's "Use in your tests" examples, run as a new user would paste them.

Each python block starts with a `# filename.py` comment: `test_*.py` blocks become a
downstream project's test files (run serially and under xdist), others are scripts run
with the interpreter. A README edit that breaks an example fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
    from cadenza_mock.errors import CATALOGUE

    match = re.search(r"^## Errors\n(.*?)(?=^## )", README.read_text(encoding="utf-8"), re.M | re.S)
    assert match
    rows = set(re.findall(r"^\| (\d{3}) \| (-\d+) \|", match.group(1), re.M))
    missing = sorted({(str(k.status), str(k.errno)) for k in CATALOGUE} - rows)
    assert not missing, f"README Errors table lacks {missing}"
