"""Fixtures and helpers for the MPCSFaaS end-to-end tests.

The suite drives the real platform through its launcher (``./faas``) against
a throw-away ``redis-server`` started on a free loopback port.  Nothing here
talks to any other Redis (in particular never to port 6379).

Only the standard library, ``requests`` and ``dill`` are used.
"""

import codecs
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path

import dill
import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
# The launcher under test; overridable (e.g. to try the suite against a stub).
FAAS = Path(os.environ.get("MPCSFAAS_E2E_LAUNCHER", REPO_ROOT / "faas"))

# The very first ./faas invocation may have to build the jar.
STARTUP_TIMEOUT = 180.0
STOP_TIMEOUT = 20.0
POLL_INTERVAL = 0.02
HTTP_TIMEOUT = 10.0

TERMINAL_STATUSES = ("COMPLETED", "FAILED")

_LOG_DIR = None


def log_dir():
    """Directory of the ./faas logs; kept after a failing run, else removed."""
    global _LOG_DIR
    if _LOG_DIR is None:
        _LOG_DIR = Path(tempfile.mkdtemp(prefix="faas-e2e-logs-"))
    return _LOG_DIR


def pytest_sessionfinish(session, exitstatus):
    if _LOG_DIR is not None:
        if exitstatus == 0:
            shutil.rmtree(_LOG_DIR, ignore_errors=True)
        else:
            print(f"\n./faas logs kept in {_LOG_DIR}", file=sys.stderr)
ALL_STATUSES = ("QUEUED", "RUNNING", "COMPLETED", "FAILED")


# --------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------

def capacity_only(what):
    """Marks a test that runs only with ``./faas test --capacity`` (it sets ``FAAS_CAPACITY=1``)."""
    return pytest.mark.skipif(os.environ.get("FAAS_CAPACITY") != "1", reason=f"{what}: ./faas test --capacity")


def free_port():
    """Return a currently unused TCP port on 127.0.0.1 (never 6379)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 6379:
            return port


def _tail(path, lines=80):
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return f"<could not read {path}: {exc}>"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def redis_ping(port, timeout=0.5, password=None):
    """True if a Redis server on 127.0.0.1:port answers PING with +PONG (after AUTH if ``password``)."""
    commands = ([["AUTH", password]] if password else []) + [["PING"]]
    request = b"".join(
        b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in c)
        for c in commands)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(request)
            buf = b""
            while buf.count(b"\r\n") < len(commands):  # one line a reply
                chunk = s.recv(64)
                if not chunk:
                    break
                buf += chunk
            return buf.split(b"\r\n")[len(commands) - 1].startswith(b"+PONG")
    except OSError:
        return False


# --------------------------------------------------------------------------
# Processes (/proc based, no psutil)
# --------------------------------------------------------------------------

def proc_stat(pid):
    """``(state, ppid, pgid)`` of a process, or None if it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[2])


def processes():
    """``(pid, (state, ppid, pgid))`` of every process."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st is not None:
                yield int(entry), st


def live_children(pid):
    """Non-zombie children of ``pid``."""
    return sorted(p for p, (state, ppid, _) in processes() if ppid == pid and state != "Z")


def proc_cmdline(pid):
    """The command line of a process, its arguments separated by spaces ("<gone>" once it has exited)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "<gone>"


# --------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------

