"""The package version, apart from the package face so lower layers can read it cheaply."""

from __future__ import annotations

import sys

__version__ = "0.2.0"
# The Cadenza API version the mock emulates (the platform's OpenAPI document's
# info.version): what GET /api/v3 and /api/v3/health report; the mock's own release goes
# in the X-Cadenza-Mock-Version header.
API_VERSION = "3.0.1"

# `serve --loop`: auto takes uvloop where it is installed (it is a dependency wherever it
# builds) and asyncio's own loop everywhere else.
LOOP_CHOICES = ("auto", "uvloop", "asyncio")


def uvloop_version() -> str | None:
    """uvloop's version if it can be imported here, found without importing it."""
    # Imported here: this module is on the import path of every pytest run (the plugin).
    import importlib.util

    if importlib.util.find_spec("uvloop") is None:
        return None
    loaded = sys.modules.get("uvloop")  # `serve` imports it first: no metadata scan then
    if loaded is not None and isinstance(getattr(loaded, "__version__", None), str):
        return str(loaded.__version__)
    from importlib import metadata

    try:
        return metadata.version("uvloop")
    except metadata.PackageNotFoundError:
        return "unknown version"


def loop_name(choice: str = "auto") -> str:
    """`uvloop 0.23.0` or `asyncio`: what `serve --loop CHOICE` runs on here."""
    if choice not in LOOP_CHOICES:
        raise ValueError(f"choose from {', '.join(LOOP_CHOICES)}")
    found = uvloop_version()
    if choice == "asyncio" or found is None:
        if choice == "uvloop":
            raise ValueError("uvloop is not installed (pip install uvloop), or use --loop asyncio")
        return "asyncio"
    return f"uvloop {found}"


def version_line() -> str:
    """`cadenza-mock --version`: the release and the loop `serve` would run on."""
    return f"cadenza-mock {__version__} (event loop: {loop_name()})"
