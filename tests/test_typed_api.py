"""The typed public API, as a downstream project meets it: what `cadenza_mock` exports,
that the fixture is a `MockHandle` in both modes, and `mypy --strict` on a test file that
uses every "Use in your tests" example (docs/pytest.md) (tests/examples/test_typed_usage.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from doc_examples import python_examples

import cadenza_mock
from cadenza_mock.testing.handle import MockHandle

EXAMPLES = Path(__file__).resolve().parent / "examples" / "test_typed_usage.py"

# Misuse that type checking must catch: proof that the exported names are really typed
# (an untyped package would make all of these Any, and mypy would pass them silently).
MISUSE = """\
from cadenza_mock import JournalEntry, MockHandle


def test_misuse(cadenza_mock: MockHandle) -> None:
    port: int = cadenza_mock.url
    cadenza_mock.assert_called("/api/v3/credential/list", times="2")
    entry: JournalEntry = cadenza_mock.last_call
    length: str = entry.headers["Authorization"] + 1
    cadenza_mock.rate_limit_next(retry_after="30")
    cadenza_mock.drop_next("/api/v3/credential/list")
"""


def test_public_names_are_exported_sorted_and_resolve() -> None:
    assert cadenza_mock.__all__ == sorted(cadenza_mock.__all__)
    for name in ("MockHandle", "RemoteMock", "JournalEntry", "Headers", "FaultSpec", "User"):
        assert name in cadenza_mock.__all__
    for name in cadenza_mock.__all__:
        assert getattr(cadenza_mock, name) is not None, name
    assert cadenza_mock.MockHandle is MockHandle
    assert issubclass(cadenza_mock.MockServer, MockHandle)
    assert issubclass(cadenza_mock.RemoteMock, MockHandle)
    assert set(cadenza_mock.__all__) <= set(dir(cadenza_mock))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cadenza_mock.Nope  # noqa: B018


def test_import_stays_cheap() -> None:
    """The exports load on first use: `import cadenza_mock` (which every pytest run of a
    downstream project does, through the plugin) pulls in no aiohttp, YAML or faker."""
    code = (
        "import sys, cadenza_mock\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiohttp', 'yaml', 'faker', 'multidict'))\n"
        "print(heavy, 'cadenza_mock.testing.handle' in sys.modules)\n"
        "cadenza_mock.MockHandle\n"
        "print('aiohttp' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # MockHandle itself does not need aiohttp either: remote mode runs without it.
    assert out.split("\n")[:2] == ["[] False", "False"]


def test_the_fixture_is_a_mock_handle_locally_and_remotely(
    pytester: pytest.Pytester, serve: Any
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_kind="""
        import os
        from cadenza_mock import MockHandle, MockServer, RemoteMock

        def test_kind(cadenza_mock, cadenza_mock_server):
            assert isinstance(cadenza_mock, MockHandle)
            assert cadenza_mock is cadenza_mock_server
            expected = RemoteMock if os.environ.get("CADENZA_MOCK_URL") else MockServer
            assert type(cadenza_mock) is expected
        """
    )
    args = ("-p", "no:randomly", "-p", "no:cacheprovider")
    pytester.runpytest_inprocess(*args).assert_outcomes(passed=1)
    url, _ = serve("--quiet").banner()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CADENZA_MOCK_URL", url)
        pytester.runpytest_inprocess(*args).assert_outcomes(passed=1)


def test_typed_examples_cover_every_readme_example() -> None:
    typed = EXAMPLES.read_text(encoding="utf-8")
    plugin_page = python_examples()["docs/pytest.md"]
    for name, code in plugin_page.items():
        if not name.startswith("test_"):
            continue
        for test in re.findall(r"^\s*(?:async )?def (test_\w+)\(", code, re.M):
            assert re.search(rf"def {test}\(", typed), f"{name}: {test} has no typed twin"
    assert "with MockServer(scenario=" in typed  # script.py


def _mypy(folder: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """`mypy --strict` as a downstream project runs it: its own folder, no config of ours."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(folder / ".mypy_cache"),
            *files,
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_mypy_strict_passes_on_the_examples_and_catches_misuse(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES, tmp_path / "test_typed_usage.py")
    (tmp_path / "test_misuse.py").write_text(MISUSE, encoding="utf-8")
    done = _mypy(tmp_path, "test_typed_usage.py", "test_misuse.py")
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("test_typed_usage.py")] == [], done.stdout
    misuse = [line for line in lines if line.startswith("test_misuse.py")]
    # One error per misuse line (5-10), each naming the type that was expected.
    assert sorted({int(line.split(":")[1]) for line in misuse}) == [5, 6, 8, 9, 10], done.stdout
    assert any('"str", variable has type "int"' in line for line in misuse)
    assert any('"times" to "assert_called" of "MockHandle"' in line for line in misuse)
    assert done.returncode == 1