class RedisServer:
    """A private redis-server process on a free loopback port.

    With ``appendonly`` what was written survives :meth:`kill` and a new
    :meth:`start` (same port and folder); with ``password`` the server
    requires it, and :attr:`url` carries it.
    """

    def __init__(self, workdir, password=None, appendonly=False, replicaof=None):
        self.workdir = Path(workdir)
        self.password = password
        self.appendonly = appendonly
        self.replicaof = replicaof  # the port of the master this server replicates, if any
        self.port = free_port()
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}127.0.0.1:{self.port}"
        self.log_path = self.workdir / "redis.log"
        self.proc = None

    def start(self, timeout=20.0):
        """Starts the server (again after :meth:`kill` or :meth:`stop`); returns once it answers PING."""
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
                "--save", "", "--appendonly", "yes" if self.appendonly else "no"]
        if self.password:
            args += ["--requirepass", self.password]
        if self.replicaof:
            args += ["--replicaof", "127.0.0.1", str(self.replicaof)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, cwd=str(self.workdir), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(
                    f"redis-server exited with {self.proc.returncode}:\n"
                    f"{_tail(self.log_path)}"
                )
            if redis_ping(self.port, password=self.password):
                return self
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"redis-server did not answer PING within {timeout}s:\n"
                    f"{_tail(self.log_path)}")

    def kill(self):
        """SIGKILL, as a crash would."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def cli(self, *args):
        """One redis-cli command; its raw output (no trailing newline)."""
        cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
        if self.password:
            cmd += ["-a", self.password, "--no-auth-warning"]
        r = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, f"redis-cli {args}: {r.returncode} {r.stdout} {r.stderr}"
        out = r.stdout
        return out[:-1] if out.endswith("\n") else out

    def hget(self, key, field):
        return self.cli("HGET", key, field)


@contextlib.contextmanager
def private_redis(**options):
    """A started :class:`RedisServer` (``options`` as its own) in a temporary folder, stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="faas-e2e-redis-") as tmp:
        server = RedisServer(tmp, **options).start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """URL of a private redis-server shared by the whole session."""
    with private_redis() as server:
        yield server.url


@pytest.fixture
def fresh_redis():
    """URL of a private redis-server used by a single test only."""
    with private_redis() as server:
        yield server.url


@pytest.fixture
def redis_factory():
    """``make(password=None, appendonly=False) -> RedisServer`` (started) for one test; all stopped at teardown."""
    with contextlib.ExitStack() as servers:
        yield lambda **options: servers.enter_context(private_redis(**options))


