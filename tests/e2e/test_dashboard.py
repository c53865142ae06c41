"""The dashboard at GET / in a real headless Chromium driven by Selenium (Debian's chromium, chromium-driver and
python3-selenium; ./faas test installs them as root): the figures and the chart move without a reload, a
failed task's traceback, a task's stdout, cancelling a running task, the API key, 10,000 tasks in the index, and
no error in the browser console after any of it."""

import json
import shutil
import tempfile
import time
import uuid

import pytest
import requests

from conftest import (FaasProcess, HTTP_TIMEOUT, _report_stop, execute, free_port, get_result_body, register,
                      serialize, wait_result_body, wait_until)

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError:  # ./faas test installs it; a bare pytest run says how
    webdriver = None

CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 60  # generous upper limit of every wait for the page; the page itself updates within 2 s


def hook(name):
    return f'[data-testid="{name}"]'


@pytest.fixture(scope="module")
def browser():
    if webdriver is None or shutil.which("chromium") is None or not shutil.which(CHROMEDRIVER):
        pytest.fail("the browser tests need chromium, chromium-driver and python3-selenium; "
                    "run: apt-get install -y chromium chromium-driver python3-selenium (./faas test does it as root)")
    profile = tempfile.mkdtemp(prefix="faas-e2e-chromium-")
    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--window-size=1400,1200"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver):
    """The console's errors since the last call (reading the log empties it)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def text(driver, name):
    return driver.find_element(By.CSS_SELECTOR, hook(name)).text


def number(driver, name):
    value = text(driver, name)
    return int(value) if value.isdigit() else None


def wait_for(predicate, what, timeout=WAIT):
    """Polls ``predicate`` (a stale element, replaced by a refresh of the page, counts as not yet)."""
    def attempt():
        try:
            return predicate()
        except StaleElementReferenceException:
            return None
    return wait_until(attempt, timeout, what, interval=0.1)


def open_page(driver, base):
    driver.get(base + "/")
    wait_for(lambda: number(driver, "completed-total") is not None, "the first event of the feed")
    driver.execute_script("window.notReloaded = true")


@pytest.fixture
def page(browser, platform):
    """The dashboard of the module's platform, fresh; no console error may appear while a test uses it."""
    console_errors(browser)
    open_page(browser, platform)
    yield browser
    assert browser.execute_script("return window.notReloaded === true"), "the page reloaded"
    errors = console_errors(browser)
    assert not errors, f"errors in the browser console: {json.dumps(errors, indent=1)}"


def task_row(driver, task_id):
    rows = driver.find_elements(By.CSS_SELECTOR, f'{hook("task-row")}[data-task-id="{task_id}"]')
    return rows[0] if rows else None


def open_task(driver, task_id):
    """Clicks the task's row (waiting for the table to show it) and waits for its view."""
    wait_for(lambda: task_row(driver, task_id), f"task {task_id} in the table").click()
    wait_for(lambda: driver.find_element(By.ID, "task-id").text == task_id, "the task's view")


def route_missing(base, method, path):
    """True when the API has no such route (a 404 that says so, not one about an unknown task)."""
    r = requests.request(method, base + path, timeout=HTTP_TIMEOUT)
    return r.status_code == 404 and "no such route" in r.text


def functions():
    """Functions defined here, not at module level, so that dill sends them by value."""
    def ok(x):
        return x

    def fails(tag):
        raise ValueError(f"dashboard test failure {tag}")
    return ok, fails


ok, fails = functions()


def test_counts_and_chart_move_without_a_reload(page, platform):
    completed = number(page, "completed-total")
    failed = number(page, "failed-total")
    assert number(page, "queue-depth") is not None
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, hook("worker-row")), "a worker row")
    chart_before = page.execute_script(
        "return document.querySelector('[data-testid=\"throughput-chart\"] canvas').toDataURL()")

    fid = register(platform, ok, name="dashboard-ok")
    bad = register(platform, fails, name="dashboard-fails")
    for i in range(8):
        execute(platform, fid, i)
    tids = [execute(platform, bad, f"n{i}") for i in range(3)]
    for tid in tids:
        wait_result_body(platform, tid)

    wait_for(lambda: number(page, "completed-total") >= completed + 8, "completed-total to count the 8 tasks")
    wait_for(lambda: number(page, "failed-total") >= failed + 3, "failed-total to count the 3 failures")
    wait_for(lambda: page.execute_script(
        "const h = window.faasDashboard.history; return h.completed.some(v => v > 0) && h.failed.some(v => v > 0)"),
        "completed and failed per second in the chart's data")
    wait_for(lambda: page.execute_script(
        "return document.querySelector('[data-testid=\"throughput-chart\"] canvas').toDataURL()") != chart_before,
        "the throughput chart to be redrawn")
    wait_for(lambda: "dashboard-fails" in page.find_element(By.ID, "functions").text, "the function in the table")


def test_filter_failed_and_read_a_traceback(page, platform):
    tag = uuid.uuid4().hex
    tid = execute(platform, register(platform, fails, name="dashboard-fails"), tag)
    assert wait_result_body(platform, tid)["status"] == "FAILED"

    Select(page.find_element(By.CSS_SELECTOR, hook("status-filter"))).select_by_value("FAILED")
    wait_for(lambda: task_row(page, tid), "the failed task under the FAILED filter")
    statuses = [row.find_elements(By.TAG_NAME, "td")[2].text
                for row in page.find_elements(By.CSS_SELECTOR, hook("task-row"))]
    assert statuses and set(statuses) == {"FAILED"}, statuses

    open_task(page, tid)
    wait_for(lambda: f"dashboard test failure {tag}" in text(page, "task-error"), "the traceback in task-error")
    assert "Traceback" in text(page, "task-error")
    assert "ValueError" in text(page, "task-error")


