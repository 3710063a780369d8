"""HTTPS and WSS: `serve --tls`, `MockServer(tls=True)` and the fixture option,
with certificate verification on in every client."""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests
import trustme
import urllib3
from support import LIST, run_cli

from cadenza_mock.run.server import MockServer
from cadenza_mock.run.tls import TlsError


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(scenario="default", tls=True) as server:
        yield server


def test_requests_and_httpx_verify_the_mock(mock: MockServer) -> None:
    assert mock.url.startswith("https://127.0.0.1:") and mock.ws_url.startswith("wss://")
    assert mock.ca_bundle is not None and mock.ca_bundle.is_file()
    got = requests.get(mock.url_for(LIST), headers=mock.auth_headers, verify=str(mock.ca_bundle))
    assert got.status_code == 200 and len(got.json()["data"]) == 4
    with httpx.Client(verify=mock.ssl_context) as client:
        assert client.get(mock.url_for(LIST), headers=mock.auth_headers).json() == got.json()
    with requests.Session() as session:  # repeated calls: the remembered-answer path too
        answers = [
            session.get(mock.url_for(LIST), headers=mock.auth_headers, verify=str(mock.ca_bundle))
            for _ in range(5)
        ]
    assert {a.content for a in answers} == {got.content}


def test_the_official_clients_transport_verifies_the_mock(mock: MockServer) -> None:
    """cadenza-client-python (not on PyPI, so not installed here) sends every call through
    `urllib3.PoolManager(cert_reqs=ssl.CERT_REQUIRED, ca_certs=configuration.ssl_ca_cert)`:
    the same pool, given the mock's CA bundle, verifies it; without it, it refuses."""
    trusting = urllib3.PoolManager(cert_reqs=ssl.CERT_REQUIRED, ca_certs=str(mock.ca_bundle))
    got = trusting.request("GET", mock.url_for(LIST), headers=mock.auth_headers, retries=False)
    assert got.status == 200 and len(json.loads(got.data)["data"]) == 4
    strict = urllib3.PoolManager(cert_reqs=ssl.CERT_REQUIRED)
    with pytest.raises(urllib3.exceptions.SSLError):
        strict.request("GET", mock.url_for(LIST), headers=mock.auth_headers, retries=False)


def test_a_client_that_does_not_trust_the_ca_is_refused(mock: MockServer) -> None:
    mock.reset()
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(mock.url_for(LIST), headers=mock.auth_headers, timeout=10)
    with pytest.raises(httpx.ConnectError):
        httpx.get(mock.url_for(LIST), headers=mock.auth_headers)
    assert mock.calls() == []  # no request got past the handshake


async def test_aiohttp_over_https_and_the_websocket_over_wss(mock: MockServer) -> None:
    context = mock.ssl_context
    assert isinstance(context, ssl.SSLContext)
    async with aiohttp.ClientSession() as session:
        async with session.get(mock.url_for(LIST), headers=mock.auth_headers, ssl=context) as r:
            assert r.status == 200 and len((await r.json())["data"]) == 4
        async with session.ws_connect(mock.ws_url, ssl=context) as ws:
            await ws.send_str(json.dumps({"id": 1, "connect": {"token": mock.token}}))
            reply = json.loads((await ws.receive(timeout=10)).data)
    assert reply["id"] == 1 and "connect" in reply and "error" not in reply


def test_the_ca_bundle_holds_no_private_key(mock: MockServer) -> None:
    assert mock.ca_bundle is not None
    text = mock.ca_bundle.read_text()
    assert "BEGIN CERTIFICATE" in text and "PRIVATE KEY" not in text


