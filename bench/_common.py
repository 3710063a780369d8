"""Helpers shared by the benchmark scripts: machine description, README sections."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
README = BENCH_DIR / "README.md"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _is_vm() -> bool:
    try:
        return " hypervisor" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def _os_name() -> str:
    try:
        fields = dict(
            line.split("=", 1)
            for line in Path("/etc/os-release").read_text().splitlines()
            if "=" in line
        )
    except OSError:
        return platform.system()
    name = fields.get("NAME", "Linux").strip('"').replace(" GNU/Linux", "")
    version = fields.get("VERSION_ID", "").strip('"')
    return f"{name} {version}".strip()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_description() -> str:
    """E.g. '2-core x86_64 VM (AMD EPYC), Debian 12, Python 3.11.7, aiohttp 3.14.5'."""
    kind = "VM" if _is_vm() else "machine"
    return (
        f"{os.cpu_count()}-core {platform.machine()} {kind} ({_cpu_model()}), "
        f"{_os_name()}, Python {platform.python_version()}, aiohttp {_version('aiohttp')}"
    )


def package_revision() -> str:
    """The commit of cadenza_mock/ that was measured, marked if the tree had local changes."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "cadenza_mock", "scenarios"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev} (with uncommitted changes)" if dirty else rev


def write_section(name: str, body: str, readme: Path = README) -> None:
    """Replace the text between this benchmark's markers in the README, or append it."""
    begin, end = f"<!-- {name}: begin -->", f"<!-- {name}: end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = readme.read_text() if readme.exists() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + ("\n\n" if text.strip() else "") + block + "\n"
    readme.write_text(text)
