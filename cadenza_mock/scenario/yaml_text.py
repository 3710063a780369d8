"""Scenario YAML text -> a checked PyYAML node tree: parsing (libyaml where it can, the
pure-Python loader to report), syntax errors in words an author acts on, and the checks
(tags, depth, alias cycles, constructible scalars) after which reading a value cannot fail.

Split from `scenario.nodes` (the typed reads of the tree), which re-exports what callers
use; neither quotes the text it reads in a problem.
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any

import yaml

from cadenza_mock.contract.errors import ScenarioError, ScenarioIssue

# Deeper than any scenario needs, shallow enough that nothing recursive can overflow.
MAX_DEPTH = 64
# The tags a scenario may use, explicit (`!!int 5`) or implicit; anything else (`!foo`,
# `!!python/object:...`, `!!binary`) is refused before any value is built.
_TAGS = {
    f"tag:yaml.org,2002:{name}": what
    for name, what in (
        ("str", "a string"),
        ("int", "an integer (at most 4300 digits)"),
        ("float", "a number"),
        ("bool", "true or false"),
        ("null", "null"),
        ("timestamp", "a date or time such as 2026-01-15T12:00:00Z"),
        ("map", "a mapping"),
        ("seq", "a list"),
    )
}
_STR = "tag:yaml.org,2002:str"
_SAFE_QUOTED = re.compile(r"<[a-z ]+>|\\?.")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_local = threading.local()


def _constructor() -> yaml.constructor.SafeConstructor:
    # One per thread (scenarios load on the server loop, in executor threads and in test
    # threads at once); emptied after every use, so no node outlives its load.
    constructor = getattr(_local, "constructor", None)
    if constructor is None:
        constructor = _local.constructor = yaml.constructor.SafeConstructor()
    return constructor


def value(node: yaml.Node) -> Any:
    """The plain Python value of a node (scalars, lists, dicts).

    Only called on trees `compose()` has checked, so construction cannot fail here.
    """
    if node.tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value  # what SafeConstructor.construct_yaml_str returns, without it
    constructor = _constructor()
    try:
        return constructor.construct_object(node, deep=True)
    finally:
        constructor.constructed_objects.clear()
        constructor.recursive_objects.clear()


def _quiet(message: str | None) -> str:
    """A PyYAML message without the text it quotes: that text may be a secret (an undefined
    alias `*s3cret`) or the content of a file that is not a scenario at all."""
    if not message:
        return "syntax error"

    def hide(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        return match.group(0) if _SAFE_QUOTED.fullmatch(inner) else "(text not shown)"

    return _QUOTED.sub(hide, message)


def _issue(name: str, mark: Any, message: str) -> ScenarioIssue:
    if mark is None:
        return ScenarioIssue(name, 0, 0, message)
    return ScenarioIssue(name, mark.line + 1, mark.column + 1, message)


def compose(text: str, name: str, what: str = "YAML") -> yaml.Node | None:
    """Parse YAML text into a checked node tree; ScenarioError (never another exception)
    for anything that is not plain, finite, constructible data.

    Every problem is located as `name:line:column` and quotes none of the text.
    """
    deep = _flow_too_deep(text)
    if deep is not None:
        # PyYAML's scanner is slow on deep flow collections: refuse them before it runs.
        message = f"invalid {what}: nested deeper than {MAX_DEPTH} levels"
        raise ScenarioError([ScenarioIssue(name, deep[0], deep[1], message)])
    fast = _compose_fast(text, name)
    if fast is not None:
        node = fast[0]
        if node is not None:
            _check_tree(node, name)
        return node
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # reads the whole text: control characters fail here
        loader.name = name
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        explained = _explain_syntax_error(exc, text)
        if explained is not None:
            line, column, why = explained
            issue = ScenarioIssue(name, line, column, f"invalid {what}: {why}")
            raise ScenarioError([issue]) from None
        message = f"invalid {what}: {_quiet(exc.problem or exc.context)}"
        if exc.problem and exc.context and exc.context_mark is not None:
            # e.g. an unclosed `[`: the problem is found at the end of the file, the
            # context says where the construct began.
            started = exc.context_mark
            message += (
                f" ({_quiet(exc.context)}, started at line {started.line + 1}, "
                f"column {started.column + 1})"
            )
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError([_issue(name, mark, message)]) from None
    except yaml.reader.ReaderError as exc:
        # A control character (NUL, BEL...): locate it, never print the text around it.
        before = text[: exc.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        message = f"invalid {what}: control character #x{exc.character:04x} is not allowed"
        raise ScenarioError([ScenarioIssue(name, line, column, message)]) from None
    except RecursionError:
        mark = loader.get_mark() if loader is not None else None
        raise ScenarioError([_issue(name, mark, f"invalid {what}: nested too deep")]) from None
    except yaml.YAMLError:
        raise ScenarioError([ScenarioIssue(name, 0, 0, f"invalid {what}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is not None:
        _check_tree(node, name)
    return node


def _explain_syntax_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str] | None:
    """(line, column, message) in words a scenario's author acts on, for the YAML syntax
    errors people make by hand (indentation, a missing `:`, an unclosed quote or bracket,
    a tab); None for the rest, which keep PyYAML's own words. Quotes none of the text."""
    problem, context = exc.problem or "", exc.context or ""
    mark, started = exc.problem_mark, exc.context_mark
    if mark is None:
        return None
    lines = text.splitlines()
    row, column = mark.line, mark.column
    here = lines[row] if row < len(lines) else ""
    indent = len(here) - len(here.lstrip(" "))
    levels = _levels_above(lines, row)
    if problem.startswith("expected <block end>, but found") and indent in levels:
        # Indented like a block above, but of the other kind: keys and `- ` items mixed.
        if here[indent:].startswith("-"):
            why = "a list item among keys: put the list under a key of its own "
            why += "(`key:`, then `- item` lines)"
        else:
            why = "a key among list items: start it with `- ` for a new item, or indent it "
            why += "further to belong to the item above"
        return row + 1, indent + 1, why
    if problem.startswith("expected <block end>, but found") or (
        problem == "mapping values are not allowed here" and indent not in levels
    ):
        return row + 1, indent + 1, _indentation(lines, row)
    if problem == "mapping values are not allowed here":
        if ": " in here[indent:column]:
            why = "a second ': ' on this line: a value that contains ': ' must be quoted"
            return row + 1, column + 1, why
        above = _content_line_above(lines, row)
        if above is None:
            return None
        why = (
            f"this line has no ':' after its key, so line {row + 1} is read as part of it: "
            "write `key: value` (or quote the text)"
        )
        return above + 1, 1, why
    if started is None:
        if problem == "found character '\\t' that cannot start any token":
            return row + 1, column + 1, "a tab character: YAML indents with spaces only"
        return None
    at = (started.line + 1, started.column + 1)
    if problem == "could not find expected ':'":
        return *at, "this line has no ':' after its key: write `key: value` (or `- item`)"
    if problem == "found unexpected end of stream" and "quoted scalar" in context:
        return *at, "this quoted value is never closed: add the closing quote"
    flow = re.fullmatch(r"expected ',' or '([\]}])', but got .*", problem)
    if flow is not None:
        closer = flow.group(1)
        opener = "[" if closer == "]" else "{"
        why = (
            f"expected ',' or '{closer}' here: the `{opener}` that started at line {at[0]}, "
            f"column {at[1]} is still open"
        )
        return row + 1, column + 1, why
    return None