class SentinelSetup:
    """A master, two replicas of it and three ``redis-sentinel``s watching it (as :attr:`MASTER`, quorum 2,
    down after 2 s), on free loopback ports in ``workdir``. :meth:`start` returns once every Sentinel knows
    both replicas and the two other Sentinels, so that a killed master gets replaced. Down after 2 s, not 1:
    a loaded machine can hold a PING answer for a second, and a needless failover would surprise a test."""

    MASTER = "faasmaster"

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.servers = []  # the first master, then its replicas
        self.sentinel_ports = []
        self._sentinels = []

    def start(self, timeout=30.0):
        for i in range(3):
            folder = self.workdir / f"redis-{i}"
            folder.mkdir()
            replicaof = self.servers[0].port if self.servers else None
            self.servers.append(RedisServer(folder, replicaof=replicaof).start())
        master = self.servers[0]
        self._wait(lambda: "connected_slaves:2" in master.cli("INFO", "replication"), timeout, "both replicas")
        for i in range(3):
            self._start_sentinel(self.workdir / f"sentinel-{i}", master.port)
        for port in self.sentinel_ports:
            self._wait(lambda: self._knows_all(port), timeout, f"sentinel {port} to know the replicas and sentinels")
        return self

    def _start_sentinel(self, folder, master_port):
        folder.mkdir()
        port = free_port()
        conf = folder / "sentinel.conf"
        conf.write_text("\n".join([
            f"port {port}", "bind 127.0.0.1", "daemonize no", f"dir {folder}", "logfile sentinel.log",
            f"sentinel monitor {self.MASTER} 127.0.0.1 {master_port} 2",
            f"sentinel down-after-milliseconds {self.MASTER} 2000",
            f"sentinel failover-timeout {self.MASTER} 10000", ""]))
        self._sentinels.append(subprocess.Popen(["redis-sentinel", str(conf)], stdin=subprocess.DEVNULL,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                start_new_session=True))
        self.sentinel_ports.append(port)
        self._wait(lambda: redis_ping(port), 20, f"redis-sentinel on port {port}")

    def _knows_all(self, port):
        fields = _cli(port, "SENTINEL", "MASTER", self.MASTER).split("\n")
        info = dict(zip(fields[::2], fields[1::2]))
        return info.get("num-slaves") == "2" and info.get("num-other-sentinels") == "2"

    @staticmethod
    def _wait(predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"sentinel setup: no {what} within {timeout}s")
            time.sleep(0.1)

    @property
    def sentinels(self):
        """The Sentinels as ``--redis-sentinels`` takes them."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def master_port(self):
        """The port of the master the Sentinels name now."""
        return int(_cli(self.sentinel_ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.MASTER).split()[1])

    def master(self):
        """The :class:`RedisServer` that is the master now."""
        port = self.master_port()
        return next(server for server in self.servers if server.port == port)

    def stop(self):
        for proc in self._sentinels:
            proc.terminate()
        for proc in self._sentinels:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in self.servers:
            server.stop()


def _cli(port, *args):
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=10)
    return r.stdout.strip()


@pytest.fixture
def sentinel_setup():
    """A started :class:`SentinelSetup` for one test, stopped at teardown."""
    with tempfile.TemporaryDirectory(prefix="faas-e2e-sentinel-") as tmp:
        setup = SentinelSetup(tmp)
        try:
            yield setup.start()
        finally:
            setup.stop()


# --------------------------------------------------------------------------
# ./faas processes
# --------------------------------------------------------------------------

_ALL_PROCS = []


class FaasProcess:
    """One ``./faas ...`` subprocess with its output in a log file."""

    _seq = 0

    def __init__(self, name, args):
        FaasProcess._seq += 1
        self.name = name
        self.args = [str(FAAS)] + [str(a) for a in args]
        self.log_path = log_dir() / f"{FaasProcess._seq:02d}-{name}.log"
        self.proc = None
        self.started_at = None
        self.stopped_at = None
        self._log = None

    def start(self):
        if not FAAS.exists():
            pytest.fail(f"launcher {FAAS} does not exist")
        if not os.access(FAAS, os.X_OK):
            pytest.fail(f"launcher {FAAS} is not executable")
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._log = open(self.log_path, "ab")
        self._log.write(f"$ {' '.join(self.args)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.args,
            cwd=str(REPO_ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Own process group so that stray children (java, python
            # interpreters) can be cleaned up by group id afterwards.
            start_new_session=True,
            # SIGHUP as the default even when the tests run under nohup: the JVM keeps an inherited
            # "ignored" and would never see the SIGHUP that re-reads API keys.
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
        )
        self.started_at = time.monotonic()
        _ALL_PROCS.append(self)
        return self

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines=80):
        return _tail(self.log_path, lines)

    def wait_healthy(self, base_url, timeout=STARTUP_TIMEOUT):
        """Poll GET /health until the API serves it; fail with the log tail otherwise.

        /health is 200 only when a dispatcher is alive too; an API started on its
        own answers 503 "no dispatcher is running", which also means it is up.
        """
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"{self.name} ({' '.join(self.args)}) exited with code "
                    f"{self.proc.returncode} before becoming healthy; log tail:\n"
                    f"{self.tail()}"
                )
            try:
                r = requests.get(base_url + "/health", timeout=2)
                if r.status_code == 200 or (
                        r.status_code == 503 and "no dispatcher" in r.text):
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as exc:
                last = repr(exc)
            time.sleep(0.25)
        pytest.fail(
            f"{self.name} not healthy after {timeout}s (last: {last}); log tail:\n"
            f"{self.tail()}"
        )

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL after ``timeout``.

        Returns a tuple ``(clean, returncode, leftovers)``: ``clean`` is True
        if the process exited by itself within ``timeout`` after SIGTERM and
        ``leftovers`` is True if processes of its group survived it.
        Idempotent.
        """
        if self.proc is None:
            return True, None, False
        if self.stopped_at is not None:
            return self._stop_result
        pgid = self.proc.pid  # start_new_session => pgid == pid
        clean = True
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                clean = False
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        # Give children a moment to go away on their own, then kill them.
        leftovers = False
        deadline = time.monotonic() + 3
        while True:
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                break
            if time.monotonic() > deadline:
                leftovers = True
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            time.sleep(0.05)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.stopped_at = time.monotonic()
        self._stop_result = (clean, self.proc.returncode, leftovers)
        return self._stop_result


def _report_stop(proc, result):
    clean, rc, leftovers = result
    if not clean or leftovers:
        msg = (f"{proc.name}: clean={clean} returncode={rc} "
               f"leftover processes={leftovers}")
        warnings.warn(msg)
        print(msg, file=sys.stderr)
        print(proc.tail(), file=sys.stderr)


