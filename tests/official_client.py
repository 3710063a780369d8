"""The official Python client, generated for the tests the way Cadenza generates it.

`cadenza-client-python` (package `cadenza_client`) is OpenAPI Generator's `python` output
for the platform's document. That package is not on the package index the tests install
from, so they generate the same client from the same document (`../shared/
cadenza-openapi.yaml`, never copied into the repository) with the generator's jar (PyPI's
`openapi-generator-cli`, which runs it with Java) and the options the official build
passes. Generated once per document and generator: kept under pytest's cache (or the
session's tmp dir without one); a few seconds the first time, nothing after.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from support import REPO

DOCUMENT = REPO.parent / "shared" / "cadenza-openapi.yaml"
PACKAGE = "cadenza_client"
# The official build's options (its package name and additional properties); no docs or
# test stubs, which the tests do not read.
OPTIONS = [
    "-g", "python",
    "--package-name", PACKAGE,
    "--additional-properties",
    "pythonAttrNoneIfUnset=true,disallowAdditionalPropertiesIfNotPresent=false",
    "--global-property", "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false",
]  # fmt: skip
# Under CI (.ci/run) a missing Java or generator fails the tests instead of skipping them.
REQUIRED = os.environ.get("CADENZA_MOCK_REQUIRE_CLIENT") == "1"


def missing() -> str | None:
    """Why the client cannot be generated here (None when it can)."""
    if not DOCUMENT.is_file():
        return f"the platform's OpenAPI document is not at {DOCUMENT} (read from ../shared)"
    if shutil.which("java") is None:
        return "OpenAPI Generator needs Java (a JRE): none on PATH"
    try:
        importlib.metadata.version("openapi-generator-cli")
        importlib.metadata.version("python-dateutil")
    except importlib.metadata.PackageNotFoundError as gone:
        return f"{gone.name} is not installed (the test extra has it)"
    return None


def generate(cache: Path) -> Path:
    """The folder holding the generated `cadenza_client` (put it on sys.path/PYTHONPATH):
    made in `cache` once per document, generator and options; concurrent sessions (xdist
    workers) may both generate, the first rename wins and the other copy is dropped."""
    generator = importlib.metadata.version("openapi-generator-cli")
    key = hashlib.sha256(DOCUMENT.read_bytes() + f"{generator}{OPTIONS}".encode()).hexdigest()
    done = cache / f"{PACKAGE}-{generator}-{key[:16]}"
    if (done / PACKAGE / "__init__.py").is_file():
        return done
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="generating-", dir=cache))
    jar = importlib.resources.files("openapi_generator_cli") / "openapi-generator.jar"
    java = shutil.which("java")
    assert java, missing()
    command = [java, "-jar", str(jar), "generate", "-i", str(DOCUMENT), "-o", str(work)]
    ran = subprocess.run(
        [*command, *OPTIONS], capture_output=True, text=True, timeout=300, check=False
    )
    assert ran.returncode == 0, f"OpenAPI Generator failed:\n{ran.stdout}\n{ran.stderr}"
    try:
        work.rename(done)
    except OSError:  # another worker's copy is there already
        shutil.rmtree(work, ignore_errors=True)
    return done
