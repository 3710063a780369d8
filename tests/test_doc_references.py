"""What the documentation names must exist: every repository file it points a reader to,
and every `cadenza-mock` command it shows (and each command the CLI has is shown)."""

from __future__ import annotations

import argparse
import re

from support import REPO

from cadenza_mock.run.cli import build_parser

PAGES = [REPO / "README.md", REPO / "bench" / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
# First segments of a path under the repository root, and the package's own folders (the
# docs name `engine/query.py` for `cadenza_mock/engine/query.py`).
ROOTS = {"tests", "cadenza_mock", "bench", "scripts", "docs", "scenarios", ".ci"}
TIERS = {"contract", "specs", "engine", "scenario", "http", "run", "testing", "dashboard"}


def _text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in PAGES if page.exists())


def named_paths(text: str) -> set[str]:
    """Backquoted repository paths: `tests/test_x.py`, `http/runner.py`, `bench/`."""
    found = set()
    for token in re.findall(r"`([A-Za-z_.][\w./-]*/[\w./-]*)`", text):
        first = token.split("/", 1)[0]
        if first in ROOTS or first in TIERS:
            found.add(token)
    return found


def test_every_file_the_docs_name_exists():
    paths = named_paths(_text())
    assert "tests/test_docs.py" in paths  # read right
    missing = sorted(
        path
        for path in paths
        if not (REPO / path).exists() and not (REPO / "cadenza_mock" / path).exists()
    )
    assert missing == []


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    """Every command and nested command: "serve", "scenarios", "scenarios show"."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.add(prefix + name)
                found |= commands(sub, prefix + name + " ")
    return found


def test_every_command_is_shown_and_every_shown_command_exists():
    known = commands(build_parser())
    assert {"serve", "validate", "scenarios", "scenarios show"} <= known
    text = _text()
    # A command line: a shell block's line, a console block's `$` line, or backquoted in
    # prose ("`cadenza-mock serve ...`"); never output ("cadenza-mock strict mode: ...").
    lines = []
    for kind, block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S):
        prompt = "" if kind in ("sh", "bash", "shell") else r"\$ "
        lines += re.findall(rf"^\s*{prompt}cadenza-mock ([a-z][a-z -]*)", block, re.M)
    lines += re.findall(r"`cadenza-mock ([a-z][a-z -]*)", text)
    shown = set()
    for line in lines:
        words = line.split()
        shown.add(words[0])
        if len(words) > 1 and f"{words[0]} {words[1]}" in known:
            shown.add(f"{words[0]} {words[1]}")
    assert shown - known == set(), "documented but not a command"
    assert known - shown == set(), "a command the docs never show"


def test_no_test_module_shares_a_name_with_an_example_a_pytester_run_writes():
    """pytester runs the docs' examples (`# test_journal.py`) in this process: a module of
    the suite with the same name would break their collection."""
    examples = set(re.findall(r"^# (test_\w+)\.py$", _text(), re.M))
    assert "test_journal" in examples  # read right
    ours = {path.stem for path in (REPO / "tests").rglob("test_*.py")}
    assert ours & examples == set()