@pytest.fixture(scope="module")
def own_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(cert, key, CA) files as a user would bring them."""
    folder = tmp_path_factory.mktemp("own-tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    return cert_file, key_file, ca_file


def test_your_own_certificate(own_certificate: tuple[Path, Path, Path]) -> None:
    cert_file, key_file, ca_file = own_certificate
    with MockServer(tls_cert=cert_file, tls_key=key_file) as server:
        assert server.ca_bundle is None and server.url.startswith("https://")
        got = requests.get(server.url_for(LIST), headers=server.auth_headers, verify=str(ca_file))
    assert got.status_code == 200


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"tls_cert": "cert.pem"}, "--tls-cert and --tls-key go together"),
        ({"tls_cert": "nope.pem", "tls_key": "nope.key"}, "no such file: nope.pem"),
    ],
)
def test_bad_tls_options_are_refused_clearly(options: dict[str, str], words: str) -> None:
    with pytest.raises(TlsError, match=re.escape(words)):
        MockServer(**options)  # type: ignore[arg-type]


def test_a_key_that_is_not_the_certificates_is_refused(
    own_certificate: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    cert_file, _, _ = own_certificate
    other = tmp_path / "other.pem"
    trustme.CA().issue_cert("localhost").private_key_pem.write_to_path(str(other))
    with pytest.raises(TlsError) as info:
        MockServer(tls_cert=cert_file, tls_key=other)
    assert "as a certificate and key" in str(info.value)
    assert "PRIVATE" not in str(info.value) and other.read_text()[40:80] not in str(info.value)


def test_serve_tls_prints_the_ca_and_verifies(serve, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca" / "mock-ca.pem"
    server = serve("--scenario", "default", "--tls", "--tls-ca-file", str(ca_file))
    text = server.read_until("  tls    ")
    url = re.search(r"on (https://127\.0\.0\.1:\d+)", text)
    assert url is not None and f"--cacert {ca_file}" in text and str(ca_file) in text
    got = requests.get(
        f"{url.group(1)}{LIST}",
        headers={"Authorization": "Bearer alice-token"},
        verify=str(ca_file),
    )
    assert got.status_code == 200
    code, output = server.stop()
    assert code == 0 and "PRIVATE KEY" not in output and "PRIVATE" not in ca_file.read_text()


def test_serve_tls_env_and_own_files(serve, own_certificate: tuple[Path, Path, Path]) -> None:
    cert_file, key_file, ca_file = own_certificate
    server = serve(
        "--scenario",
        "default",
        env={"CADENZA_MOCK_TLS_CERT": str(cert_file), "CADENZA_MOCK_TLS_KEY": str(key_file)},
    )
    text = server.read_until("  loop   ")
    url = re.search(r"on (https://127\.0\.0\.1:\d+)", text)
    assert url is not None and "CA bundle" not in text
    got = requests.get(
        f"{url.group(1)}{LIST}",
        headers={"Authorization": "Bearer alice-token"},
        verify=str(ca_file),
    )
    assert got.status_code == 200 and server.stop()[0] == 0


def test_serve_refuses_half_a_certificate() -> None:
    result = run_cli("serve", "--port", "0", "--tls-key", "key.pem")
    assert result.returncode == 2
    assert "--tls-cert and --tls-key go together" in result.stderr


@pytest.mark.slow
def test_the_fixture_serves_https_when_a_test_asks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import requests

        @pytest.mark.cadenza_mock(tls=True)
        def test_https(cadenza_mock):
            assert cadenza_mock.url.startswith("https://")
            got = requests.get(
                cadenza_mock.url_for("/api/v3/credential/list"),
                headers=cadenza_mock.auth_headers,
                verify=str(cadenza_mock.ca_bundle),
            )
            assert got.status_code == 200
            assert len(cadenza_mock.calls("/api/v3/credential/list")) == 1

        def test_plain(cadenza_mock):
            assert cadenza_mock.url.startswith("http://") and cadenza_mock.ca_bundle is None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


@pytest.mark.slow
def test_the_fixture_refuses_a_non_boolean_tls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cadenza_mock(tls="yes")
        def test_https(cadenza_mock):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cadenza_mock(tls=...) takes True or False*"])


def test_a_ca_file_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(TlsError, match=re.escape(f"cannot write the CA bundle to {blocker}")):
        MockServer(tls=True, tls_ca_file=blocker / "ca.pem")


def test_a_ca_file_with_your_own_certificate_is_refused(
    own_certificate: tuple[Path, Path, Path],
) -> None:
    cert_file, key_file, ca_file = own_certificate
    result = run_cli(
        "serve",
        "--port",
        "0",
        "--tls-cert",
        str(cert_file),
        "--tls-key",
        str(key_file),
        "--tls-ca-file",
        str(ca_file),
    )
    assert result.returncode == 2
    assert "--tls-ca-file is where a generated CA goes" in result.stderr
    assert "PRIVATE" not in result.stderr


# Tests a project runs against its https:// container: the CA comes by option or variable.
HTTPS_REMOTE = """
import httpx
import pytest
import requests

