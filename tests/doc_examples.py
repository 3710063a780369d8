"""The documentation's examples and tables, as the tests read them: one reader for
README.md and every page under docs/ (tests/test_docs.py runs what it finds).

- A section is a heading of any level on any page, up to the next heading of its level or
  above; `section(title)` finds it on whichever page it lives (titles are unique).
- A python block starts with `# name.py`: `test_*.py` blocks of one page are one
  downstream project run with pytester, the others are scripts run with the interpreter.
- The console blocks of one section are replayed, in order, against one fresh `serve`:
  every `$ ` command must print exactly the lines that follow it (`...` in a shown line
  stands for any text: tokens and times that follow the wall clock). A block whose info
  string has `title="NAME"` (e.g. ```` ```yaml title="bad.yaml" ````) is written to the
  replay's working folder first. `<!-- replay: skip: why -->` on the line before a console
  block leaves it out (the reason is required); `<!-- replay: log -->` before a text block
  makes its lines log lines that the section's server must have printed;
  `<!-- replay: prints: NAME.py -->` before a block makes it exactly what the page's
  script NAME.py prints.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")
FENCE = re.compile(r"^(\s*)```(\S*)(.*)$")
MARKER = re.compile(r"^<!-- replay: (skip|log|prints)(?:: (.*?))? -->$")
LOOPBACK = re.compile(r"https?://127\.0\.0\.1:\d+")
# A log line as serve prints it: its time and duration are not the documentation's.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


@cache
def pages() -> dict[str, str]:
    """`{path relative to the repository: text}` for README.md and docs/**/*.md."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in paths}


@dataclass(frozen=True)
class Block:
    page: str
    section: str  # the nearest heading above it
    lang: str
    info: str  # the rest of the fence line (`title="..."`)
    code: str
    line: int  # 1-based line of the opening fence
    marker: tuple[str, str] | None  # (kind, reason) from `<!-- replay: ... -->`

    @property
    def title(self) -> str | None:
        match = re.search(r'title="([^"]+)"', self.info)
        return match.group(1) if match else None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass(frozen=True)
class Section:
    page: str
    title: str
    level: int
    body: str
    blocks: tuple[Block, ...] = field(default=())


def _parse(page: str, text: str) -> tuple[list[Section], list[Block]]:
    lines = text.splitlines()
    heads: list[tuple[int, int, str]] = []  # (line index, level, title)
    blocks: list[Block] = []
    current = ""
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence:
            indent, lang, info = fence.groups()
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            code = "\n".join(line.removeprefix(indent) for line in lines[i + 1 : end]) + "\n"
            before = lines[i - 1].strip() if i else ""
            mark = MARKER.match(before)
            blocks.append(
                Block(
                    page,
                    current,
                    lang,
                    info.strip(),
                    code,
                    i + 1,
                    (mark.group(1), mark.group(2) or "") if mark else None,
                )
            )
            i = end + 1
            continue
        head = HEADING.match(lines[i])
        if head:
            current = head.group(2)
            heads.append((i, len(head.group(1)), current))
        i += 1
    sections = []
    for n, (at, level, title) in enumerate(heads):
        end = next((h[0] for h in heads[n + 1 :] if h[1] <= level), len(lines))
        body = "\n".join(lines[at + 1 : end]) + "\n"
        inside = tuple(b for b in blocks if at < b.line - 1 < end)
        sections.append(Section(page, title, level, body, inside))
    return sections, blocks


@cache
def _index() -> tuple[tuple[Section, ...], tuple[Block, ...]]:
    sections: list[Section] = []
    blocks: list[Block] = []
    for page, text in pages().items():
        s, b = _parse(page, text)
        sections += s
        blocks += b
    return tuple(sections), tuple(blocks)


def section(title: str) -> Section:
    """The one section titled `title`, on whichever page it lives."""
    found = [s for s in _index()[0] if s.title == title]
    assert found, f"no page has a section titled {title!r}"
    assert len(found) == 1, f"{title!r} is a section of {[s.page for s in found]}: rename one"
    return found[0]


def blocks(lang: str | None = None) -> list[Block]:
    """Every fenced block of every page (of one language), in page order."""
    return [b for b in _index()[1] if lang is None or b.lang == lang]


