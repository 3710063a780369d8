"""Scenario sources and the cache of what they load to: one parse per YAML file for a
suite that moves between a few scenarios (`MockServer`, `RemoteMock`, the plugin)."""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

from cadenza_mock.scenario import Scenario, is_bundled_name, load_scenario

SourceLike = str | Path | Mapping[str, Any] | Scenario


def source_key(source: SourceLike) -> Hashable:
    """Identity of a scenario source: equal keys load equal scenarios."""
    if isinstance(source, Scenario):
        return ("object", id(source))
    if isinstance(source, Mapping):
        return ("inline", json.dumps(source, sort_keys=True, default=repr))
    if isinstance(source, str) and is_bundled_name(source):
        return ("name", source)
    path = Path(source).expanduser().resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = None  # loading will report the missing file
    # The mtime makes an edited file a new source, so a long session sees the edit.
    return ("path", str(path), mtime)


def describe_source(source: SourceLike) -> str:
    """A short human name for messages: the bundled name, the path, or `<inline>`."""
    if isinstance(source, Scenario):
        return source.name
    if isinstance(source, Mapping):
        return "<inline>"
    return str(source)


class ScenarioCache:
    """Validated scenarios by source, built with one set of profile/seed overrides."""

    def __init__(self, *, profile: str | None = None, seed: int | None = None) -> None:
        self.profile = profile
        self.seed = seed
        self._loaded: dict[Hashable, Scenario] = {}

    def get(self, source: SourceLike) -> Scenario:
        """The scenario for `source`, parsed on first use; ScenarioError if it is invalid."""
        if isinstance(source, Scenario):
            if self.profile in (None, source.profile) and self.seed in (None, source.seed):
                return source
            source = source.origin()
        key = source_key(source)
        scenario = self._loaded.get(key)
        if scenario is None:
            scenario = load_scenario(source, profile=self.profile, seed=self.seed)
            self._loaded[key] = scenario
        return scenario

    def __len__(self) -> int:
        return len(self._loaded)
