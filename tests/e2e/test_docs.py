"""GET /docs renders the interactive API documentation in a real headless Chromium, offline."""

import shutil
import subprocess
import tempfile

import pytest

ORIGINAL_ROUTES = ("/register_function", "/execute_function", "/status/{task_id}", "/result/{task_id}")


def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed; run: apt-get install -y chromium (./faas test does it as root)")
    return path


def rendered_dom(url):
    """The page's DOM after its scripts ran, as headless Chromium sees it (no network but localhost)."""
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_docs_page_lists_the_original_routes(platform):
    dom = rendered_dom(platform + "/docs")
    assert "swagger-ui" in dom
    for route in ORIGINAL_ROUTES:
        assert f'data-path="{route}"' in dom, f"{route} is not on the rendered /docs page"