def test_read_a_tasks_stdout(page, platform):
    if route_missing(platform, "GET", f"/output/{uuid.uuid4()}"):
        pytest.skip("this platform does not capture task output yet (no GET /output/{task_id})")
    tag = uuid.uuid4().hex

    def talk(t):
        import sys
        print(f"hello from {t}")
        print(f"warning from {t}", file=sys.stderr)
        return t

    tid = execute(platform, register(platform, talk, name="dashboard-talk"), tag)
    assert wait_result_body(platform, tid)["status"] == "COMPLETED"
    open_task(page, tid)
    wait_for(lambda: f"hello from {tag}" in text(page, "task-stdout"), "the task's stdout in task-stdout")
    wait_for(lambda: f"warning from {tag}" in text(page, "task-stderr"), "the task's stderr in task-stderr")


def test_cancel_a_running_task(page, platform):
    if route_missing(platform, "POST", f"/cancel/{uuid.uuid4()}"):
        pytest.skip("this platform cannot cancel tasks yet (no POST /cancel/{task_id})")

    def sleepy(seconds):
        import time
        time.sleep(seconds)
        return seconds

    tid = execute(platform, register(platform, sleepy, name="dashboard-sleepy"), 120)
    wait_until(lambda: get_result_body(platform, tid)["status"] == "RUNNING", WAIT, "the task to run")
    open_task(page, tid)
    cancel = wait_for(lambda: page.find_element(By.CSS_SELECTOR, hook("cancel-task")).is_displayed()
                      and page.find_element(By.CSS_SELECTOR, hook("cancel-task")), "the cancel button")
    cancel.click()
    body = wait_until(lambda: (b := get_result_body(platform, tid))["status"] == "FAILED" and b, WAIT,
                      "the task to end after the cancel")
    assert body.get("cancelled") is True, body
    wait_for(lambda: "FAILED (cancelled)" in page.find_element(By.ID, "task-status").text,
             "the page to show the task cancelled")
    assert not page.find_element(By.CSS_SELECTOR, hook("cancel-task")).is_displayed()


def test_ten_thousand_tasks_in_the_index(page, platform):
    fid = register(platform, ok, name="dashboard-many")
    payloads = [serialize(((1,), {}))] * 10_000
    r = requests.post(platform + "/execute_function/batch", json={"function_id": fid, "payloads": payloads},
                      timeout=120)
    assert r.status_code == 201, r.text[:300]
    batch = set(r.json()["task_ids"])  # one batch: one created_at, so in no particular order among themselves

    def shown():
        return [row.get_attribute("data-task-id") for row in page.find_elements(By.CSS_SELECTOR, hook("task-row"))]
    wait_for(lambda: shown() and set(shown()) <= batch, "the batch's tasks at the top of the table")
    assert len(shown()) == 50, "one page of the index, not every task"
    first = shown()[0]
    page.find_element(By.ID, "page-next").click()
    wait_for(lambda: page.find_element(By.ID, "page-number").text == "page 2", "the second page")
    wait_for(lambda: task_row(page, first) is None and len(page.find_elements(By.CSS_SELECTOR, hook("task-row"))) == 50,
             "50 older tasks on the second page")
    page.find_element(By.ID, "page-previous").click()
    wait_for(lambda: page.find_element(By.ID, "page-number").text == "page 1", "back on the first page")
    # The figures keep up while the tasks run: the count reaches all of them without a reload.
    last = r.json()["task_ids"][-1]
    wait_until(lambda: get_result_body(platform, last)["status"] == "COMPLETED", 300, "the 10,000 tasks to run")
    wait_for(lambda: number(page, "queue-depth") == 0, "the queue to be empty on the page")


def test_with_an_api_key_the_page_asks_for_it_once(browser, fresh_redis):
    key = "dash-" + uuid.uuid4().hex
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = FaasProcess("faas-up-key", ["up", "--port", port, "--redis", fresh_redis, "-w", 1,
                                       "--api-key", key]).start()
    try:
        proc.wait_healthy(base)
        console_errors(browser)
        browser.get(base + "/")
        key_input = wait_for(lambda: browser.find_element(By.ID, "key-input").is_displayed()
                             and browser.find_element(By.ID, "key-input"), "the page to ask for the key")
        key_input.send_keys(key)
        browser.find_element(By.ID, "key-submit").click()
        wait_for(lambda: number(browser, "completed-total") == 0, "the feed, with the key")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, hook("worker-row")), "a worker row")

        headers = {"Authorization": f"Bearer {key}"}
        fid = register(base, ok, name="dashboard-keyed", headers=headers)
        tid = execute(base, fid, 1, headers=headers)
        wait_for(lambda: number(browser, "completed-total") == 1, "the task counted")
        wait_for(lambda: task_row(browser, tid), "the task in the table")

        browser.refresh()  # the key is kept for the tab: not asked again
        wait_for(lambda: number(browser, "completed-total") == 1, "the page again, without asking")
        assert not browser.find_element(By.ID, "key-input").is_displayed()
        errors = console_errors(browser)
        assert not errors, f"errors in the browser console: {json.dumps(errors, indent=1)}"
    finally:
        _report_stop(proc, proc.stop())
