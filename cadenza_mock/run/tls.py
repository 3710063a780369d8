"""HTTPS for the mock: a throwaway CA and a localhost certificate, or the user's own files.

`serve --tls`, `MockServer(tls=True)` and the pytest plugin all need the same two things:
a server-side SSL context, and what a client must trust to verify it. A generated CA
(trustme, imported only here and only when asked) lives in memory; only its certificate,
which is public, is written out as the bundle clients load. No private key is printed
or kept on disk: the CA's never leaves memory, and the server certificate's exists only
in the temporary file Python's `ssl` must load it from, deleted at once (by trustme).
"""

from __future__ import annotations

import atexit
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The names the generated certificate is valid for: what a local client dials.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


class TlsError(ValueError):
    """TLS cannot be set up as asked; the message says what to change."""


@dataclass(frozen=True)
class TlsSetup:
    """A server context and, for a generated certificate, the CA bundle clients trust."""

    server_context: ssl.SSLContext
    ca_bundle: Path | None  # None: the user's own certificate, trusted however they trust it

    def client_context(self) -> ssl.SSLContext:
        """A client context that verifies the mock's certificate (hostname included)."""
        context = ssl.create_default_context()
        if self.ca_bundle is not None:
            context.load_verify_locations(cafile=str(self.ca_bundle))
        return context


def generated(ca_file: str | Path | None = None) -> TlsSetup:
    """A fresh CA and a certificate for LOCAL_NAMES; the CA certificate is written to
    `ca_file` (default: a new private temporary folder)."""
    try:
        import trustme
    except ImportError:
        raise TlsError(
            "HTTPS with a generated certificate needs trustme: "
            "pip install 'cadenza-mock[tls]' (or give --tls-cert and --tls-key)"
        ) from None
    ca = trustme.CA(organization_name="cadenza-mock")
    certificate = ca.issue_cert(*LOCAL_NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    if ca_file is None:
        folder = tempfile.mkdtemp(prefix="cadenza-mock-tls-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # gone with the process
        path = Path(folder) / "ca.pem"
    else:
        path = Path(ca_file)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ca.cert_pem.write_to_path(str(path))
    except OSError as exc:
        raise TlsError(f"cannot write the CA bundle to {path}: {exc.strerror or exc}") from None
    return TlsSetup(context, path)


def from_files(cert_file: str | Path, key_file: str | Path) -> TlsSetup:
    """The user's certificate chain and key (PEM)."""
    for given in (cert_file, key_file):
        if not Path(given).is_file():
            raise TlsError(f"no such file: {given}")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(cert_file), str(key_file))
    except (OSError, ssl.SSLError) as exc:
        # The reason only (a mismatched key, not PEM): never the file's contents.
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise TlsError(
            f"cannot use {cert_file} with {key_file} as a certificate and key: {reason}"
        ) from None
    return TlsSetup(context, None)


def setup(
    tls: bool,
    cert_file: str | Path | None = None,
    key_file: str | Path | None = None,
    ca_file: str | Path | None = None,
) -> TlsSetup | None:
    """What `serve` and `MockServer` were asked for: None for plain HTTP."""
    if (cert_file is None) != (key_file is None):
        raise TlsError("--tls-cert and --tls-key go together: give both, or neither")
    if cert_file is not None and key_file is not None:
        if ca_file is not None:
            raise TlsError(
                "--tls-ca-file is where a generated CA goes; with your own "
                "certificate, clients trust it however you set that up"
            )
        return from_files(cert_file, key_file)
    if tls or ca_file is not None:
        return generated(ca_file)
    return None
