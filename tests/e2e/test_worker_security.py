"""Encrypted, authenticated workers (docs/security.md): ZeroMQ CURVE between a pull/push dispatcher and its
workers, and TLS on the event bus of cluster mode.

Every process is a real ./faas JVM; keys come from ``./faas keygen``, certificates from ``openssl`` at test
time. A worker that lacks the right key or certificate must get nothing: the tests wait for the event that
shows it tried (the dispatcher's refusal, or the worker giving up on a silent dispatcher), check that the task
is still QUEUED, then start a worker with the right credentials and see it run the task.
"""

import re
import stat
import subprocess

import pytest
import requests

from conftest import (
    FAAS,
    REPO_ROOT,
    STARTUP_TIMEOUT,
    execute,
    free_port,
    get_status,
    log_text,
    register,
    wait_healthy,
    wait_listening,
    wait_result,
    wait_until,
    workers,
)

Z85_KEY = re.compile(r"^[0-9a-zA-Z.:+=^!/*?&<>()\[\]{}@%$#-]{40}$")


def keygen(out, name):
    """Runs ./faas keygen; returns the public key it printed."""
    r = subprocess.run([str(FAAS), "keygen", "--out", str(out), "--name", name], cwd=str(REPO_ROOT),
                       capture_output=True, text=True, timeout=STARTUP_TIMEOUT)
    assert r.returncode == 0, f"keygen: {r.returncode} {r.stdout} {r.stderr}"
    return r.stdout.split("public key: ")[1].split()[1]


def wait_logged(proc, pattern, count=1, timeout=STARTUP_TIMEOUT):
    """Waits until ``pattern`` (a regex) matched ``count`` times in the log of ``proc``."""
    return wait_until(lambda: len(re.findall(pattern, log_text(proc))) >= count, timeout,
                      f"{proc.name} to log {pattern!r} {count} times", procs=[proc])


def task_worker(base, task_id):
    r = requests.get(f"{base}/result/{task_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["worker"]


def worker_id(proc):
    """The id a worker JVM named in its start line."""
    return re.search(r"worker (\d+@\S+) with \d+ interpreters", log_text(proc)).group(1)


def register_double(base):
    """Registers x * 2, defined here so that dill sends it by value (a module-level function goes by name)."""
    def double(x):
        return x * 2
    return register(base, double)


# --------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------

def test_keygen_writes_a_private_secret_and_never_overwrites_it(built_jar, tmp_path):
    public = keygen(tmp_path / "keys", "dispatcher")
    secret_file, public_file = tmp_path / "keys" / "dispatcher.key", tmp_path / "keys" / "dispatcher.pub"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Z85_KEY.match(public), public
    assert public in public_file.read_text()
    secret_lines = [line for line in secret_file.read_text().splitlines() if not line.startswith("#")]
    assert len(secret_lines) == 1 and Z85_KEY.match(secret_lines[0]) and secret_lines[0] != public
    before = secret_file.read_text()
    again = subprocess.run([str(FAAS), "keygen", "--out", str(tmp_path / "keys"), "--name", "dispatcher"],
                           cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=STARTUP_TIMEOUT)
    assert again.returncode != 0 and "exists" in again.stderr, again
    assert secret_file.read_text() == before


# --------------------------------------------------------------------------
# CURVE between a pull/push dispatcher and its workers
# --------------------------------------------------------------------------

def start_curve_platform(faas_launcher, redis_url, mode, keys, authorized):
    api_port, zport = free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    api = faas_launcher("api", "api", "--port", api_port, "--redis", redis_url)
    dispatcher = faas_launcher("dispatcher", "dispatcher", "-m", mode, "-p", zport, "--redis", redis_url,
                               "--worker-token", "t0ken", "--curve-secret-key", keys / "dispatcher.key",
                               "--curve-authorized-keys", authorized)
    wait_listening(api, base)
    wait_logged(dispatcher, r"workers connect with CURVE")
    return base, zport, api, dispatcher


def start_curve_worker(faas_launcher, mode, zport, keys, name, server_key="dispatcher.pub"):
    return faas_launcher(name, f"{mode}-worker", 1, f"tcp://127.0.0.1:{zport}", "--worker-token", "t0ken",
                         "--curve-secret-key", keys / f"{name}.key", "--curve-server-key", keys / server_key)


@pytest.mark.parametrize("mode", ["pull", "push"])
def test_a_curve_worker_runs_tasks(mode, built_jar, fresh_redis, faas_launcher, tmp_path):
    keys = tmp_path / "keys"
    keygen(keys, "dispatcher")
    keygen(keys, "worker")
    # A folder of public keys: the .pub files in it (the dispatcher's own is one more, harmless).
    base, zport, api, dispatcher = start_curve_platform(faas_launcher, fresh_redis, mode, keys, keys)
    worker = start_curve_worker(faas_launcher, mode, zport, keys, "worker")
    wait_logged(worker, r"registered with dispatcher")
    wait_healthy(api, base, timeout=60, procs=[dispatcher, worker])

    fid = register_double(base)
    tids = [execute(base, fid, x) for x in range(20)]
    assert [wait_result(base, t, procs=[dispatcher, worker]) for t in tids] == [("COMPLETED", 2 * x)
                                                                                   for x in range(20)]
    assert {task_worker(base, t) for t in tids} == {worker_id(worker)}


def test_a_worker_whose_key_is_not_accepted_gets_nothing(built_jar, fresh_redis, faas_launcher, tmp_path):
    keys = tmp_path / "keys"
    keygen(keys, "dispatcher")
    good_key = keygen(keys, "good")
    stranger_key = keygen(keys, "stranger")
    authorized = tmp_path / "authorized"
    authorized.write_text(f"# the one worker we accept\n{good_key}\n")
    base, zport, api, dispatcher = start_curve_platform(faas_launcher, fresh_redis, "push", keys, authorized)
    fid = register_double(base)
    tid = execute(base, fid, 21)

    stranger = start_curve_worker(faas_launcher, "push", zport, keys, "stranger")
    # The dispatcher refuses its key during the CURVE handshake, before any message of the worker arrives.
    wait_logged(dispatcher, rf"refused a worker at \S+ whose CURVE public key {re.escape(stranger_key)}")
    assert get_status(base, tid) == "QUEUED"

    good = start_curve_worker(faas_launcher, "push", zport, keys, "good")
    assert wait_result(base, tid, procs=[dispatcher, good]) == ("COMPLETED", 42)
    good_id = worker_id(good)
    assert task_worker(base, tid) == good_id

    # The stranger kept trying (it reconnects each time the dispatcher stays silent), and was refused in
    # silence: one line for its key, whatever the number of tries.
    silences = len(re.findall(r"silent for \d+ ms; reconnecting", log_text(stranger)))
    wait_logged(stranger, r"silent for \d+ ms; reconnecting", count=silences + 2, timeout=60)
    dispatcher_log = log_text(dispatcher)
    assert dispatcher_log.count(stranger_key) == 1, "the refusal is logged once, not per retry"
    assert "registered with dispatcher" not in log_text(stranger)
    assert log_text(stranger).count(f"refused this worker's CURVE public key {stranger_key}") == 1
    assert not re.search(rf"worker {stranger.proc.pid}@\S+ registered", dispatcher_log)


def test_up_keeps_its_own_worker_in_process_with_curve(built_jar, fresh_redis, faas_launcher, tmp_path):
    """up's embedded worker reaches its dispatcher in-process, where no handshake is needed."""
    keys = tmp_path / "keys"
    keygen(keys, "dispatcher")
    keygen(keys, "worker")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = faas_launcher("up", "up", "--mode", "push", "--port", port, "--redis", fresh_redis, "-w", 1,
                       "--dispatcher-port", free_port(), "--curve-secret-key", keys / "dispatcher.key",
                       "--curve-authorized-keys", keys / "worker.pub")
    wait_healthy(up, base, timeout=STARTUP_TIMEOUT)
    fid = register_double(base)
    assert wait_result(base, execute(base, fid, 4), procs=[up]) == ("COMPLETED", 8)


# --------------------------------------------------------------------------
# TLS on the event bus of cluster mode
# --------------------------------------------------------------------------

def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=str(cwd), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"openssl {args}: {r.stderr}"


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}", cwd=d)


