"""XCom values at the store boundary, on SQLite and PostgreSQL: what a task returned is what a
reader gets back (tagged JSON in the table); a value no rule can store is refused, naming the task."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from tradewind import serde
from tradewind.errors import XComValueError
from tradewind.store import queries as q
from tradewind.store import session_scope

DAY = datetime(2025, 7, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def ti(task_id: str, map_index: int = -1, **values: Any) -> dict[str, Any]:
    return {"dag_id": "etl", "run_id": "manual__1", "task_id": task_id, "map_index": map_index, **values}


def prepare(engine: Engine, tasks: list[dict[str, Any]]) -> None:
    with session_scope(engine) as session:
        q.upsert_dag(session, dag_id="etl", fileloc="/dags/etl.py", schedule=None, tags=[])
        q.create_dag_run(
            session,
            dag_id="etl",
            run_id="manual__1",
            logical_date=DAY,
            data_interval_start=DAY,
            data_interval_end=DAY,
            run_type="manual",
        )
        q.upsert_task_instances(session, tasks)


VALUES: list[Any] = [
    {"z": 1, "a": [1, 2.5, None, True], "nested": {"ünïcode": "✓", "big": 2**53}},
    (1, 2),
    {"b", "a"},
    frozenset({3}),
    datetime(2025, 7, 1, 12, 30, tzinfo=UTC),
    datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),
    date(2025, 7, 1),
    timedelta(hours=1, microseconds=1),
    Decimal("0.10"),
    [1.0, math.inf],
    {"__tw__": "set", "v": [1]},  # a user's dict using the tag key
]


def test_values_come_back_as_the_task_returned_them(engine: Engine) -> None:
    prepare(engine, [ti("make", i) for i in range(len(VALUES))] + [ti("point")])
    with session_scope(engine) as session:
        q.set_xcoms(session, [{**ti("make", i), "value": v} for i, v in enumerate(VALUES)])
        q.set_xcoms(session, [{**ti("point"), "value": Point(1, 2)}])
    with session_scope(engine) as session:
        made = q.get_xcoms(session, "etl", "manual__1", task_ids=["make"])
        back = [x.value for x in made]
        (point,) = q.get_xcoms(session, "etl", "manual__1", task_ids=["point"])
        held = point.value
    assert back == VALUES
    assert [type(v) for v in back] == [type(v) for v in VALUES]
    assert list(back[0]) == ["z", "a", "nested"]  # key order kept
    assert isinstance(held, serde.StoredDataclass) and (held.x, held.y) == (1, 2)  # no user import here
    assert serde.rebuild(held) == Point(1, 2)


def test_reading_values_writes_nothing_back(engine: Engine) -> None:
    prepare(engine, [ti("when")])
    with session_scope(engine) as session:
        q.set_xcoms(session, [{**ti("when"), "value": DAY}])
    with session_scope(engine) as session:
        (xcom,) = q.get_xcoms(session, "etl", "manual__1")
        assert xcom.value == DAY
        assert not session.dirty
    with session_scope(engine) as session:
        raw = session.execute(text("SELECT value FROM xcom")).scalar_one()
    assert "__tw__" in str(raw) and "2025-07-01T00:00:00+00:00" in str(raw)


def test_a_value_that_cannot_be_stored_names_the_task_and_writes_nothing(engine: Engine) -> None:
    prepare(engine, [ti("ok"), ti("produce", 3)])

    class Opaque:
        pass

    with session_scope(engine) as session:
        with pytest.raises(XComValueError) as caught:
            q.set_xcoms(session, [{**ti("ok"), "value": 1}, {**ti("produce", 3), "value": [1, {"a": Opaque()}]}])
    assert str(caught.value).startswith(
        "XCom 'return_value' of task 'produce[3]' of DAG 'etl' (run 'manual__1'): "
        "cannot store a value of type 'Opaque' at [1]['a']: a task may return"
    )
    with session_scope(engine) as session:
        assert q.get_xcoms(session, "etl", "manual__1") == []  # nothing of the batch was written
