"""One rule for what a task may return, decided in the worker: the same DAG run by ``dags test``
(in this process) and by the real scheduler (its own process, worker processes, a SQLite file)
ends in the same states, and its downstream tasks see the same values of the same types."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradewind import serde
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState
from tradewind.loader import load_dags
from tradewind.runtime.durable import result_from_log, result_line
from tradewind.runtime.work import TaskResult
from tradewind.scheduler.dag_test import test_dag as run_dag_test
from tradewind.store import make_engine, session_scope
from tradewind.store import queries as q

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))
LOGICAL_DATE = datetime(2025, 7, 1, tzinfo=UTC)

DAG_FILE = '''
    import dataclasses, json, os
    from datetime import date, datetime, timedelta, timezone
    from decimal import Decimal
    from pathlib import Path

    from airflow.decorators import dag, task


    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int


    class Opaque:
        pass


    def describe(v):
        """Type names all the way down (user classes marked), in an order that does not vary."""
        name = type(v).__qualname__
        if type(v).__module__ == __name__:
            name = "dag." + name
        if isinstance(v, (set, frozenset)):
            return [name, sorted(json.dumps(describe(x)) for x in v)]
        if isinstance(v, (list, tuple)):
            return [name, [describe(x) for x in v]]
        if isinstance(v, dict):
            return [name, {k: describe(x) for k, x in v.items()}]
        return [name, repr(v)]


    def journal(task_id, **values):
        with Path(os.environ["RETURN_VALUES_JOURNAL"]).open("a") as out:
            out.write(json.dumps({"task": task_id, "seen": {k: describe(v) for k, v in values.items()}}) + "\\n")


    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def return_values():
        @task
        def when():
            return datetime(2025, 7, 1, 12, 30, tzinfo=timezone.utc)

        @task
        def stamp(logical_date=None):
            return logical_date  # a pendulum DateTime, as in Airflow

        @task
        def tags():
            return {"b", "a"}

        @task
        def pair():
            return (1, "x")

        @task
        def point():
            return Point(1, 2)

        @task
        def numbered():
            return {1: "one"}  # JSON keys are strings, as in Airflow

        @task(multiple_outputs=True)
        def parts():
            return {"day": date(2025, 7, 1), "amount": Decimal("9.90")}

        @task
        def pusher(ti=None):
            ti.xcom_push(key="at", value=timedelta(minutes=5))

        @task
        def check(when, stamp, tags, pair, point, numbered, day, amount, ti=None):
            pushed = ti.xcom_pull(task_ids="pusher", key="at")
            journal("check", when=when, stamp=stamp, tags=tags, pair=pair, point=point, numbered=numbered,
                    day=day, amount=amount, pushed=pushed, is_point=isinstance(point, Point))

        @task
        def echo(v):
            journal("echo", v=v)

        @task
        def points():
            return [Point(i, i) for i in range(2)]

        @task
        def shift(p):
            journal("shift", p=p)
            return Point(p.x + 10, p.y)

        @task
        def collect(values):
            journal("collect", values=list(values))

        @task(retries=1, retry_delay=timedelta(0))
        def opaque():
            return Opaque()

        @task
        def after(value):
            journal("after", value=value)

        @task
        def pushes_opaque(ti=None):
            ti.xcom_push(key="thing", value={"nested": [Opaque()]})

        p = parts()
        checked = check(when(), stamp(), tags(), pair(), point(), numbered(), p["day"], p["amount"])
        pusher() >> checked
        echo.expand(v=pair())
        collect(shift.expand(p=points()))
        after(opaque())
        pushes_opaque()


    return_values()
'''

EXPECTED_CHECK = {
    "when": ["datetime", "datetime.datetime(2025, 7, 1, 12, 30, tzinfo=datetime.timezone.utc)"],
    "stamp": ["DateTime", "DateTime(2025, 7, 1, 0, 0, 0, tzinfo=Timezone('UTC'))"],
    "tags": ["set", ['["str", "\'a\'"]', '["str", "\'b\'"]']],
    "pair": ["tuple", [["int", "1"], ["str", "'x'"]]],
    "point": ["dag.Point", "Point(x=1, y=2)"],
    "numbered": ["dict", {"1": ["str", "'one'"]}],
    "day": ["date", "datetime.date(2025, 7, 1)"],
    "amount": ["Decimal", "Decimal('9.90')"],
    "pushed": ["timedelta", "datetime.timedelta(seconds=300)"],
    "is_point": ["bool", "True"],
}


def write_dag(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "return_values.py").write_text(textwrap.dedent(DAG_FILE))
    return folder


def read_journal(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return sorted(lines, key=lambda line: json.dumps(line, sort_keys=True))


def check_outcome(states: dict[tuple[str, int], tuple[str, int]], errors: dict[str, str], seen: list[dict]) -> None:
    """What both ways of running must show."""
    assert states[("check", -1)] == ("success", 1)
    assert states[("opaque", -1)] == ("failed", 2)  # refused values fail the task; retries apply, as in Airflow
    assert states[("after", -1)][0] == "upstream_failed"
    assert states[("pushes_opaque", -1)] == ("failed", 1)
    assert {states[("echo", i)] for i in (0, 1)} == {("success", 1)}
    assert errors["opaque"].startswith(
        "The return value of task 'opaque': cannot store a value of type 'Opaque': a task may return str, int"
    )
    assert errors["pushes_opaque"].startswith(
        "XCom 'thing' pushed by task 'pushes_opaque': cannot store a value of type 'Opaque' at ['nested'][0]: "
    )
    by_task: dict[str, list[dict]] = {}
    for line in seen:
        by_task.setdefault(line["task"], []).append(line["seen"])
    assert by_task["check"] == [EXPECTED_CHECK]
    assert by_task["echo"] == [{"v": ["int", "1"]}, {"v": ["str", "'x'"]}]
    assert by_task["shift"] == [{"p": ["dag.Point", f"Point(x={i}, y={i})"]} for i in range(2)]
    points = [["dag.Point", f"Point(x={i + 10}, y={i})"] for i in range(2)]
    assert by_task["collect"] == [{"values": ["list", points]}]
    assert "after" not in by_task


def run_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict, list[dict]]:
    journal = tmp_path / "inline.jsonl"
    monkeypatch.setenv("RETURN_VALUES_JOURNAL", str(journal))
    dag = load_dags(write_dag(tmp_path / "dags")).get_dag("return_values")
    state = run_dag_test(dag, io.StringIO(), logical_date=LOGICAL_DATE)
    records = state.records()
    states = {(r.task_id, r.map_index): (str(r.state), r.try_number) for r in records}
    errors = {r.task_id: r.error.message for r in records if r.error is not None}
    return states, errors, read_journal(journal)


def test_dags_test_applies_the_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_outcome(*run_in_process(tmp_path, monkeypatch))


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([TRADEWIND, *args], env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise AssertionError(f"tradewind {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.mark.slow
def test_the_scheduler_applies_the_same_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inline = run_in_process(tmp_path / "inline", monkeypatch)

    home = tmp_path / "home"
    journal = tmp_path / "scheduler.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(
        TRADEWIND_HOME=str(home),
        TRADEWIND__CORE__DAGS_FOLDER=str(write_dag(tmp_path / "dags")),
        RETURN_VALUES_JOURNAL=str(journal),
    )
    trigger = ["dags", "trigger", "return_values", "--logical-date", LOGICAL_DATE.isoformat(), "-o", "json"]
    run_id = json.loads(cli(env, *trigger))["run_id"]
    cli(env, "scheduler", "--exit-when-idle", "--parallelism", "2")
    rows = json.loads(cli(env, "tasks", "states-for-dag-run", "return_values", run_id, "-o", "json"))
    states = {(r["task_id"], r["map_index"]): (r["state"], r["try_number"]) for r in rows}
    errors = {r["task_id"]: r["error"] for r in rows if r["error"]}
    seen = read_journal(journal)

    check_outcome(states, errors, seen)
    assert (states, errors, seen) == inline  # the same states, messages and values as dags test

    # what the store gives back to a restarted scheduler: the values the tasks returned
    engine = make_engine(f"sqlite:///{home / 'tradewind.db'}")
    try:
        with session_scope(engine) as session:
            stored = {(x.task_id, x.map_index, x.key): x.value for x in q.get_xcoms(session, "return_values", run_id)}
    finally:
        engine.dispose()
    assert stored[("when", -1, "return_value")] == datetime(2025, 7, 1, 12, 30, tzinfo=UTC)
    assert stored[("tags", -1, "return_value")] == {"a", "b"}
    assert stored[("pair", -1, "return_value")] == (1, "x")
    assert stored[("pusher", -1, "at")] == timedelta(minutes=5)
    point = stored[("point", -1, "return_value")]
    assert isinstance(point, serde.StoredDataclass) and (type(point).__name__, point.x, point.y) == ("Point", 1, 2)
    assert not any(task == "opaque" for task, _, _ in stored)


def test_the_outcome_in_the_log_keeps_types(tmp_path: Path) -> None:
    key = TaskInstanceKey("d", "r", "t")
    value = {"when": datetime(2025, 7, 1, tzinfo=UTC), "pair": (1, 2)}
    result = TaskResult(
        key=key,
        state=TaskInstanceState.SUCCESS,
        started_at=LOGICAL_DATE,
        ended_at=LOGICAL_DATE,
        return_value=value,
        xcoms={"return_value": value},
    )
    log = tmp_path / "attempt=1.log"
    log.write_text("some output\n" + result_line(result))
    back = result_from_log(log, key)
    assert back is not None and back.xcoms == {"return_value": value} and back.return_value == value
