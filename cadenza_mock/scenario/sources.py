"""Finding a scenario's YAML: bundled names, paths, inline dicts and text, `extends`.

What may be read is decided here (`Confinement`): the admin API passes the server's
scenario folders, so a name or path sent over HTTP reaches nothing else. `extends` is
merged at the node level so problems in either file keep their own file:line:column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cadenza_mock.contract.errors import ScenarioError, ScenarioIssue
from cadenza_mock.contract.model import is_bundled_name
from cadenza_mock.scenario.nodes import Problems, compose, from_data, scalar, suggest


def bundled_dir() -> Path:
    """Bundled scenarios: inside the wheel, or the repository's `scenarios/` in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "_bundled"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "scenarios"


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def bundled_path(name: str) -> Path:
    """The installed file of a bundled scenario (`scenarios show`, `--paths`: after `pip
    install` it lives inside the package); ScenarioError with a did-you-mean if none."""
    path = bundled_dir() / f"{name}.yaml"
    if name in bundled_names():
        return path
    raise _no_bundled(name)


def _no_bundled(name: str) -> ScenarioError:
    message = f"no bundled scenario {name!r}{suggest(name, bundled_names())}"
    return ScenarioError([ScenarioIssue(name, 0, 0, message)])


def bundled_descriptions() -> list[tuple[str, str]]:
    result = []
    for name in bundled_names():
        text = (bundled_dir() / f"{name}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        result.append((name, str(data.get("description", "")).strip()))
    return result


# The one answer for a source outside what the caller may read: it says neither whether
# the path exists nor anything of its content.
NOT_ALLOWED = (
    "scenario not allowed: load a bundled name or a file inside the server's scenario "
    "folder(s) (see --scenario-dir)"
)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Confinement:
    """Where a scenario named by someone outside the process (the admin API) may be read:
    bundled scenarios and files under `roots`, after resolving symlinks and `..`."""

    roots: tuple[Path, ...] = ()

    @classmethod
    def of(cls, folders: Iterable[str | Path]) -> Confinement:
        return cls(tuple(Path(folder).expanduser().resolve() for folder in folders))

    def admits(self, path: Path) -> bool:
        try:
            real = path.resolve()
        except (OSError, ValueError, RuntimeError):
            return False
        return any(real.is_relative_to(root) for root in (*self.roots, bundled_dir().resolve()))


def _refused() -> ScenarioError:
    return ScenarioError([ScenarioIssue("<scenario>", 0, 0, NOT_ALLOWED)])


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # ENAMETOOLONG, an embedded NUL...
        return False


# How many of a folder's scenario files a "this is a folder" message names.
_LISTED = 12


def _folder_given(path: Path, shown: str) -> ScenarioError | None:
    """The error for a folder given where a scenario file is wanted (the container's
    `CADENZA_MOCK_SCENARIO=/scenarios` slip), naming the files in it; None if `path` is
    no folder."""
    try:
        if not path.is_dir():
            return None
        files = sorted(
            p.name for p in path.iterdir() if p.suffix in (".yaml", ".yml") and _is_file(p)
        )
    except (OSError, ValueError):
        return None
    if not files:
        message = "is a folder, not a scenario file, and it holds no scenario files "
        message += "(*.yaml or *.yml)"
    else:
        listed = ", ".join(files[:_LISTED])
        if len(files) > _LISTED:
            listed += f" and {len(files) - _LISTED} more"
        example = shown.rstrip("/\\") + "/" + files[0]
        message = (
            f"is a folder, not a scenario file; its scenario files: {listed} "
            f"(name one, e.g. {example})"
        )
    return ScenarioError([ScenarioIssue(shown, 0, 0, message)])


def _resolve(
    source: str | Path, relative_to: Path | None, confined: Confinement | None
) -> tuple[Path, str]:
    """(file, display name) for a bundled name or a path; ScenarioError if neither exists,
    or if `confined` does not admit it (one fixed answer, whatever the path)."""
    text = str(source)
    if isinstance(source, str) and is_bundled_name(text):
        if confined is not None and not _NAME_RE.fullmatch(text):
            raise _refused()
        path = bundled_dir() / f"{text}.yaml"
        if _is_file(path):
            return path, text
        if confined is None:
            candidates = [(relative_to / text) if relative_to else Path(text)]
        else:
            folders = list(confined.roots) if relative_to is None else [relative_to]
            candidates = [
                folder / f"{text}{ext}" for folder in folders for ext in (".yaml", ".yml")
            ]
        for candidate in candidates:
            if _is_file(candidate) and (confined is None or confined.admits(candidate)):
                return candidate, str(candidate)
        folder = _folder_given(candidates[0], text) if confined is None else None
        if folder is not None:
            raise folder
        raise _no_bundled(text)
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # `~nobody/...`: no such home
        path = Path(text)
    missing = "no such scenario file"
    if not path.is_absolute():
        base = relative_to
        if base is None and confined is not None:
            if not confined.roots:
                raise _refused()
            base = confined.roots[0]
        if base is not None:
            path = base / path
        else:  # a local load (mock.load(), --scenario): which base a reader must know
            missing += (
                f" (relative to the working directory {Path.cwd()}; a cadenza_scenario "
                "marker's path is relative to its test file)"
            )
    if confined is not None and not confined.admits(path):
        raise _refused()
    if not _is_file(path):
        raise _folder_given(path, str(path)) or ScenarioError(
            [ScenarioIssue(str(path), 0, 0, missing)]
        )
    return path, str(path)


def _base(
    value_node: yaml.Node, here: Path | None, chain: list[str], confined: Confinement | None
) -> tuple[yaml.Node, str, list[str]]:
    """The scenario an `extends:` value names: (its merged node, its name, its chain)."""
    problems = Problems()
    base_source = scalar(value_node, "extends", str, problems)
    if base_source is None:
        raise ScenarioError(problems.issues)
    try:
        base_node, base_name, _, base_chain = document(base_source, here, chain, confined)
    except ScenarioError as exc:
        # Problems without a position (missing file, cycle) are reported at this
        # `extends:` line; located ones (YAML errors in the base) keep their own. An
        # inline scenario's `extends:` has no line: its problems name the key alone.
        mark = value_node.start_mark
        raise ScenarioError(
            [
                issue
                if issue.line
                else ScenarioIssue(
                    mark.name if mark is not None else "<inline>",
                    mark.line + 1 if mark is not None else 0,
                    mark.column + 1 if mark is not None else 0,
                    f"extends: {issue}",
                )
                for issue in exc.issues
            ]
        ) from None
    return base_node, base_name, base_chain


def _merge(base: yaml.MappingNode, child: yaml.MappingNode) -> yaml.MappingNode:
    """The child's keys replace the base's, except `users` and `faults`, which are appended."""
    merged: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in base.value:
        merged[str(key_node.value)] = (key_node, value_node)
    for key_node, value_node in child.value:
        key = str(key_node.value)
        old = merged.get(key)
        if (
            key in ("users", "faults")
            and old is not None
            and isinstance(old[1], yaml.SequenceNode)
            and isinstance(value_node, yaml.SequenceNode)
        ):
            value_node = yaml.SequenceNode(
                old[1].tag,
                old[1].value + value_node.value,
                value_node.start_mark,
                value_node.end_mark,
            )
        merged[key] = (key_node, value_node)
    merged.pop("extends", None)
    return yaml.MappingNode(child.tag, list(merged.values()), child.start_mark, child.end_mark)


def document(
    source: str | Path | Mapping[str, Any] | SourceText,
    relative_to: Path | None,
    chain: list[str],
    confined: Confinement | None,
) -> tuple[yaml.Node, str, str | None, list[str]]:
    """The merged root node, the display name, the file path and the `extends` chain."""
    node: yaml.Node | None
    if isinstance(source, SourceText):
        text, name, path, here = source.text, source.name, None, relative_to
        identity = name
        node = compose(text, name)
    elif isinstance(source, Mapping):
        # Nodes straight from the data, without marks: problems name the key path
        # (`users[0].credentials[1].venue`), never lines of a YAML text nobody wrote.
        name, path, here = "<inline>", None, relative_to
        identity = name
        node = from_data(dict(source), name)
    else:
        file, name = _resolve(source, relative_to, confined)
        path, here = str(file), file.parent
        # Compare resolved paths: `a.yaml` and `./sub/../a.yaml` are the same file, and a
        # cycle spelled differently each time must not recurse until the path is too long.
        identity = str(file.resolve())
        if identity in chain:
            raise ScenarioError(
                [ScenarioIssue(path, 0, 0, "extends cycle: " + " -> ".join([*chain, identity]))]
            )
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(
                [ScenarioIssue(str(file), 0, 0, "not a scenario: the file is not UTF-8 text")]
            ) from None
        except OSError as exc:
            raise ScenarioError(
                [ScenarioIssue(str(file), 0, 0, f"cannot read: {exc.strerror or exc}")]
            ) from None
        node = compose(text, path)
    if node is None:  # an empty file is an empty scenario
        node = yaml.MappingNode("tag:yaml.org,2002:map", [], None, None)
    bases: list[str] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value != "extends":
                continue
            base_node, base_name, base_chain = _base(value_node, here, [*chain, identity], confined)
            if isinstance(base_node, yaml.MappingNode):
                node = _merge(base_node, node)
            bases = [base_name, *base_chain]
    return node, name, path, bases


@dataclass(frozen=True)
class SourceText:
    """YAML handed over as text rather than as a file or name."""

    text: str
    name: str
