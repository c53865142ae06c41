"""End-to-end tests of named environments (``--env NAME=PYTHON``, ``"env"`` at registration).

Each environment is a real virtual environment made with ``python3 -m venv --system-site-packages`` (so it has
dill) holding a module, ``onlyhere``, that no other interpreter can import. A function that imports it runs
only where its environment is offered: in local mode on the dispatcher's own interpreters of that environment;
in pull, push and cluster mode on a worker that offers it, while the task of an environment nobody offers stays QUEUED
and ``/stats`` and ``/workers`` name that environment as waited for.
"""

import subprocess
import sys

import pytest

from conftest import (
    HTTP_TIMEOUT,
    free_port,
    get_status,
    http,
    is_uuid,
    serialize,
    wait_healthy,
    wait_result_body,
    wait_until,
)

ONLYHERE = "VALUE = 40\n"


def make_env(path):
    """A virtual environment at ``path`` whose Python has dill and the module ``onlyhere``; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(path)],
                   check=True, timeout=60)
    python = path / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    (path / "lib" / site.split("/lib/", 1)[1] / "onlyhere.py").write_text(ONLYHERE)
    return str(python)


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory):
    return make_env(tmp_path_factory.mktemp("env") / "venv")


def onlyhere_function():
    """A function that needs ``onlyhere``; defined in a function so that dill sends it by value."""
    def uses_onlyhere(x):
        import onlyhere
        return onlyhere.VALUE + x
    return uses_onlyhere


def register_in(base, fn=None, env=None):
    fn = fn or onlyhere_function()
    body = {"name": fn.__name__, "payload": serialize(fn, recurse=True)}
    if env is not None:
        body["env"] = env
    return http().post(base + "/register_function", json=body, timeout=HTTP_TIMEOUT)


def function_id(base, fn=None, env=None):
    r = register_in(base, fn, env)
    assert r.status_code == 201, r.text
    fid = r.json()["function_id"]
    assert is_uuid(fid)
    return fid


def submit(base, fid, *args):
    r = http().post(base + "/execute_function",
                    json={"function_id": fid, "payload": serialize((args, {}))}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()["task_id"]


def get_json(base, path):
    r = http().get(base + path, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def test_local_mode_runs_a_function_only_in_its_environment(faas_launcher, fresh_redis, venv_python):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = faas_launcher("up-env", "up", "--port", port, "--redis", fresh_redis, "-w", 1,
                       "--env", f"special={venv_python}")
    wait_healthy(up, base)

    in_env = function_id(base, env="special")
    without = function_id(base)
    assert in_env != without, "the environment is part of what makes a function the same"
    assert function_id(base, env="special") == in_env, "registering again answers the same id"
    assert function_id(base, env="default") == without, "no env is the environment default"
    assert get_json(base, f"/functions/{in_env}")["env"] == "special"

    done = wait_result_body(base, submit(base, in_env, 2), timeout=60, procs=[up])
    assert done["status"] == "COMPLETED", done.get("error")
    failed = wait_result_body(base, submit(base, without, 2), timeout=60, procs=[up])
    assert failed["status"] == "FAILED"
    assert "ModuleNotFoundError" in failed["error"], failed["error"]

    workers = get_json(base, "/workers")
    assert sorted(workers["workers"][0]["envs"]) == ["default", "special"], workers
    assert workers["environments"]["waited_for"] == []


def test_a_bad_environment_name_is_a_400_with_a_json_error(faas_launcher, fresh_redis):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = faas_launcher("api-env", "api", "--port", port, "--redis", fresh_redis)
    wait_until(lambda: _answers(base), 60, "the API listening", procs=[api])
    for name in ["", "a b", "x" * 65, "../up", 7, None.__class__.__name__ + "/"]:
        r = register_in(base, env=name)
        assert r.status_code == 400, (name, r.text)
        assert "env" in r.json()["error"], r.text
    assert register_in(base, env="x" * 64).status_code == 201


def _answers(base):
    try:
        return http().get(base + "/health", timeout=2).status_code in (200, 503)
    except Exception:
        return False


@pytest.mark.parametrize("mode", ["pull", "push", "cluster"])
def test_a_task_waits_queued_for_a_worker_of_its_environment_then_runs_there(
        faas_launcher, fresh_redis, venv_python, mode):
    port, link_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    if mode == "cluster":
        join = ["--join", f"127.0.0.1:{link_port}"]
        link = ["--cluster-port", link_port, *join]
        worker_args = ["cluster-worker", 1, "--cluster-port", free_port(), *join]
    else:
        link = ["--dispatcher-port", link_port]
        worker_args = [f"{mode}-worker", 1, f"tcp://127.0.0.1:{link_port}"]
    # up's embedded worker offers the default environment only.
    up = faas_launcher(f"up-{mode}", "up", "-m", mode, "--port", port, *link, "--redis", fresh_redis, "-w", 1)
    wait_healthy(up, base)
    wait_until(lambda: get_json(base, "/workers")["workers"], 90, "up's own worker registered", procs=[up])

    fid = function_id(base, env="other")
    task = submit(base, fid, 1)
    wait_until(lambda: get_json(base, "/stats")["environments"]["waited_for"] == ["other"], 30,
               "/stats naming 'other' as waited for", procs=[up])
    workers = get_json(base, "/workers")
    assert workers["environments"]["waited_for"] == ["other"], workers
    assert workers["environments"]["offered"] == ["default"], workers
    assert all(w["envs"] == ["default"] for w in workers["workers"]), workers
    assert get_status(base, task) == "QUEUED", "no worker offers its environment: it waits"

    worker = faas_launcher(f"{mode}-worker-env", *worker_args, "--env", f"other={venv_python}")
    done = wait_result_body(base, task, timeout=180, procs=[up, worker])
    assert done["status"] == "COMPLETED", done.get("error")
    stats = get_json(base, "/stats")
    assert "other" in stats["environments"]["offered"], stats
    assert stats["environments"]["waited_for"] == [], stats
