"""Make the UI screenshots in docs/screenshots/ from a real tradewind.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts ``tradewind standalone`` in a temp home with the example DAGs, a DAG mapping 10,000
instances of which three fail, and a file that does not import; triggers runs, waits for the
scheduler to finish them, then has headless Chromium (Debian's ``/usr/bin/chromium``) log in
and photograph the DAG list, the grid with the 10,000-way task opened on its failed instances,
a failed instance's log, and a graph with a mapped task group.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))

from browserkit import Standalone, browser, log_in, standalone  # noqa: E402

WIDE_DAG = '''
"""10,000 files loaded in parallel; three of them are broken."""
from datetime import datetime

from airflow.decorators import dag, task

BROKEN = {17, 4242, 9001}


@dag(start_date=datetime(2025, 7, 1), schedule=None, catchup=False, tags=["demo", "wide"])
def wide_map_with_failures():
    @task
    def list_files():
        return [f"part-{i:05d}.csv" for i in range(10_000)]

    @task(map_index_template="{{ task.op_kwargs['file'] }}")
    def load(file):
        number = int(file[5:10])
        if number in BROKEN:
            print(f"reading {file}")
            raise ValueError(f"{file}: header has 7 columns, expected 8")
        return number

    @task
    def report(counts):
        return sum(counts)

    report(load.expand(file=list_files()))


wide_map_with_failures()
'''

BROKEN_FILE = """
from airflow.decorators import dag

@dag(schedule="@daily"
def not_closed():
    pass
"""


def _finished_runs(site: Standalone, dag_id: str) -> list[dict[str, object]]:
    result = site.cli("dags", "list-runs", dag_id, "-o", "json")
    if result.returncode != 0:
        return []
    return [r for r in json.loads(result.stdout) if r["state"] in ("success", "failed")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        extra = Path(tmp) / "extra"
        extra.mkdir()
        (extra / "wide_map_with_failures.py").write_text(textwrap.dedent(WIDE_DAG))
        (extra / "broken_pipeline.py").write_text(BROKEN_FILE)
        dags = sorted((ROOT / "examples" / "dags").glob("*.py")) + sorted(extra.glob("*.py"))
        with standalone(Path(tmp) / "home", dags, parallelism=2) as site:
            site.wait_for(lambda: site.cli("dags", "list").returncode == 0, "the DAGs to be stored")
            started = time.monotonic()
            for dag_id in ("wide_map_with_failures", "mapped_example_dag", "mapping_task_group"):
                site.cli("dags", "unpause", dag_id)
                site.cli("dags", "trigger", dag_id)
            site.cli("dags", "trigger", "mapped_example_dag")
            site.wait_for(lambda: _finished_runs(site, "wide_map_with_failures"), "the 10,000-way run", 600)
            print(f"10,000-way run finished in {time.monotonic() - started:.1f} s", file=sys.stderr)
            site.wait_for(lambda: len(_finished_runs(site, "mapped_example_dag")) >= 2, "mapped_example_dag", 120)
            site.wait_for(lambda: _finished_runs(site, "mapping_task_group"), "mapping_task_group", 120)
            run_id = str(_finished_runs(site, "wide_map_with_failures")[0]["run_id"])
            with browser(1280, 860) as page:
                log_in(page, site)
                page.screenshot(path=str(args.out / "dag-list.png"))
                query = urlencode(
                    {"dag_id": "wide_map_with_failures", "run_id": run_id, "task_id": "load", "state": "failed"}
                )
                page.goto(f"{site.url}/dags/grid?{query}")
                page.wait_for_selector("table.instances")
                page.screenshot(path=str(args.out / "grid-mapped-10000.png"))
                page.click("table.instances tbody tr:nth-child(2) td:first-child a")
                page.wait_for_selector("#log-status:has-text('complete')")
                page.screenshot(path=str(args.out / "task-log.png"))
                page.goto(f"{site.url}/dags/graph?dag_id=mapping_task_group")
                page.wait_for_selector("svg.graph")
                page.screenshot(path=str(args.out / "graph.png"))
    for name in ("dag-list", "grid-mapped-10000", "task-log", "graph"):
        path = args.out / f"{name}.png"
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
