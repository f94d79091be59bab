"""End to end in real headless Chromium against ``tradewind standalone`` (scheduler, DAG
processor, API server, UI): log in with the printed password, trigger mapped_example_dag, watch
it succeed, open the mapped task and its instances 0..2, read one log, clear one map index and
see it run again; follow the log of a task while it prints; a viewer sees no action. Screenshots
of each step go to tests/web/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browserkit import ARTIFACTS, CHROMIUM, Standalone, browser, log_in, standalone

EXAMPLES = Path(__file__).parents[2] / "examples" / "dags"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (scripts/test installs it)"),
]


SLOW_LOGGER = """
from datetime import datetime
import time

from airflow.decorators import dag, task


@dag(start_date=datetime(2025, 7, 1), schedule=None)
def slow_logger():
    @task
    def talk():
        print('<img src=x onerror="document.body.dataset.pwned = 1"> <b>not bold</b>', flush=True)
        for i in range(16):
            print(f"line {i}", flush=True)
            time.sleep(0.5)
        return "done talking"

    talk()


slow_logger()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    extra = tmp_path_factory.mktemp("extra")
    (extra / "slow_logger.py").write_text(SLOW_LOGGER)
    dags = [EXAMPLES / "mapped_example_dag.py", extra / "slow_logger.py"]
    with standalone(tmp_path_factory.mktemp("home"), dags) as running:
        yield running


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_trigger_watch_open_mapped_task_read_log_and_clear_one_index(site: Standalone) -> None:
    with browser() as page:
        log_in(page, site)
        page.wait_for_selector("a.dag-id >> text=mapped_example_dag")
        # new DAGs start paused here (TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION): unpause with the toggle
        page.click('button[aria-label="Unpause mapped_example_dag"]')
        page.wait_for_selector('button[aria-label="Pause mapped_example_dag"]')
        assert "DAG mapped_example_dag is unpaused." in page.inner_text(".flash")
        _shot(page, "1-dag-list")

        page.click("a.dag-id >> text=mapped_example_dag")
        page.click("a.button >> text=Trigger")
        page.fill("textarea[name=conf]", '{"note": "from the browser"}')
        page.click("button[type=submit] >> text=Trigger")
        page.wait_for_url(re.compile(r".*/dags/grid\?dag_id=mapped_example_dag&run_id=manual__.*"))
        assert "Queued run manual__" in page.inner_text(".flash")
        run_param = re.search(r"run_id=[^&]+", page.url)
        assert run_param
        # the page refreshes itself while the run is active; the run's bar turns green
        page.wait_for_selector("a.run-bar.open.s-success", timeout=60_000)
        _shot(page, "2-run-succeeded")

        page.click(f'a.cell[href*="{run_param.group(0)}"][href*="task_id=process"]')
        page.wait_for_selector("#instances")
        assert "3 mapped instances" in page.inner_text("#instances")
        indexes = page.locator("table.instances tbody tr td:first-child a").all_inner_texts()
        assert indexes == ["0", "1", "2"]
        assert page.locator("table.instances .badge").all_inner_texts() == ["success"] * 3
        _shot(page, "3-mapped-task-opened")

        page.click("table.instances tbody tr:nth-child(2) td:first-child a")
        page.wait_for_selector("#log")
        page.wait_for_selector("#log:has-text('Processing: bar')")
        log_text = page.inner_text("#log")
        assert "::tradewind-result::" not in log_text
        page.wait_for_selector("#log-status:has-text('complete')")
        assert page.inner_text("#ti-state") == "success"
        _shot(page, "4-log")

        page.click("button >> text=Clear this map index")
        page.wait_for_selector(".flash")
        assert "Cleared" in page.inner_text(".flash") and "process[1]" in page.inner_text(".flash")

        def ran_again() -> bool:
            page.reload()
            return page.inner_text("#ti-try") == "2" and page.inner_text("#ti-state") == "success"

        site.wait_for(ran_again, "process[1] to run a second time", timeout=60)
        page.wait_for_selector("#log:has-text('Processing: bar')")
        tries = page.locator("nav.chips a.chip").all_inner_texts()
        assert tries == ["try 1", "try 2"], page.content()
        _shot(page, "5-ran-again")


def test_the_log_page_follows_a_running_task(site: Standalone) -> None:
    assert site.cli("dags", "unpause", "slow_logger").returncode == 0
    with browser() as page:
        log_in(page, site)
        page.goto(site.url + "/dags/trigger?dag_id=slow_logger")
        page.click("button[type=submit] >> text=Trigger")
        page.wait_for_url(re.compile(r".*/dags/grid\?dag_id=slow_logger&run_id=manual__.*"))
        run_param = re.search(r"run_id=[^&]+", page.url)
        assert run_param
        # the scheduler records a try as queued until its result comes (it keeps no "running" state)
        cell = f'a.cell:is(.s-queued, .s-running)[href*="{run_param.group(0)}"][href*="task_id=talk"]'

        def running() -> bool:
            page.reload()
            return page.locator(cell).count() == 1

        site.wait_for(running, "talk to run", timeout=30)
        page.click(cell)
        page.click("table.instances tbody tr td:first-child a")
        # the page was loaded before the try ended: lines arrive while it runs, then it completes
        page.wait_for_selector("#log-status:has-text('following')")
        page.wait_for_selector("#log:has-text('line 1')")
        assert "line 15" not in page.inner_text("#log")
        page.wait_for_selector("#log:has-text('line 15')", timeout=30_000)
        page.wait_for_selector("#log-status:has-text('complete')", timeout=30_000)
        assert page.inner_text("#log").count("line 3") == 1  # pieces joined, nothing twice
        assert "::tradewind-result::" not in page.inner_text("#log")
        # a log line is text, never markup
        assert '<img src=x onerror="document.body.dataset.pwned = 1"> <b>not bold</b>' in page.inner_text("#log")
        assert page.locator("#log img, #log b").count() == 0
        assert page.locator("body[data-pwned]").count() == 0
        # the details refresh themselves too: the return value appears without a reload
        page.wait_for_selector("#return-value:has-text('done talking')", timeout=15_000)
        assert page.inner_text("#ti-state") == "success"
        _shot(page, "6-followed-log")


def test_a_viewer_sees_no_actions(site: Standalone) -> None:
    made = site.cli("users", "create", "-u", "vera", "-r", "viewer", "-p", "viewer password 1")
    assert made.returncode == 0, made.stderr
    with browser() as page:
        log_in(page, site, "vera", "viewer password 1")
        page.wait_for_selector("a.dag-id >> text=mapped_example_dag")
        assert page.locator("button.toggle").count() == 0 and page.locator(".toggle-text").count() >= 1
        page.click("a.dag-id >> text=mapped_example_dag")
        assert page.locator("text=Trigger").count() == 0
        assert page.locator("form[action='/dags/clear']").count() == 0
        assert "vera" in page.inner_text("header") and "viewer" in page.inner_text("header")