@pytest.fixture(scope="module")
def platform(redis_server):
    """Base URL of a ``./faas up -w 2`` platform (module scope)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = FaasProcess(
        "faas-up", ["up", "--port", port, "--redis", redis_server, "-w", 2]
    ).start()
    try:
        proc.wait_healthy(base)
        yield base
    finally:
        _report_stop(proc, proc.stop())


@pytest.fixture
def faas_launcher():
    """Factory ``start(name, *args) -> FaasProcess``; stops all at teardown."""
    procs = []

    def start(name, *args):
        p = FaasProcess(name, list(args)).start()
        procs.append(p)
        return p

    try:
        yield start
    finally:
        for p in reversed(procs):
            _report_stop(p, p.stop())


@pytest.fixture(scope="session")
def built_jar():
    """Builds the jar up front if it is stale (``./faas`` does, under a lock), once per session, for tests
    that start several ./faas at once: otherwise they all wait for one build, within their start-up timeouts.

    A build may fail because someone else runs ``mvn package`` in the same
    tree at the same moment (the shade plugin then cannot replace the jar):
    try again a few times before giving up.
    """
    last = None
    for _ in range(4):
        r = subprocess.run([str(FAAS), "--help"], cwd=str(REPO_ROOT), capture_output=True,
                           timeout=STARTUP_TIMEOUT * 3)
        if r.returncode == 0:
            return
        last = r
        time.sleep(10)
    pytest.fail(f"./faas could not build the jar:\n{last.stdout.decode()[-3000:]}"
                f"\n{last.stderr.decode()[-3000:]}")


def log_text(proc):
    """Everything a FaasProcess has logged so far ("" if its log cannot be read)."""
    try:
        return proc.log_path.read_text(errors="replace")
    except OSError:
        return ""


def wait_until(predicate, timeout, what, procs=(), interval=0.05):
    """Polls ``predicate`` until it returns a truthy value, and returns that; fails after ``timeout``
    seconds, or as soon as one of ``procs`` (FaasProcess objects) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for p in procs:
            if not p.running:
                pytest.fail(f"{p.name} exited with {p.proc.returncode} while waiting for {what}; "
                            f"log tail:\n{p.tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def workers(base):
    """The workers /workers lists, or none while the API does not answer."""
    try:
        return requests.get(base + "/workers", timeout=5).json()["workers"]
    except (requests.RequestException, ValueError, KeyError):
        return []


def health_status(base, timeout=3):
    """The status code of GET /health, or None if the API does not answer."""
    try:
        return requests.get(base + "/health", timeout=timeout).status_code
    except requests.RequestException:
        return None


def wait_listening(proc, base, timeout=STARTUP_TIMEOUT):
    """Waits until the API answers HTTP at all: /health may be 503 while no dispatcher runs."""
    wait_until(lambda: health_status(base) is not None, timeout, f"{proc.name} to answer HTTP", procs=[proc],
               interval=0.2)


def wait_healthy(proc, base, timeout=STARTUP_TIMEOUT, procs=()):
    """Waits for GET /health == 200 (Redis answers and a dispatcher is alive)."""
    wait_until(lambda: health_status(base) == 200, timeout, f"{base}/health to be 200",
               procs=[proc, *procs], interval=0.2)


# Attach the log tails of the platform processes to failing test reports.

_STARTED = pytest.StashKey()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_STARTED] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    started = item.stash.get(_STARTED, 0)
    for p in _ALL_PROCS:
        if p.stopped_at is None or p.stopped_at >= started:
            rep.sections.append((f"{p.name} log tail ({p.log_path})", p.tail()))


# --------------------------------------------------------------------------
# Serialization and REST helpers
# --------------------------------------------------------------------------

def serialize(obj, **dumps_kwargs):
    return codecs.encode(dill.dumps(obj, **dumps_kwargs), "base64").decode()


def deserialize(s):
    return dill.loads(codecs.decode(s.encode(), "base64"))


_tls = threading.local()


def http():
    """A per-thread requests.Session (Session is not thread-safe)."""
    s = getattr(_tls, "session", None)
    if s is None:
        s = requests.Session()
        _tls.session = s
    return s


def json_body(resp):
    try:
        return resp.json()
    except ValueError:
        pytest.fail(f"{resp.request.method} {resp.url} -> HTTP {resp.status_code} "
                    f"with a non-JSON body: {resp.text[:500]!r}")


def is_uuid(s):
    try:
        uuid.UUID(str(s))
        return True
    except ValueError:
        return False