def make_member(d, name, ca):
    """A key and a certificate for 127.0.0.1 signed by ``ca``; returns their paths and the CA's."""
    (d / f"{name}.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d / f"{name}.pem", d / f"{name}.key"


def tls_flags(d, member, ca, trusted_ca):
    cert, key = make_member(d, member, ca)
    return ["--cluster-tls-cert", cert, "--cluster-tls-key", key, "--cluster-tls-ca", d / f"{trusted_ca}.pem"]


def test_cluster_members_need_a_certificate_of_the_cluster_ca(fresh_redis, faas_launcher, tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    make_ca(certs, "cluster-ca")
    make_ca(certs, "other-ca")
    port, hz = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    join = ["--join", f"127.0.0.1:{hz}"]
    api = faas_launcher("api", "api", "--port", port, "--redis", fresh_redis)
    dispatcher = faas_launcher("cluster-dispatcher", "dispatcher", "-m", "cluster", "--redis", fresh_redis,
                               "--cluster-port", hz, *join, *tls_flags(certs, "dispatcher", "cluster-ca",
                                                                      "cluster-ca"))
    wait_listening(api, base)
    wait_logged(dispatcher, r"dispatcher \S+ ready")
    fid = register_double(base)
    tid = execute(base, fid, 21)

    # It knows the cluster's CA, but its own certificate is signed by another: the dispatcher refuses it.
    intruder = faas_launcher("intruder", "cluster-worker", 1, "--cluster-port", free_port(), *join,
                             *tls_flags(certs, "intruder", "other-ca", "cluster-ca"))
    wait_logged(intruder, r"is in the cluster but has not welcomed this worker", timeout=STARTUP_TIMEOUT)
    wait_logged(intruder, r"SSLHandshakeException: Received fatal alert: bad_certificate")
    assert get_status(base, tid) == "QUEUED"
    assert workers(base) == []

    member = faas_launcher("member", "cluster-worker", 1, "--cluster-port", free_port(), *join,
                           *tls_flags(certs, "member", "cluster-ca", "cluster-ca"))
    assert wait_result(base, tid, timeout=STARTUP_TIMEOUT, procs=[dispatcher, member]) == ("COMPLETED", 42)
    member_id = worker_id(member)
    assert task_worker(base, tid) == member_id

    # /workers shows what the dispatcher last published: the member, and never the intruder.
    wait_until(lambda: [w["id"] for w in workers(base)] == [member_id], 30, "the member in /workers",
               procs=[dispatcher, intruder, member])
    assert "registered with dispatcher" not in log_text(intruder)
