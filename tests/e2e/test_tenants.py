"""Tenants end to end: ``./faas up --api-keys FILE`` with two tenants and an admin, driven through the SDK;
the 429 of a tenant at its max_in_flight; a SIGHUP to the java process that adds a key (and one that keeps
the keys when the file went bad); a malformed keys file refused at start.
"""

import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import free_port, log_text, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "python"))

from mpcsfaas import Client, FaaSExecutor, MPCSFaaSError  # noqa: E402


def square(x):
    return x * x


def wait_for_cancel(seconds):
    time.sleep(seconds)
    return seconds


def write_keys(path, entries):
    path.write_text(json.dumps({"keys": entries}))


def java_pid(proc):
    """The pid of the JVM of a ./faas process (the launcher execs java, so it is normally its own pid)."""
    cmdline = Path(f"/proc/{proc.proc.pid}/cmdline").read_bytes()
    assert b"java" in cmdline, f"./faas did not exec java: {cmdline!r}"
    return proc.proc.pid


def status_of(base, key, path="/functions"):
    return requests.get(base + path, headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code


@pytest.fixture
def keys_file(tmp_path):
    path = tmp_path / "keys.json"
    write_keys(path, [
        {"key": "alice-" + uuid.uuid4().hex, "tenant": "alice"},
        {"key": "bob-" + uuid.uuid4().hex, "tenant": "bob", "max_in_flight": 1},
        {"key": "ops-" + uuid.uuid4().hex, "tenant": "ops", "admin": True},
    ])
    return path


def key_of(path, tenant):
    return next(e["key"] for e in json.loads(path.read_text())["keys"] if e["tenant"] == tenant)


def test_two_tenants_through_the_sdk_and_a_sighup_adds_a_key(redis_server, faas_launcher, keys_file):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = faas_launcher("faas-up-tenants", "up", "--port", port, "--redis", redis_server, "-w", 2,
                       "--api-keys", keys_file, "--prefix", f"tenants-{port}:")
    up.wait_healthy(base)
    wait_until(lambda: "MPCSFaaS running" in log_text(up), 60, "the platform to have started", procs=[up])
    alice, bob, ops = (key_of(keys_file, t) for t in ("alice", "bob", "ops"))

    with FaaSExecutor(base, api_key=alice, poll_wait=2) as ex:
        assert list(ex.map(square, range(6))) == [0, 1, 4, 9, 16, 25]
    with Client(base, api_key=alice) as a, Client(base, api_key=bob) as b, Client(base, api_key=ops) as admin:
        alice_fn = a.register(square)
        alice_task = a.submit(alice_fn, 7)
        assert a.result(alice_task, timeout=60) == 49

        for attempt in (lambda: b.status(alice_task), lambda: b.result_body(alice_task),
                        lambda: b.output(alice_task), lambda: b.cancel(alice_task),
                        lambda: b.submit(alice_fn, 1)):
            with pytest.raises(MPCSFaaSError) as info:
                attempt()
            assert info.value.status_code == 404, info.value
        assert alice_fn not in {f["function_id"] for f in b.functions()}
        assert alice_fn in {f["function_id"] for f in admin.functions()}
        assert admin.result(alice_task, timeout=10) == 49
        for path in ("/metrics", "/workers"):
            assert status_of(base, bob, path) == 403
            assert status_of(base, ops, path) == 200

        # bob may have one task in flight
        slow = b.register(wait_for_cancel)
        held = b.submit(slow, 120)
        with pytest.raises(MPCSFaaSError) as info:
            b.submit(slow, 1)
        assert info.value.status_code == 429
        assert info.value.retry_after == 1
        assert "max_in_flight" in info.value.error
        assert b.cancel(held)
        assert b.result_body(b.submit(b.register(square), 3), wait=30)["status"] == "COMPLETED"

    # SIGHUP re-reads the file: a key added is taken, the others stay
    carol = "carol-" + uuid.uuid4().hex
    assert status_of(base, carol) == 401
    entries = json.loads(keys_file.read_text())["keys"] + [{"key": carol, "tenant": "carol"}]
    write_keys(keys_file, entries)
    os.kill(java_pid(up), signal.SIGHUP)
    wait_until(lambda: status_of(base, carol) == 200, 30, "carol's key to be taken", procs=[up])
    assert status_of(base, alice) == 200
    with Client(base, api_key=carol) as c:
        assert c.functions() == [], "a new tenant starts with nothing"
        assert c.call(c.register(square), 5) == 25

    # a file gone bad keeps the keys in use, and the log says why
    keys_file.write_text("{not json")
    os.kill(java_pid(up), signal.SIGHUP)
    wait_until(lambda: "keeping the API keys in use" in log_text(up), 30, "the refused reload in the log",
               procs=[up])
    assert up.running
    assert status_of(base, carol) == 200
    assert status_of(base, alice) == 200


def test_a_malformed_keys_file_stops_the_start_naming_it(redis_server, faas_launcher, tmp_path):
    bad = tmp_path / "keys.json"
    write_keys(bad, [{"key": "k", "tenant": "not a name"}])
    api = faas_launcher("faas-api-bad-keys", "api", "--port", free_port(), "--redis", redis_server,
                        "--api-keys", bad)
    wait_until(lambda: not api.running, 120, "the API to give up")
    assert api.proc.returncode != 0
    text = log_text(api)
    assert f"API keys file {bad}" in text and "'tenant'" in text, text[-2000:]