def register(base, fn, /, *, name=None, recurse=True, headers=None):
    """Register ``fn``; returns the function id.

    ``recurse=True`` makes dill serialize nested functions by value together
    with the globals they use (otherwise their globals dict is pickled by
    reference to the test module, which the workers cannot import).
    ``headers``: extra request headers (e.g. ``Authorization``).
    """
    payload = serialize(fn, recurse=recurse)
    r = http().post(
        base + "/register_function",
        json={"name": name or getattr(fn, "__name__", "fn"), "payload": payload},
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert r.status_code == 201, f"register -> {r.status_code}: {r.text[:500]}"
    body = json_body(r)
    fid = body.get("function_id")
    assert is_uuid(fid), f"bad function_id in {body}"
    return fid


def execute_request(base, fid, args=(), kwargs=None, timeout=None, headers=None):
    """POST /execute_function of ``fid`` with ``(args, kwargs)`` (and the task's ``timeout`` in seconds, if
    given); returns the response, whatever its status."""
    body = {"function_id": fid, "payload": serialize((tuple(args), kwargs or {}))}
    if timeout is not None:
        body["timeout"] = timeout
    return http().post(base + "/execute_function", json=body, headers=headers, timeout=HTTP_TIMEOUT)


def execute(base, fid, /, *args, timeout=None, headers=None, **kwargs):
    """Execute function ``fid`` with ``(args, kwargs)``; returns the task id.

    ``timeout`` (the task's, in seconds) and ``headers`` go to the request, not to the function.
    """
    r = execute_request(base, fid, args, kwargs, timeout=timeout, headers=headers)
    assert r.status_code == 201, f"execute -> {r.status_code}: {r.text[:500]}"
    body = json_body(r)
    tid = body.get("task_id")
    assert is_uuid(tid), f"bad task_id in {body}"
    return tid


def get_status(base, task_id):
    r = http().get(f"{base}/status/{task_id}", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"status -> {r.status_code}: {r.text[:500]}"
    body = json_body(r)
    assert body.get("task_id") == task_id, body
    assert body.get("status") in ALL_STATUSES, body
    return body["status"]


def get_result_body(base, task_id, wait=None, headers=None):
    """GET /result/{task_id} (``?wait=`` seconds, if given, for the task to end); returns the JSON body."""
    params = None if wait is None else {"wait": f"{wait:.2f}"}
    r = http().get(f"{base}/result/{task_id}", params=params, headers=headers,
                   timeout=HTTP_TIMEOUT + (wait or 0))
    assert r.status_code == 200, f"result -> {r.status_code}: {r.text[:500]}"
    body = json_body(r)
    assert body.get("task_id") == task_id, body
    assert body.get("status") in ALL_STATUSES, body
    if body["status"] not in TERMINAL_STATUSES:
        assert body.get("result") is None, f"result set before the end: {body}"
    return body


def wait_result_body(base, task_id, timeout=60, procs=(), headers=None, long_poll=False):
    """Poll /result every 20 ms until the task ends; returns the JSON body.

    ``procs``: FaasProcess objects that must stay alive meanwhile (fail
    early with their log tail if one exits).  ``long_poll``: instead of
    polling, each request waits (``?wait=``, up to 5 s) for the task to end.
    """
    deadline = time.monotonic() + timeout
    body = None
    while True:
        for p in procs:
            if not p.running:
                pytest.fail(f"{p.name} exited with {p.proc.returncode} while "
                            f"waiting for task {task_id}; log tail:\n{p.tail()}")
        left = deadline - time.monotonic()
        wait = max(0.1, min(left, 5.0)) if long_poll else None
        body = get_result_body(base, task_id, wait=wait, headers=headers)
        if body["status"] in TERMINAL_STATUSES:
            assert isinstance(body.get("result"), str), \
                f"finished task without a string result: {body}"
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"task {task_id} not finished after {timeout}s: {body}")
        if not long_poll:
            time.sleep(POLL_INTERVAL)


def wait_result(base, task_id, timeout=60, procs=(), headers=None, long_poll=False):
    """Returns ``(status, deserialized result)`` once the task has ended (arguments as wait_result_body's)."""
    body = wait_result_body(base, task_id, timeout, procs, headers, long_poll)
    return body["status"], deserialize(body["result"])
