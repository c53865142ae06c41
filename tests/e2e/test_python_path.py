"""End-to-end tests of ``--python-path``: a user's own client test suite, written as the seed's
``tests/test_webservice.py`` is (module-level functions pickled with plain dill, i.e. by reference to the
user's test package), run with pytest against the platform. With ``--python-path`` pointing at the user's
project the interpreters import the package and the suite passes; without it the task fails with
``ModuleNotFoundError``.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import FAAS, REPO_ROOT, FaasProcess, _report_stop, free_port, wait_healthy

SERIALIZE = '''
import codecs

import dill


def serialize(obj) -> str:
    return codecs.encode(dill.dumps(obj), "base64").decode()


def deserialize(text: str):
    return dill.loads(codecs.decode(text.encode(), "base64"))
'''

TEST_WEBSERVICE = '''
import os

import requests

from .serialize import deserialize, serialize

# Read when a worker imports this module to unpickle double(): its environment has no FAAS_URL.
BASE = os.environ.get("FAAS_URL", "http://127.0.0.1:8000")


def double(x):
    return x * 2


def test_fn_registration_and_execution():
    r = requests.post(BASE + "/register_function", json={"name": "double", "payload": serialize(double)})
    assert r.status_code == 201, r.text
    fid = r.json()["function_id"]
    r = requests.post(BASE + "/execute_function", json={"function_id": fid, "payload": serialize(((2,), {}))})
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    body = {"status": "QUEUED"}
    for _ in range(12):
        body = requests.get(f"{BASE}/result/{task_id}", params={"wait": 5}).json()
        if body["status"] in ("COMPLETED", "FAILED"):
            break
    assert body["status"] == "COMPLETED", body.get("error")
    assert deserialize(body["result"]) == 4
'''


@pytest.fixture
def user_project(tmp_path):
    """A folder holding the user's test package ``usertests``, as a user's project would."""
    project = tmp_path / "project"
    package = project / "usertests"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "serialize.py").write_text(SERIALIZE)
    (package / "test_webservice.py").write_text(textwrap.dedent(TEST_WEBSERVICE))
    return project


def platform(redis_url, *args):
    """A started ``./faas up`` with ``args``; its process and base URL."""
    port = free_port()
    proc = FaasProcess("faas-up-python-path", ["up", "--port", port, "--redis", redis_url, "-w", 1, *args]).start()
    base = f"http://127.0.0.1:{port}"
    wait_healthy(proc, base)
    return proc, base


def run_user_suite(project, base):
    """The user's suite, run with pytest from the project folder against ``base``."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["FAAS_URL"] = base
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "usertests"],
                          cwd=str(project), env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", ["local", "pull"])
def test_the_users_suite_passes_with_python_path(built_jar, fresh_redis, user_project, mode):
    proc, base = platform(fresh_redis, "--mode", mode, "--python-path", user_project)
    try:
        run = run_user_suite(user_project, base)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "1 passed" in run.stdout, run.stdout
    finally:
        _report_stop(proc, proc.stop())


def test_without_python_path_the_task_fails_with_module_not_found(built_jar, fresh_redis, user_project,
                                                                  monkeypatch):
    # The JVM's temporary folder, where the interpreters' runner script is written, is the user's project:
    # the runner's own folder must not be on sys.path either, or a stray file there would shadow a module.
    monkeypatch.setenv("FAAS_JAVA_OPTS", f"-Xms64m -Xmx512m -Djava.io.tmpdir={user_project}")
    proc, base = platform(fresh_redis)
    try:
        run = run_user_suite(user_project, base)
        assert run.returncode != 0, run.stdout
        assert "ModuleNotFoundError: No module named 'usertests'" in run.stdout, run.stdout
    finally:
        _report_stop(proc, proc.stop())


def test_a_missing_folder_stops_the_start_naming_it(built_jar, fresh_redis, tmp_path):
    missing = tmp_path / "no-such-folder"
    run = subprocess.run([str(FAAS), "dispatcher", "-m", "local", "-w", "1", "--redis", fresh_redis,
                          "--python-path", f"{tmp_path}:{missing}"],
                         cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"--python-path {missing}: no such folder" in run.stderr, run.stderr