def table(title: str, first_column: str | None = None) -> list[dict[str, str]]:
    """The rows of the first table in section `title` (or of the first whose header starts
    with `first_column`), as `{header: cell}`; cells keep their markdown (backquotes)."""
    rows: list[list[str]] = []
    for line in [*section(title).body.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.append(cells)
        elif rows:
            if first_column is None or rows[0][0] == first_column:
                header = rows[0]
                return [dict(zip(header, r, strict=False)) for r in rows[2:]]
            rows = []
    wanted = f" starting {first_column!r}" if first_column else ""
    raise AssertionError(f"section {title!r} has no table{wanted}")


# ------------------------------------------------------------------ python examples


def python_examples() -> dict[str, dict[str, str]]:
    """`{page: {file name: code}}` of every python block (each must start `# name.py`),
    but for excerpts of the package's own source, which the contributor pages mark
    `<!-- replay: skip: why -->`."""
    found: dict[str, dict[str, str]] = {}
    for block in blocks("python"):
        if block.marker and block.marker[0] == "skip":
            assert block.marker[1], f"{block.where}: say why the block is not run"
            continue
        first = block.code.splitlines()[0] if block.code.strip() else ""
        name = re.fullmatch(r"# ([\w.]+\.py)", first)
        assert name, f"{block.where}: a python block must start with '# name.py', not {first!r}"
        files = found.setdefault(block.page, {})
        assert name.group(1) not in files, f"{block.where}: {name.group(1)} twice on the page"
        files[name.group(1)] = block.code
    return found


def printed_outputs() -> dict[str, str]:
    """`{"page:name.py": text}` of every block marked `<!-- replay: prints: name.py -->`:
    what that script of the page must print, exactly."""
    return {
        f"{b.page}:{b.marker[1]}": b.code
        for b in blocks()
        if b.marker is not None and b.marker[0] == "prints"
    }


def count_tests(code: str) -> int:
    return len(re.findall(r"^\s*(?:async )?def test_", code, re.M))


# ------------------------------------------------------------------ console replay


@dataclass
class Step:
    command: str
    expected: list[str]
    block: Block


def console_steps(section_: Section) -> list[Step]:
    """(command, expected lines) of each `$ ` line of a section's replayed console blocks;
    a command ending in `\\` goes on on the next line."""
    steps: list[Step] = []
    for block in section_.blocks:
        if block.lang != "console" or block.marker or block.section != section_.title:
            continue
        going_on = False
        for line in block.code.splitlines():
            if going_on:
                steps[-1].command = steps[-1].command[:-1].rstrip() + " " + line.strip()
            elif line.startswith("$ "):
                steps.append(Step(line[2:], [], block))
            else:
                assert steps, f"{block.where}: output before any command"
                steps[-1].expected.append(line)
            going_on = steps[-1].command.endswith("\\")
    return steps


def replayed_sections() -> list[Section]:
    """Every section with a console block that is not skipped, in page order."""
    return [
        s
        for s in _index()[0]
        if any(b.lang == "console" and not b.marker and b.section == s.title for b in s.blocks)
    ]


def log_lines(section_: Section) -> list[str]:
    """The log lines a section shows: in a `serve` command's output, or in a text block
    marked `<!-- replay: log -->`."""
    shown = [
        line
        for step in console_steps(section_)
        if step.command.startswith("cadenza-mock serve")
        for line in step.expected
        if LOG_LINE.match(line)
    ]
    for block in section_.blocks:
        if block.lang == "text" and block.marker == ("log", "") and block.section == section_.title:
            shown += block.code.splitlines()
    return shown


def timeless(line: str) -> str:
    """A log line without its time and duration."""
    line = LOG_LINE.sub("", line)
    return re.sub(r" \d+\.\dms ", " <ms> ", line)


def banner_line(line: str, port: str) -> str:
    """A banner line with the port the documentation shows, and uvloop without its version."""
    line = re.sub(r"\b127\.0\.0\.1:\d+", f"127.0.0.1:{port}", line)
    return line.rsplit(" ", 1)[0] if line.startswith("  loop   uvloop ") else line


def run_curl(command: str, variables: dict[str, str]) -> str:
    """Run one `curl -s ...` line with requests: what curl would print.

    `curl -si` prints the status line and headers too; `| grep -i PATTERN` keeps the
    lines that match; `| jq -r .a.b` picks one value of the JSON answer."""
    command, _, jq = command.partition(" | jq -r ")
    command, _, grep = command.partition(" | grep -i ")
    words = shlex.split(command, comments=True)
    assert words[0] == "curl" and words[1] in ("-s", "-si"), command
    method, url, headers, data = "GET", "", {}, None
    args = iter(words[2:])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            name, _, value = expand(next(args), variables).partition(": ")
            headers[name] = value
        elif word == "-d":
            data = expand(next(args), variables)
        else:
            url = expand(word, variables)
    response = requests.request(method, url, headers=headers, data=data, timeout=10)
    printed = response.text
    if words[1] == "-si":
        head = [f"HTTP/1.1 {response.status_code} {response.reason}"]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        printed = "\n".join([*head, "", printed])
    if grep:
        pattern = shlex.split(grep)[0]
        printed = "\n".join(line for line in printed.splitlines() if re.search(pattern, line, re.I))
    if jq:
        printed = pick(printed, jq)
    return printed


def pick(text: str, path: str) -> str:
    """`jq -r .a.b`: one value of a JSON document, a string as itself."""
    value = json.loads(text)
    for key in path.strip().removeprefix(".").split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]  # .data.0.id
    return value if isinstance(value, str) else json.dumps(value)


