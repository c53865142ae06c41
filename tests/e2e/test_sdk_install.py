"""End-to-end test of installing the SDK as a Debian 12 user would, offline and with Debian's own packages:
a virtual environment that sees the system's site packages (dill, requests, setuptools), and pip without
build isolation or an index. The venv's Python then imports ``mpcsfaas`` from the venv and runs a call
against a real platform.
"""

import shutil
import subprocess

from conftest import REPO_ROOT

CALL = """
import sys
import mpcsfaas
from mpcsfaas import Client

assert mpcsfaas.__file__.startswith(sys.prefix), (mpcsfaas.__file__, sys.prefix)

def cube(x):
    return x ** 3

with Client(sys.argv[1]) as client:
    print(client.call(client.register(cube), 3))
"""


def test_the_sdk_installs_into_a_venv_offline_and_calls_the_platform(platform, tmp_path):
    # Built from a copy: pip builds in the source folder, which would leave build/ and *.egg-info there.
    source = tmp_path / "python"
    shutil.copytree(REPO_ROOT / "python", source,
                    ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "tests"))
    venv = tmp_path / "venv"
    steps = [["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)],
             [str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", "--disable-pip-version-check",
              "--no-input", str(source)]]
    for step in steps:
        run = subprocess.run(step, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, (step, run.stdout, run.stderr)
    call = subprocess.run([str(venv / "bin" / "python"), "-c", CALL, platform], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert call.returncode == 0, call.stdout + call.stderr
    assert call.stdout.strip() == "27"
