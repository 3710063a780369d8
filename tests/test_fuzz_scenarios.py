"""Fuzzing scenario files with random mutations of the bundled scenarios.

Hypothesis takes a bundled scenario (scenarios/*.yaml) and mutates its text a few times:
deletes, duplicates and inserts characters, swaps and re-indents lines, replaces values,
and inserts YAML that the loader must refuse or survive: tags (`!foo`, `!!int x`,
`!!timestamp x`, `!!python/object:os.system`), anchors and aliases (`&a [*a]`, undefined
`*x`, merge keys, alias fan-out), control characters (NUL, BEL), nesting thousands deep,
5,000-digit integers, bad floats, booleans and dates (`2026-13-45`), 5,000-character
`extends` names and `extends` cycles. Each mutated text goes three ways:

(a) `load_scenario_text(text)` and `load_scenario(path)` either succeed or raise
    `ScenarioError`, nothing else, and every issue it lists is located (line >= 1,
    column >= 1) unless it is about a missing file or an extends cycle;
(b) `PUT /__admin/scenario` with the text answers 200 or 400 in the envelope, never a
    5xx, and after a 400 the previous scenario is still served, byte for byte;
(c) a handful of texts through `cadenza-mock validate FILE` (subprocesses): exit 0 or 1,
    no traceback, within a timeout.

Examples are derandomized (no example database), so CI runs the same texts every time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support import FUZZ

from cadenza_mock import MockServer
from cadenza_mock.contract.errors import ScenarioError
from cadenza_mock.scenario import load_scenario, load_scenario_text

REPO = Path(__file__).resolve().parent.parent
BUNDLED = {
    path.stem: path.read_text(encoding="utf-8") for path in (REPO / "scenarios").glob("*.yaml")
}
# `many` generates 10,000 records (over a second per load): mutate a small copy of it.
BUNDLED["many"] = BUNDLED["many"].replace("generate: 10000", "generate: 40")
NAMES = sorted(BUNDLED)

SETTINGS = FUZZ
LOAD_EXAMPLES = 400
ADMIN_EXAMPLES = 250
CLI_EXAMPLES = 4  # one subprocess each, plus one run over the fixed texts below
CLI_TIMEOUT = 60

# --------------------------------------------------------------------------- mutations

# Inserted as they are, anywhere.
TOKENS = [
    "!foo ",
    "!foo x",
    "!!int x",
    "!!int ",
    "!!float x",
    "!!bool maybe",
    "!!timestamp x",
    "!!timestamp 2026-13-45",
    "!!binary ***",
    "!!python/object:os.system ",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system ",
    "!<tag:yaml.org,2002:str> ",
    "!<!> x",
    "&a ",
    "&a [*a]",
    "*a",
    "*x",
    "&b {k: *b}",
    "<<: *a\n",
    "<<: {seed: 1}\n",
    "? ",
    "? [a, b]\n: c\n",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\ufeff",
    "\ufffe",
    "\u2028",
    "\t",
    "\r",
    "\r\n",
    "\n",
    "\n---\n",
    "\n...\n",
    "%YAML 1.1\n---\n",
    "%TAG ! tag:example.com,2000:\n",
    "[" * 1000,
    "]" * 50,
    "{a: " * 400,
    "- " * 300,
    "9" * 5000,
    "-" + "9" * 5000,
    "0." + "0" * 5000 + "1",
    "1e999",
    "-1e999",
    ".nan",
    ".NaN",
    ".inf",
    "-.Inf",
    "0x",
    "0o9",
    "1_000",
    "190:20:30",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "~",
    "null",
    "2026-13-45",
    "2026-02-30",
    "2026-01-15T25:61:61Z",
    "2026-01-15T12:00:00+99:00",
    "0000-00-00",
    "9999-12-31T23:59:59.999999Z",
    "'",
    '"',
    '"\\ud800"',
    '"\\x00"',
    '"\\N\\_\\L\\P"',
    "|",
    ">-\n",
    "#",
    ": ",
    "- ",
    ",",
    "@",
    "`",
    "%",
    "\\",
    "a" * 5000,
    "é😀",
]
# Values written after a key (`key: VALUE`), replacing the old one.
VALUES = [
    *TOKENS,
    "",
    "[]",
    "{}",
    "[[]]",
    "[{}]",
    "- a",
    "-1",
    "0",
    "1.5",
    "true",
    "'true'",
    "[1, 2]",
    "{x: 1}",
    "&a [*a]",
    "*undefined",
    "!!timestamp 2026-13-45",
    "2026-13-45",
    "'2026-13-45'",
    "2026-01-15",
    "'9999-99-99T99:99:99Z'",
    "1" + "0" * 30,
    "-" + "9" * 400,
    "[" * 3000 + "]" * 3000,
    "{a: " * 2000 + "1" + "}" * 2000,
    "default",
    "sdk",
    "docs",
    "xml",
    "BINANCE",
    "OKX",
    "NYSE",
    "REVOKED",
    "DELETED",
    "API_KEY",
    "abc***",
    "00000000-0000-4000-8000-000000000000",
    "not-a-uuid",
    "alice@example.com",
    "alice-token",
]
EXTENDS = [
    "default",
    "sdk",
    "nope",
    "a" * 5000,
    "a/" * 3000 + "x.yaml",
    "../" * 40 + "etc/passwd",
    "/etc/passwd",
    "/dev/zero",
    "/proc/self/mem",
    ".",
    "..",
    "./",
    "~",
    "~nobody/x.yaml",
    "'a\\0b'",
    '"a\\x00b"',
    "[default]",
    "{a: b}",
    "1",
    "!!int x",
    "*x",
    "''",
]
# Inserted or typed: YAML's own punctuation, whitespace, letters and digits.
CHARS = st.text(
    st.sampled_from(list(":-[]{},#&*!|>'\"%@`? \t\n") + list("abcxyz0159_.") + ["\x00", "\x07"]),
    min_size=1,
    max_size=6,
)

Mutation = Callable[[st.DrawFn, str], str]


def _position(draw: st.DrawFn, text: str) -> int:
    return draw(st.integers(0, len(text)))


def delete(draw: st.DrawFn, text: str) -> str:
    at = _position(draw, text)
    return text[:at] + text[at + draw(st.integers(1, 30)) :]


def duplicate(draw: st.DrawFn, text: str) -> str:
    at = _position(draw, text)
    end = min(len(text), at + draw(st.integers(1, 60)))
    return text[:end] + text[at:end] + text[end:]


def insert_chars(draw: st.DrawFn, text: str) -> str:
    at = _position(draw, text)
    return text[:at] + draw(CHARS) + text[at:]


def insert_token(draw: st.DrawFn, text: str) -> str:
    at = _position(draw, text)
    return text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def swap_lines(draw: st.DrawFn, text: str) -> str:
    lines = _lines(text)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def duplicate_line(draw: st.DrawFn, text: str) -> str:
    lines = _lines(text)
    i = draw(st.integers(0, len(lines) - 1))
    lines.insert(draw(st.integers(0, len(lines))), lines[i])
    return "\n".join(lines)


def indent(draw: st.DrawFn, text: str) -> str:
    lines = _lines(text)
    i = draw(st.integers(0, len(lines) - 1))
    if draw(st.booleans()):
        lines[i] = draw(st.sampled_from(["  ", " ", "\t", "    "])) + lines[i]
    else:
        lines[i] = lines[i][draw(st.integers(1, 4)) :]
    return "\n".join(lines)


_KEY_VALUE = re.compile(r"^(\s*(?:- )?[A-Za-z_]+:) ?(.*)$")


def replace_value(draw: st.DrawFn, text: str) -> str:
    """`key: old` becomes `key: NEW`: the structure stays, so validation runs deep."""
    lines = _lines(text)
    candidates = [i for i, line in enumerate(lines) if _KEY_VALUE.match(line)]
    if not candidates:
        return text
    i = draw(st.sampled_from(candidates))
    match = _KEY_VALUE.match(lines[i])
    assert match is not None
    lines[i] = f"{match.group(1)} {draw(st.sampled_from(VALUES))}"
    return "\n".join(lines)


def set_extends(draw: st.DrawFn, text: str) -> str:
    """A top-level `extends:` (an existing one replaced): bundled, missing, odd or long."""
    lines = [line for line in _lines(text) if not line.startswith("extends:")]
    target = draw(st.sampled_from([*EXTENDS, "SELF"]))
    lines.insert(draw(st.integers(0, len(lines))), f"extends: {target}")
    return "\n".join(lines)


def alias_fan_out(draw: st.DrawFn, text: str) -> str:
    """Anchors whose aliases multiply (a billion-laughs shape) under a key."""
    width, depth = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    lines = [f"x0: &x0 [{', '.join(['v'] * width)}]"]
    for level in range(1, depth):
        lines.append(f"x{level}: &x{level} [{', '.join([f'*x{level - 1}'] * width)}]")
    key = draw(st.sampled_from(["description", "users", "seed", "bomb"]))
    return text + "\n" + "\n".join(lines) + f"\n{key}: *x{depth - 1}\n"


def deep_nesting(draw: st.DrawFn, text: str) -> str:
    depth = draw(st.sampled_from([100, 600, 1200, 3000]))
    style = draw(st.sampled_from(["flow", "block"]))
    if style == "flow":
        nested = "[" * depth + "1" + "]" * depth
    else:
        nested = "".join("  " * level + "- \n" for level in range(min(depth, 400))) + "1"
    key = draw(st.sampled_from(["users", "faults", "description", "deep"]))
    return text + f"\n{key}: " + nested + "\n"


MUTATIONS: list[Mutation] = [
    delete,
    duplicate,
    insert_chars,
    insert_token,
    swap_lines,
    duplicate_line,
    indent,
    replace_value,
    replace_value,
    replace_value,
    set_extends,
    alias_fan_out,
    deep_nesting,
]
# A `generate:` count the loader accepts but takes seconds to build: not bad input.
_GENERATE = re.compile(r"generate\s*:\s*([0-9_]{4,})")


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """(bundled name, mutated text); `extends: SELF` names the file the text is saved as."""
    name = draw(st.sampled_from(NAMES))
    text = BUNDLED[name]
    for _ in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    for count in _GENERATE.findall(text):
        digits = count.replace("_", "")
        assume(not digits or len(digits) > 6 or int(digits) < 2000)
    return name, text


# --------------------------------------------------------------------------- properties

# Issues allowed without a position: a file that is not there, a cycle of extends.
_UNLOCATED = ("no such scenario file", "no bundled scenario", "extends cycle")


def assert_loads_or_scenario_error(load: Callable[[], object], text: str) -> None:
    """`load()` succeeds, or raises ScenarioError whose issues are all located."""
    try:
        load()
    except ScenarioError as exc:
        assert exc.issues, f"ScenarioError without issues for {text[:300]!r}"
        for issue in exc.issues:
            assert isinstance(issue.message, str) and issue.message, issue
            if issue.line < 1 or issue.column < 1:
                assert any(words in issue.message for words in _UNLOCATED), (
                    f"unlocated issue {issue!r}\nfor text: {text[:500]!r}"
                )
        str(exc)  # renders


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-scenarios") / "mutated.yaml"


def _save(path: Path, text: str) -> str:
    text = text.replace("extends: SELF", f"extends: {path.name}")
    path.write_text(text, encoding="utf-8")
    return text


@settings(SETTINGS, max_examples=LOAD_EXAMPLES)
@given(case=mutated(), profile=st.sampled_from([None, "docs", "sdk"]))
def test_loading_a_mutated_scenario_raises_only_located_scenario_errors(
    scenario_file, case, profile
):
    _, text = case
    text = _save(scenario_file, text)
    assert_loads_or_scenario_error(lambda: load_scenario_text(text, profile=profile), text)
    assert_loads_or_scenario_error(lambda: load_scenario(scenario_file, profile=profile), text)


# --------------------------------------------------------------------------- admin API


@pytest.fixture(scope="module")
def mock():
    with MockServer("default") as server:
        yield server


@settings(SETTINGS, max_examples=ADMIN_EXAMPLES)
@given(
    case=mutated(),
    content_type=st.sampled_from(["application/yaml", "text/yaml", "application/x-yaml"]),
)
def test_putting_a_mutated_scenario_is_200_or_400_and_a_400_keeps_the_old_one(
    mock, case, content_type
):
    _, text = case
    text = text.replace("extends: SELF", "extends: default")
    if mock.scenario.name != "default":
        mock.load("default")
    mock.reset()
    mock.clear_handler_errors()
    before = requests.get(mock.url + "/__admin/scenario", timeout=30)
    assert before.status_code == 200
    headers = {"Content-Type": content_type} if content_type else {}
    answer = requests.put(
        mock.url + "/__admin/scenario", data=text.encode("utf-8"), headers=headers, timeout=60
    )
    shown = f"{answer.status_code} {answer.content[:400]!r}\nfor text: {text[:500]!r}"
    mock.check_handler_errors()
    assert answer.status_code in (200, 400), shown
    assert answer.headers["Content-Type"].startswith("application/json"), shown
    payload = answer.json()
    assert list(payload)[:4] == ["data", "success", "errno", "error"], shown
    assert payload["success"] is (answer.status_code == 200), shown
    if answer.status_code == 400:
        assert payload["errno"] < 0 and payload["data"] is None, shown
        after = requests.get(mock.url + "/__admin/scenario", timeout=30)
        assert after.content == before.content, shown
        assert after.json()["data"]["name"] == "default"


# --------------------------------------------------------------------------- CLI

# Texts every run puts through the CLI, in one `validate` call.
FIXED_TEXTS = {
    "nul": BUNDLED["default"].replace("seed: 7", "seed: 7\x00"),
    "bell": BUNDLED["default"].replace("description:", "description: \x07"),
    "python-tag": "seed: !!python/object:os.system x\n",
    "apply-tag": "users: !!python/object/apply:os.system ['true']\n",
    "self-alias": "users: &a [*a]\n",
    "undefined-alias": "users: *x\n",
    "deep": "users: " + "[" * 5000 + "]" * 5000 + "\n",
    "digits": "seed: " + "9" * 5000 + "\n",
    "bad-date": "now: 2026-13-45\nusers: []\n",
    "bad-float": "mask_keep: .nan\nseed: 1e999\n",
    "long-extends": "extends: " + "a" * 5000 + "\n",
    "extends-cycle": "extends: SELF\n",
    "fan-out": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"a{i}: &a{i} [{', '.join(['*a' if i == 0 else f'*a{i - 1}'] * 9)}]\n" for i in range(8)
    )
    + "description: *a7\n",
    "empty": "",
}


def _validate(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadenza_mock", "validate", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def _assert_cli(result: subprocess.CompletedProcess[str], what: str) -> None:
    shown = (
        f"{what}\nexit {result.returncode}\n"
        f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-3000:]}"
    )
    assert result.returncode in (0, 1), shown
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, shown


def test_validate_cli_on_fixed_bad_texts(tmp_path):
    paths = []
    for name, text in FIXED_TEXTS.items():
        path = tmp_path / f"{name}.yaml"
        _save(path, text)
        paths.append(path)
    result = _validate(paths)
    _assert_cli(result, "fixed texts")
    assert result.returncode == 1, result.stdout
    output = result.stdout + result.stderr
    for path in paths:
        if path.stem != "empty":
            assert f"{path}:" in output, f"{path.name} not reported:\n{output}"


@settings(SETTINGS, max_examples=CLI_EXAMPLES)
@given(case=mutated())
def test_validate_cli_on_mutated_texts(scenario_file, case):
    _, text = case
    text = _save(scenario_file, text)
    _assert_cli(_validate([scenario_file]), f"text: {text[:500]!r}")