def shows(expected: list[str], printed: list[str]) -> bool:
    """The page shows what was printed: line for line, where `...` in a shown line stands
    for any text (as doctest's ELLIPSIS), for values that change with the wall clock."""
    if len(expected) != len(printed):
        return False
    for want, got in zip(expected, printed, strict=True):
        if "..." not in want:
            if want != got:
                return False
        elif not re.fullmatch(".*?".join(map(re.escape, want.split("..."))), got, re.S):
            return False
    return True


def expand(word: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], word)


class Replay:
    """Runs a section's steps against a server at `base_url`, in folder `cwd`, and returns
    (command, expected, printed) for each; `cadenza-mock serve` lines are the caller's."""

    def __init__(self, base_url: str, cwd: Path) -> None:
        self.base_url = base_url
        self.cwd = cwd
        self.variables: dict[str, str] = {}
        self.status = 0

    def run(self, steps: list[Step]) -> list[tuple[str, list[str], list[str]]]:
        done = []
        for step in steps:
            if step.command.startswith("cadenza-mock serve"):
                continue
            printed = self.step(LOOPBACK.sub(self.base_url, step.command))
            done.append((step.command, step.expected, printed))
        return done

    def step(self, command: str) -> list[str]:
        assigned = re.fullmatch(r"(\w+)=\$\((.*)\)", command)
        if assigned:  # NAME=$(curl ... | jq -r .x) or NAME=$(echo "$X" | jq -r .x)
            self.variables[assigned.group(1)] = self.inner(assigned.group(2))
            return []
        echo = re.fullmatch(r'echo "\$(\w+)"', command)
        if echo:
            return self.variables[echo.group(1)].splitlines()
        if command.startswith("curl "):
            return run_curl(command, self.variables).splitlines()
        if re.fullmatch(r"(\w+=('[^']*'|\S*);? ?)+", command):  # B=...; H='...'
            for part in shlex.split(command.replace(";", " ")):
                name, _, value = part.partition("=")
                self.variables[name] = LOOPBACK.sub(self.base_url, value)
            return []
        return self.shell(command)

    def inner(self, command: str) -> str:
        echo = re.fullmatch(r'echo "\$(\w+)" \| jq -r (\S+)', command)
        if echo:
            return pick(self.variables[echo.group(1)], echo.group(2))
        assert command.startswith("curl "), command
        return run_curl(command, self.variables)

    def shell(self, command: str) -> list[str]:
        """Any other command, in bash, in the replay's folder; its output must come from one
        stream (so a `validate` that prints problems prints nothing on stdout)."""
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # cadenza-mock
        env = {**os.environ, "PATH": path}
        done = subprocess.run(
            ["bash", "-c", command.replace("$?", str(self.status))],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        self.status = done.returncode
        assert not (done.stdout and done.stderr), f"{command}: both stdout and stderr:\n{done}"
        return (done.stdout or done.stderr).splitlines()


def files_of(section_: Section, write: Callable[[Path, str], object], folder: Path) -> None:
    """Write the section's titled blocks (`title="bad.yaml"`) into `folder`."""
    for block in section_.blocks:
        if block.title and block.section == section_.title:
            write(folder / block.title, block.code)
