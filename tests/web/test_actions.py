"""The UI's actions through tradewind.control: trigger with conf checked against params, pause,
clear one map index or the failed instances of a mapped task (in process, real SQLite store)."""

from __future__ import annotations

from typing import Any

from webkit import T0, Site, csrf_of, mapped_dag

from tradewind.definitions.dag import DAG
from tradewind.definitions.operators.empty import EmptyOperator
from tradewind.definitions.params import Param
from tradewind.store import queries as q
from tradewind.store.engine import session_scope


def _states(site: Site, run_id: str) -> dict[tuple[str, int], str | None]:
    with session_scope(site.engine) as session:
        return {(t.task_id, t.map_index): t.state for t in q.list_task_instances(session, "mapped_example_dag", run_id)}


def _finished_run(site: Site, failed: tuple[int, ...] = (1,)) -> None:
    site.add_dag(mapped_dag())
    site.add_run(
        "mapped_example_dag",
        "r1",
        "failed",
        [
            {"task_id": "generate", "state": "success"},
            *[
                {"task_id": "process", "map_index": i, "state": "failed" if i in failed else "success"}
                for i in range(4)
            ],
            {"task_id": "summary", "state": "upstream_failed"},
            {"task_id": "checks.check", "state": "upstream_failed"},
        ],
    )


def _post(client: Any, path: str, data: dict[str, str], page: str = "/dags") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client.get(page).text)})


def test_clear_one_map_index_resets_it_and_its_downstream(site: Site) -> None:
    _finished_run(site)
    ada = site.client("ada")
    here = "/dags/grid?dag_id=mapped_example_dag&run_id=r1&task_id=process"
    response = _post(
        ada,
        "/dags/clear",
        {"dag_id": "mapped_example_dag", "run_id": "r1", "task_id": "process", "map_index": "2", "next": here},
    )
    assert response.status_code == 303 and response.headers["location"] == here
    states = _states(site, "r1")
    assert states[("process", 2)] is None  # to run again
    assert states[("process", 1)] == "failed" and states[("process", 0)] == "success"
    assert states[("summary", -1)] is None  # downstream of the mapped task
    page = ada.get(here).text
    assert "Cleared 3 task instances (process[2] and downstream)." in page
    assert "Cleared" not in ada.get(here).text  # the message is shown once
    with session_scope(site.engine) as session:
        run = q.get_dag_run(session, "mapped_example_dag", "r1")
        assert run is not None and run.state == "queued"


def test_clear_the_failed_instances_of_a_mapped_task(site: Site) -> None:
    _finished_run(site, failed=(1, 3))
    ada = site.client("ada")
    page = ada.get("/dags/grid?dag_id=mapped_example_dag&run_id=r1&task_id=process").text
    assert "Clear the 2 failed" in page
    response = _post(
        ada,
        "/dags/clear",
        {"dag_id": "mapped_example_dag", "run_id": "r1", "task_id": "process", "only_failed": "1", "downstream": "0"},
    )
    assert response.status_code == 303
    states = _states(site, "r1")
    assert [i for i in range(4) if states[("process", i)] is None] == [1, 3]
    assert states[("summary", -1)] == "upstream_failed"  # downstream left alone


def test_clear_of_a_running_run_is_refused_with_a_message(site: Site) -> None:
    site.add_dag(mapped_dag())
    site.add_run("mapped_example_dag", "r2", "running", [{"task_id": "generate", "state": "running"}])
    ada = site.client("ada")
    response = _post(
        ada, "/dags/clear", {"dag_id": "mapped_example_dag", "run_id": "r2", "task_id": "generate", "next": "/dags"}
    )
    assert response.status_code == 303
    assert "is running" in ada.get("/dags").text
    assert _states(site, "r2")[("generate", -1)] == "running"


def test_pause_and_unpause(site: Site) -> None:
    site.add_dag(mapped_dag())
    ada = site.client("ada")
    assert _post(ada, "/dags/pause", {"dag_id": "mapped_example_dag", "paused": "1"}).status_code == 303
    page = ada.get("/dags").text
    assert "DAG mapped_example_dag is paused." in page and 'aria-label="Unpause mapped_example_dag"' in page
    _post(ada, "/dags/pause", {"dag_id": "mapped_example_dag", "paused": "0"})
    assert 'aria-label="Pause mapped_example_dag"' in ada.get("/dags").text
    missing = _post(ada, "/dags/pause", {"dag_id": "nope", "paused": "1"})
    assert missing.status_code == 303 and "DAG &#39;nope&#39; not found" in ada.get("/dags").text