def _content_line_above(lines: list[str], row: int) -> int | None:
    """The index of the nearest line above `row` holding more than blanks or a comment."""
    for index in range(min(row, len(lines)) - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index
    return None


def _levels_above(lines: list[str], row: int) -> dict[int, int]:
    """The indentations (0-based) a line at `row` could continue or close, each with the
    line (1-based) that set it: the enclosing lines' own, and after a `- ` the item's."""
    levels: dict[int, int] = {}
    lowest: int | None = None
    index = row
    while (found := _content_line_above(lines, index)) is not None:
        index = found
        line = lines[found]
        indent = len(line) - len(line.lstrip(" "))
        if lowest is not None and indent >= lowest:
            continue
        lowest = indent
        column = indent
        levels.setdefault(column, found + 1)
        while line.startswith("- ", column) or line.startswith("-\t", column):
            column += 1
            while column < len(line) and line[column] in " \t":
                column += 1
            if column < len(line) and line[column] != "#":
                levels.setdefault(column, found + 1)
        if indent == 0:
            break
    if lowest is None or lowest > 0:
        levels.setdefault(0, 1)  # the top level is always there to go back to
    return levels


def _indentation(lines: list[str], row: int) -> str:
    """The message for a line indented unlike every block it could belong to."""
    levels = _levels_above(lines, row)
    if not levels:
        return "this line's indentation does not match the lines above it"
    inner = max(levels)
    others = sorted((level for level in levels if level != inner), reverse=True)
    message = (
        "this line's indentation does not match the lines above it (expected a key at "
        f"the indentation of line {levels[inner]}, column {inner + 1}"
    )
    if others:
        message += ", or at column " + " or ".join(str(level + 1) for level in others)
        message += " to close that block"
    return message + ")"


# libyaml's composer recurses in C without Python's recursion limit: it is used only on
# texts whose block nesting is bounded by short lines (flow nesting is bounded above).
_FAST_MAX_LINE = 2000
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _compose_fast(text: str, name: str) -> tuple[yaml.Node | None] | None:
    """The node tree by libyaml's parser (same nodes, same marks, ~10x faster), or None
    when it is not available or the text has any problem: the pure-Python loader then
    runs and reports it exactly as before."""
    if not yaml.__with_libyaml__ or _NON_PRINTABLE.search(text) is not None:
        return None
    if len(text) > _FAST_MAX_LINE and max(map(len, text.splitlines())) > _FAST_MAX_LINE:
        return None
    stream = io.StringIO(text)
    stream.name = name  # libyaml takes its marks' name from here
    try:
        loader = yaml.CSafeLoader(stream)
    except Exception:
        return None
    try:
        return (loader.get_single_node(),)
    except Exception:  # every problem is reported by the pure-Python loader
        return None
    finally:
        loader.dispose()


# What the flow-depth scan stops at: brackets, quotes, comments; everything else is skipped
# by the regex engine rather than a Python loop over each character.
_FLOW_MARKS = re.compile(r"[\[\]{}'\"#]")
_QUOTED_TEXT = {"'": re.compile(r"'(?:[^']|'')*'?"), '"': re.compile(r'"(?:[^"\\]|\\.)*"?', re.S)}


def _flow_too_deep(text: str) -> tuple[int, int] | None:
    """(line, column) where `[`/`{` brackets outside quotes first nest past MAX_DEPTH."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth, at = 0, 0
    while (found := _FLOW_MARKS.search(text, at)) is not None:
        mark, at = found.group(), found.end()
        before = text[found.start() - 1] if found.start() else "\n"
        if mark == "#" and before in " \t\n":  # a comment: to the end of its line
            end = text.find("\n", at)
            at = len(text) if end < 0 else end
        elif mark in "'\"" and before in " \t\n[{,:":  # a quoted scalar: past its end
            quoted = _QUOTED_TEXT[mark].match(text, found.start())
            at = quoted.end() if quoted is not None else at
        elif mark in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line_start = text.rfind("\n", 0, found.start()) + 1
                return text.count("\n", 0, found.start()) + 1, found.start() - line_start + 1
        elif mark in "]}":
            depth = max(0, depth - 1)
    return None


class _DataDumper(yaml.SafeDumper):
    """Represents plain data as nodes (nothing is written); tuples as lists."""


_DataDumper.add_representer(tuple, yaml.representer.SafeRepresenter.represent_list)


def from_data(data: Any, name: str) -> yaml.Node:
    """The node tree of plain Python data (a fault given as a dict), checked like text:
    no YAML text is written only to be parsed again. Nodes carry no marks, so problems
    are located by their key path alone."""
    dumper = _DataDumper(io.StringIO(), sort_keys=False)  # problems in the caller's order
    try:
        node: yaml.Node = dumper.represent_data(data)
    except yaml.representer.RepresenterError:
        message = "not plain data: use str, int, float, bool, None, lists and dicts"
        raise ScenarioError([ScenarioIssue(name, 0, 0, message)]) from None
    except RecursionError:
        message = f"nested deeper than {MAX_DEPTH} levels"
        raise ScenarioError([ScenarioIssue(name, 0, 0, message)]) from None
    finally:
        dumper.dispose()
    _check_tree(node, name)
    return node


def _check_tree(root: yaml.Node, name: str) -> None:
    """Tags known, scalars constructible, no alias cycles, bounded depth: after this,
    `value()` on any node of the tree returns instead of raising."""
    issues: list[ScenarioIssue] = []
    done: set[int] = set()
    # (node, depth, leaving): iterative, so depth is bounded by MAX_DEPTH, not the stack.
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, leaving = stack.pop()
        if leaving:
            open_nodes.discard(id(node))
            done.add(id(node))
            continue
        if id(node) in open_nodes:
            issues.append(_issue(name, node.start_mark, "an alias refers to its own anchor"))
            continue
        if id(node) in done:
            continue  # an alias to a checked anchor: checked once, however often used
        if depth > MAX_DEPTH:
            message = f"nested deeper than {MAX_DEPTH} levels"
            issues.append(_issue(name, node.start_mark, message))
            continue
        what = _TAGS.get(node.tag)
        if what is None:
            issues.append(
                _issue(
                    name,
                    node.start_mark,
                    "unsupported YAML tag (tag not shown); use plain values "
                    "(strings, numbers, true/false, dates, lists, mappings)",
                )
            )
            continue
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:  # any text is a string: nothing to check
                done.add(id(node))
                continue
            try:
                value(node)
            except Exception:  # PyYAML's constructors fail in many ways on bad text
                issues.append(
                    _issue(
                        name,
                        node.start_mark,
                        f"not a valid value: expected {what} (quote it if it is a string)",
                    )
                )
            done.add(id(node))
            continue
        open_nodes.add(id(node))
        stack.append((node, depth, True))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    issues.append(_issue(name, key_node.start_mark, "keys must be plain values"))
                    continue
                children += [key_node, value_node]
        else:
            children = list(node.value)
        for child in reversed(children):
            # A string scalar within the depth bound has nothing to check (see above):
            # not stacking it is what keeps large files quick.
            if depth < MAX_DEPTH and child.tag == _STR and isinstance(child, yaml.ScalarNode):
                continue
            stack.append((child, depth + 1, False))
    if issues:
        raise ScenarioError(sorted(issues, key=lambda i: (i.line, i.column)))
