"""The Dagster UI in a real browser: `dagster dev` on a copy of the lakehouse built from
data_seeds, driven by Debian's headless Chromium (Selenium with its chromedriver; installed by
scripts/install_browser.sh, nothing downloaded at test time).

One test, marked ``browser`` so that it runs alone with ``pytest -m browser``. Screenshots go
to ``test-artifacts/browser/`` (or ``$LAKEHOUSE_TEST_ARTIFACTS/browser``).
"""

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest
from dagster import DagsterInstance, DagsterRunStatus

from lakehouse_assets.checks.table_rules import rules_of
from lakehouse_assets.resources.storage import local_delta_table
from lakehouse_assets_tests.conftest import DATA_SEEDS, REPO, free_port

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ASSET = "gold/fct_customer_metrics"
LAYERS = ("landing", "bronze", "silver", "gold", "ml")
SENSORS = ("landing_zone_sensor", "lakehouse_automation", "run_failure_report")


def artifacts_dir() -> str:
    root = os.environ.get("LAKEHOUSE_TEST_ARTIFACTS", os.path.join(REPO, "test-artifacts"))
    path = os.path.join(root, "browser")
    os.makedirs(path, exist_ok=True)
    return path


def wait_for(predicate, seconds: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def delta_version_shown(text: str) -> int:
    """The asset page's metadata table: key, timestamp, value on consecutive lines."""
    return int(re.search(r"delta_version\n[^\n]+\n(\d+)\n", text).group(1))


@pytest.fixture
def dagster_dev(seeded_lakehouse, tmp_path):
    """`dagster dev` (webserver and daemon) on copies of the built lakehouse and its run
    history, so that the run this test launches changes nothing another test reads."""
    root, home = tmp_path / "lakehouse", tmp_path / "dagster_home"
    shutil.copytree(seeded_lakehouse.storage.root, root)
    shutil.copytree(seeded_lakehouse.dagster_home, home)
    port = free_port()
    log = open(tmp_path / "dagster_dev.log", "w")
    process = subprocess.Popen(
        [os.path.join(REPO, ".venv", "bin", "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_LANDING_ROOT": DATA_SEEDS,
             "DAGSTER_HOME": str(home)},
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        if process.poll() is not None:
            raise AssertionError(f"dagster dev exited; see {tmp_path / 'dagster_dev.log'}")
        try:
            return urllib.request.urlopen(url + "/server_info", timeout=5).status == 200
        except OSError:
            return False

    try:
        wait_for(up, 180, "dagster dev to answer")
        yield url, root, home
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # dagster dev and the servers it started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(path), f"{path} missing: run bash scripts/install_browser.sh"
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1600,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_dagster_ui_shows_the_lakehouse_and_materializes_a_gold_table(dagster_dev, browser):
    from selenium.common.exceptions import ElementClickInterceptedException
    from selenium.webdriver.common.by import By

    url, root, home = dagster_dev
    shots = artifacts_dir()

    def page(path: str, name: str, *expected: str) -> str:
        """Open ``path`` and wait until every expected text shows; save a screenshot."""
        browser.get(url + path)

        def shown():
            text = browser.find_element(By.TAG_NAME, "body").text
            return text if all(e in text for e in expected) else None

        try:
            return wait_for(shown, 90, f"{expected} on {path}")
        finally:
            browser.save_screenshot(os.path.join(shots, f"{name}.png"))

    # The lineage graph shows every layer, from the landing files to ML.
    page("/asset-groups", "1-lineage", "Global asset lineage", *LAYERS)

    # An asset page: description, column descriptions, the latest materialization's Delta
    # version and row count, as the table on disk has them.
    table = local_delta_table(root / "gold" / "fct_customer_metrics")
    rows = table.to_pyarrow_table(columns=["customer_id"]).num_rows
    text = page(f"/assets/{ASSET}", "2-asset", "Columns", "Customer identifier.",
                "Days from the customer's last completed order", "delta_version")
    assert f"Row count\n{rows:,}" in text
    assert delta_version_shown(text) == table.version()

    # The checks tab: every rule of the table, each with its latest result.
    checks = [rule.name for rule in rules_of("gold.fct_customer_metrics")]
    text = page(f"/assets/{ASSET}?view=checks", "3-checks", f"Checks ({len(checks)})", *checks)
    assert text.count("Succeeded") >= len(checks), text[:2000]

    # The sensors are listed.
    page("/automation", "4-sensors", *SENSORS)

    # Materialize from the asset page: a run starts (through the daemon) and succeeds.
    with DagsterInstance.from_config(str(home)) as instance:
        runs_before = {r.run_id for r in instance.get_runs()}
    page(f"/assets/{ASSET}", "5-before-materialize", "Materialize")
    [button] = [b for b in browser.find_elements(By.XPATH, "//button[normalize-space()='Materialize']")
                if b.is_displayed()]

    def clicked():
        # Dagster's newsletter prompt opens over the page a moment after it loads, at no fixed
        # time: skip it whenever it shows, and click again if it covered the button.
        for skip in browser.find_elements(By.XPATH, "//button[normalize-space()='Skip']"):
            if skip.is_displayed():
                skip.click()
        try:
            button.click()
        except ElementClickInterceptedException:
            return False
        return True

    wait_for(clicked, 30, "the Materialize button, uncovered by a prompt")

    def finished_run():
        with DagsterInstance.from_config(str(home)) as instance:
            new = [r for r in instance.get_runs() if r.run_id not in runs_before]
            done = [r for r in new if r.status in (DagsterRunStatus.SUCCESS,
                                                    DagsterRunStatus.FAILURE,
                                                    DagsterRunStatus.CANCELED)]
            return done[0] if done else None

    run = wait_for(finished_run, 600, "the launched run to finish", interval=3)
    page(f"/runs/{run.run_id}", "6-run", run.run_id[:8])
    assert run.status == DagsterRunStatus.SUCCESS, f"run {run.run_id}: {run.status}"
    assert {k.to_user_string() for k in run.asset_selection} == {ASSET}
    written = local_delta_table(root / "gold" / "fct_customer_metrics").version()
    assert written > table.version()  # a new Delta commit, and the UI shows it
    text = page(f"/assets/{ASSET}", "7-after-materialize", "delta_version")
    assert delta_version_shown(text) == written
