"""End-to-end tests of the ways to start the platform: the API and a local dispatcher under Vert.x's own
launcher (``io.vertx.launcher.application.VertxApplication`` with a conf file, as the README shows), and
the ``./faas`` command line's version, usage errors, ``status`` and ``/metrics``.
"""

import json
import re
import socket
import subprocess

import requests

from conftest import (
    FAAS,
    HTTP_TIMEOUT,
    REPO_ROOT,
    FaasProcess,
    _report_stop,
    execute,
    free_port,
    register,
    wait_healthy,
    wait_result,
)

JAR = REPO_ROOT / "target" / "mpcsfaas.jar"


def vertx_application(name, verticle, conf):
    """``java -cp target/mpcsfaas.jar io.vertx.launcher.application.VertxApplication VERTICLE -conf FILE``, with
    the log and the stopping of a FaasProcess."""
    proc = FaasProcess(name, [])
    proc.args = ["java", "-Xmx256m", "-cp", str(JAR), "io.vertx.launcher.application.VertxApplication",
                 verticle, "-conf", str(conf)]
    return proc.start()


def test_vertx_launcher_runs_the_api_and_a_local_dispatcher_from_one_conf_file(built_jar, fresh_redis, tmp_path):
    conf = json.loads((REPO_ROOT / "conf" / "local.json").read_text())
    port = free_port()
    conf["api"]["port"] = port
    conf["redis"]["url"] = fresh_redis
    conf["workers"] = 1
    conf_file = tmp_path / "local.json"
    conf_file.write_text(json.dumps(conf))
    base = f"http://127.0.0.1:{port}"
    procs = [vertx_application("vertx-api", "io.mpcsfaas.api.ApiVerticle", conf_file),
             vertx_application("vertx-dispatcher", "io.mpcsfaas.dispatch.DispatcherVerticle", conf_file)]
    try:
        wait_healthy(procs[0], base, procs=procs[1:])

        def triple(x):
            return 3 * x

        fid = register(base, triple)
        assert wait_result(base, execute(base, fid, 14), procs=procs) == ("COMPLETED", 42)
        metrics = requests.get(base + "/metrics", timeout=HTTP_TIMEOUT).text
        assert re.search(r"^faas_tasks_completed_total 1$", metrics, re.MULTILINE), metrics[:2000]
    finally:
        for proc in reversed(procs):
            _report_stop(proc, proc.stop())


def faas(*args):
    return subprocess.run([str(FAAS), *map(str, args)], cwd=str(REPO_ROOT), capture_output=True, text=True,
                          timeout=120)


def test_version_is_the_poms(built_jar):
    pom = (REPO_ROOT / "pom.xml").read_text()
    version = re.search(r"<artifactId>mpcsfaas</artifactId>\s*<version>([^<]+)</version>", pom).group(1)
    run = faas("--version")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"MPCSFaaS {version}"


def test_bad_flags_and_values_exit_2_with_one_line_naming_them(built_jar):
    for args, named in [(["api", "--port", "abc"], ["--port", "abc"]),
                        (["status", "--interval", "abc"], ["--interval", "abc"]),
                        (["up", "--no-such-flag"], ["--no-such-flag"]),
                        (["dispatcher", "-mode", "sideways"], ["mode", "sideways"]),
                        (["up", "--conf", "no-such-file.json"], ["no-such-file.json"])]:
        run = faas(*args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and all(word in lines[0] for word in named), (args, run.stderr)
        assert "Exception" not in run.stderr


def test_status_without_a_server_says_it_found_none():
    url = f"http://127.0.0.1:{free_port()}"
    run = faas("status", "--url", url, "--interval", "0.1")
    assert run.returncode == 1
    assert run.stderr.strip() == f"faas: found no MPCSFaaS API at {url}", run.stderr


def test_a_taken_port_is_named(built_jar, fresh_redis):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        run = faas("api", "--host", "127.0.0.1", "--port", port, "--redis", fresh_redis)
    assert run.returncode == 1, run.stderr
    assert f"faas: could not start: the API cannot listen on 127.0.0.1:{port}" in run.stderr, run.stderr


def test_metrics_of_faas_up_add_the_jvm_http_server_and_event_loop_series(platform):
    requests.get(platform + "/health", timeout=HTTP_TIMEOUT)
    metrics = requests.get(platform + "/metrics", timeout=HTTP_TIMEOUT).text
    assert metrics.startswith("# HELP faas_tasks_submitted_total")
    assert re.search(r"^jvm_memory_used_bytes\{", metrics, re.MULTILINE)
    assert re.search(r'^vertx_http_server_requests_total\{code="\d+",method="GET"\} [1-9]', metrics, re.MULTILINE)
    assert re.search(r'^netty_eventexecutor_tasks_pending\{name="vert.x-eventloop-thread-', metrics, re.MULTILINE)


def test_up_starts_a_redis_of_its_own_that_takes_the_longest_value_the_platform_sends(faas_launcher, tmp_path):
    """With nothing at its Redis URL, up starts an append-only redis-server in --data-dir that takes a value as
    long as any the platform sends it: 512 MiB, Redis's default (a task's bigger values go in pieces)."""
    port, redis_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp_path / "redis"
    up = faas_launcher("faas-up-own-redis", "up", "--port", port, "--redis", f"redis://127.0.0.1:{redis_port}",
                       "--dispatcher-port", free_port(), "--data-dir", data, "-w", 1)
    wait_healthy(up, base)
    with socket.create_connection(("127.0.0.1", redis_port), timeout=HTTP_TIMEOUT) as s:
        s.sendall(b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$18\r\nproto-max-bulk-len\r\n")
        reply = b""
        while reply.count(b"\r\n") < 5:
            reply += s.recv(256)
    assert reply.split(b"\r\n")[4] == b"536870912", reply
    assert (data / "appendonlydir").is_dir(), list(data.iterdir())
    def inc(x):
        return x + 1

    assert wait_result(base, execute(base, register(base, inc), 41), procs=[up]) == ("COMPLETED", 42)
