"""End-to-end tests of the API over HTTPS: ``./faas up --tls-cert FILE --tls-key FILE`` with a self-signed
certificate made by ``openssl`` for this run, the SDK with that certificate as its CA bundle, HTTP/2 through
ALPN, ``./faas status`` against the https URL, and the startup errors of a half-given or unreadable pair.
"""

import socket
import ssl
import subprocess
import sys

import pytest
import requests

from conftest import FAAS, REPO_ROOT, FaasProcess, _report_stop, free_port, wait_until

sys.path.insert(0, str(REPO_ROOT / "python"))

from mpcsfaas import Client, FaaSExecutor, MPCSFaaSError  # noqa: E402


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """``(cert, key)``: a self-signed certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    run = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                          "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                          "-keyout", str(key), "-out", str(cert)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return cert, key


@pytest.fixture(scope="module")
def https_platform(redis_server, certificate):
    """``(port, base URL)`` of ``./faas up`` speaking HTTPS only."""
    cert, key = certificate
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    proc = FaasProcess("faas-up-https", ["up", "--port", port, "--redis", redis_server, "-w", 1,
                                         "--tls-cert", cert, "--tls-key", key]).start()

    def healthy():
        try:
            return requests.get(base + "/health", verify=str(cert), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(healthy, 180, "the https API to be healthy", procs=[proc], interval=0.25)
        yield port, base
    finally:
        _report_stop(proc, proc.stop())


def add(x, y):
    return x + y


def test_the_sdk_runs_a_function_over_https_with_the_certificate_as_ca_bundle(https_platform, certificate,
                                                                             monkeypatch):
    _, base = https_platform
    cert, _ = certificate
    # requests lets this variable override a Session's own verify: ca_bundle must win over it.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with Client(base, ca_bundle=str(cert)) as client:
        function_id = client.register(add)
        assert client.call(function_id, 2, 3) == 5
    with FaaSExecutor(base, ca_bundle=str(cert)) as executor:
        assert list(executor.map(add, [1, 2], [10, 20])) == [11, 22]


def test_without_the_ca_bundle_the_sdk_refuses_the_self_signed_certificate(https_platform):
    _, base = https_platform
    with Client(base) as client, pytest.raises(MPCSFaaSError) as refused:
        client.functions()
    assert "certificate" in str(refused.value).lower(), refused.value


def test_plain_http_on_the_https_port_gets_no_api_answer(https_platform):
    port, _ = https_platform
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=5)


def alpn(port, cert, offered):
    """The protocol the server picks from ``offered`` in its TLS handshake."""
    context = ssl.create_default_context(cafile=str(cert))
    context.set_alpn_protocols(offered)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.selected_alpn_protocol()


def test_http2_is_negotiated_through_alpn(https_platform, certificate):
    port, _ = https_platform
    cert, _ = certificate
    assert alpn(port, cert, ["h2", "http/1.1"]) == "h2"
    assert alpn(port, cert, ["http/1.1"]) == "http/1.1"


def faas(*args):
    return subprocess.run([str(FAAS), *map(str, args)], cwd=str(REPO_ROOT), capture_output=True, text=True,
                          timeout=120)


def test_status_reads_the_https_api_trusting_its_certificate(https_platform, certificate):
    _, base = https_platform
    cert, _ = certificate
    run = faas("status", "--url", base, "--ca", cert, "--interval", "0.2")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"MPCSFaaS at {base}" in run.stdout, run.stdout


def test_a_certificate_without_its_key_or_an_unreadable_file_is_a_one_line_startup_error(built_jar, certificate,
                                                                                      tmp_path):
    cert, key = certificate
    missing = tmp_path / "missing.pem"
    for args, message in [
            (["up", "--tls-cert", cert], "--tls-cert and --tls-key go together: --tls-key is missing"),
            (["api", "--tls-key", key], "--tls-cert and --tls-key go together: --tls-cert is missing"),
            (["api", "--tls-cert", missing, "--tls-key", key], f"--tls-cert {missing}: no such file"),
            (["up", "--tls-cert", cert, "--tls-key", tmp_path], f"--tls-key {tmp_path}: not a readable file")]:
        run = faas(*args, "--port", free_port(), "--redis", f"redis://127.0.0.1:{free_port()}")
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, run.stderr)
        assert "Exception" not in run.stderr
