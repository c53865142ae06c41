"""The capacity plan's measurements (docs/scaling.md) run end to end: a thousand simulated peers over ZeroMQ and
over the event bus, two dispatchers on one Redis, and Redis memory per queued and finished task.

Runs only with ``FAAS_CAPACITY=1`` (``./faas test --capacity`` sets it): minutes. Each run must finish with every
task right and print its figures; the figures themselves go to docs/scaling.md, not into assertions.
"""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import capacity_only

pytestmark = [capacity_only("long capacity runs"), pytest.mark.timeout(3600)]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "capacity.sh"


def capacity(*args):
    run = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=1200)
    print(run.stdout)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run.stdout


@pytest.mark.parametrize("mode", ["push", "cluster"])
def test_a_thousand_peers_run_every_task_and_each_part_is_measured(mode):
    out = capacity("--mode", mode, "--peers", "1000", "--driver", "batch", "--concurrency", "8",
                   "--warmup", "5000", "--tasks", "10000", "--rounds", "1")
    assert re.search(r"\d+ tasks/s: redis \d+ us .* api \d+ us .* dispatchers \d+ us .* peers \d+ us .*"
                     r"[\d.]+ Redis commands/task", out), out


def test_two_dispatchers_share_one_redis():
    out = capacity("--mode", "push", "--dispatchers", "2", "--peers", "200", "--driver", "batch",
                   "--warmup", "2000", "--tasks", "5000", "--rounds", "1")
    assert re.search(r"\d+ tasks/s: redis \d+ us", out), out


def test_memory_per_queued_and_per_finished_task():
    out = capacity("--mode", "push", "--peers", "100", "--memory", "50000")
    assert re.search(r"\d+ B per queued task", out) and re.search(r"\d+ B per finished task", out), out