def _params_dag() -> DAG:
    with DAG(
        "with_params",
        start_date=T0,
        schedule=None,
        params={"limit": Param(5, type="integer", description="how many rows"), "name": "x"},
    ) as dag:
        EmptyOperator(task_id="only")
    return dag


def test_trigger_form_shows_params_and_queues_a_run_with_conf(site: Site) -> None:
    site.add_dag(_params_dag())
    ada = site.client("ada")
    form = ada.get("/dags/trigger?dag_id=with_params").text
    assert "how many rows" in form and "&#34;limit&#34;: 5" in form
    response = ada.post(
        "/dags/trigger",
        data={
            "dag_id": "with_params",
            "conf": '{"limit": 7}',
            "logical_date": "2025-08-01T00:00:00+00:00",
            "csrf_token": csrf_of(form),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dags/grid?dag_id=with_params&run_id=manual__2025-08-01")
    with session_scope(site.engine) as session:
        (run,) = q.list_dag_runs(session, "with_params")
        assert run.conf == {"limit": 7} and run.state == "queued" and run.logical_date.month == 8
    assert f"Queued run {run.run_id} of with_params." in ada.get(response.headers["location"]).text


def test_trigger_with_bad_conf_says_why_and_keeps_the_text(site: Site) -> None:
    site.add_dag(_params_dag())
    ada = site.client("ada")
    token = csrf_of(ada.get("/dags/trigger?dag_id=with_params").text)
    cases = [
        ('{"limit": 7,', "conf is not valid JSON: Expecting property name enclosed in double quotes at line 1"),
        ("[1, 2]", "conf must be a JSON object"),
        ('{"limit": "seven"}', "param &#39;limit&#39;: value &#34;seven&#34; breaks type=&#34;integer&#34;"),
    ]
    for text, message in cases:
        response = ada.post("/dags/trigger", data={"dag_id": "with_params", "conf": text, "csrf_token": token})
        assert response.status_code == 400, text
        assert message in response.text, response.text
        assert "<textarea" in response.text and text.replace('"', "&#34;") in response.text
    bad_date = ada.post(
        "/dags/trigger", data={"dag_id": "with_params", "conf": "{}", "logical_date": "soon", "csrf_token": token}
    )
    assert bad_date.status_code == 400 and "is not an ISO 8601 date" in bad_date.text
    with session_scope(site.engine) as session:
        assert q.list_dag_runs(session, "with_params") == []


def test_run_panel_clears_the_failed_tasks_of_a_run_and_marks_it(site: Site) -> None:
    _finished_run(site, failed=(0, 2))
    ada = site.client("ada")
    here = "/dags/grid?dag_id=mapped_example_dag&run_id=r1"
    page = ada.get(here).text
    assert "Clear failed tasks" in page and "Mark success" in page
    response = _post(
        ada, "/dags/clear", {"dag_id": "mapped_example_dag", "run_id": "r1", "only_failed": "1", "next": here}
    )
    assert response.status_code == 303
    states = _states(site, "r1")
    assert [i for i in range(4) if states[("process", i)] is None] == [0, 2]
    assert states[("summary", -1)] is None and states[("generate", -1)] == "success"
    assert "Cleared 4 task instances (failed tasks and downstream)." in ada.get(here).text
    marked = _post(
        ada, "/dags/run-state", {"dag_id": "mapped_example_dag", "run_id": "r1", "state": "failed", "next": here}
    )
    assert marked.status_code == 303
    assert "Run r1 of mapped_example_dag is now failed." in ada.get(here).text
    with session_scope(site.engine) as session:
        run = q.get_dag_run(session, "mapped_example_dag", "r1")
        assert run is not None and run.state == "failed"
    assert _states(site, "r1")[("process", 0)] == "skipped"  # unfinished instances of a run marked failed


def test_marking_a_running_run_is_refused(site: Site) -> None:
    site.add_dag(mapped_dag())
    site.add_run("mapped_example_dag", "r2", "running", [{"task_id": "generate", "state": "running"}])
    ada = site.client("ada")
    _post(ada, "/dags/run-state", {"dag_id": "mapped_example_dag", "run_id": "r2", "state": "success", "next": "/dags"})
    assert "is running and the scheduler owns its state" in ada.get("/dags").text
    assert _states(site, "r2")[("generate", -1)] == "running"