LIST = "/api/v3/credential/list"


@pytest.mark.cadenza_mock(tls=True)
def test_marked_tls(cadenza_mock):
    assert cadenza_mock.url.startswith("https://")
    got = requests.get(
        cadenza_mock.url_for(LIST),
        headers=cadenza_mock.auth_headers,
        verify=str(cadenza_mock.ca_bundle),
    )
    assert got.status_code == 200
    with httpx.Client(verify=cadenza_mock.ssl_context) as client:
        assert client.get(cadenza_mock.url_for(LIST), headers=cadenza_mock.auth_headers).is_success
    cadenza_mock.assert_called(LIST, times=2)


def test_unmarked(cadenza_mock):
    assert cadenza_mock.url.startswith("https://")
    assert cadenza_mock.credentials()  # the admin API over https, verified
"""


@pytest.fixture(scope="module")
def https_remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    ca_file = tmp_path_factory.mktemp("remote-ca") / "ca.pem"
    with MockServer(scenario="default", tls=True, tls_ca_file=ca_file) as server:
        yield server.url, ca_file


def test_tls_tests_run_against_an_https_remote_given_its_ca(
    pytester: pytest.Pytester, https_remote: tuple[str, Path]
) -> None:
    url, ca_file = https_remote
    pytester.makepyfile(test_https_remote=HTTPS_REMOTE)
    result = pytester.runpytest_inprocess(
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "--cadenza-url",
        url,
        "--cadenza-ca-file",
        str(ca_file),
    )
    result.assert_outcomes(passed=2)


def test_the_ca_may_come_from_the_environment(
    pytester: pytest.Pytester, https_remote: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file = https_remote
    monkeypatch.setenv("CADENZA_CA_FILE", str(ca_file))
    monkeypatch.setenv("CADENZA_MOCK_URL", url)
    pytester.makepyfile(test_https_remote=HTTPS_REMOTE)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_an_https_remote_without_its_ca_says_how_to_give_it(
    pytester: pytest.Pytester, https_remote: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = https_remote
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    pytester.makepyfile(test_https_remote=HTTPS_REMOTE)
    result = pytester.runpytest_inprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "--cadenza-url", url
    )
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*TLS failed*--cadenza-ca-file or CADENZA_CA_FILE*"])


def test_a_missing_ca_file_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_nothing="def test_nothing(cadenza_mock):\n    pass\n")
    missing = tmp_path / "nowhere.pem"
    result = pytester.runpytest_inprocess(
        "--cadenza-url", "https://127.0.0.1:9", "--cadenza-ca-file", str(missing)
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--cadenza-ca-file / CADENZA_CA_FILE: no file {missing}*"])


def test_tls_against_a_plain_remote_names_the_ca_option(
    pytester: pytest.Pytester, serve: Any
) -> None:
    url, _ = serve("--quiet").banner()
    pytester.makepyfile(test_https_remote=HTTPS_REMOTE)
    result = pytester.runpytest_inprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "--cadenza-url", url
    )
    result.assert_outcomes(passed=0, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*serve the container with --tls*--cadenza-ca-file*"])
