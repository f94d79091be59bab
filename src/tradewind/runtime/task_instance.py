"""The ``ti`` object a running task sees: its identity, XCom push/pull, and skipping downstream tasks."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tradewind.definitions.xcom_arg import RETURN_KEY
from tradewind.errors import TradewindError
from tradewind.runtime.inputs import InputsSource, ResultSequence

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator
    from tradewind.runtime.work import WorkItem


_ALL: Any = object()  # xcom_pull without map_indexes: every instance's value


class RuntimeTaskInstance:
    """Stands for the task instance inside the worker; what it records travels back in the TaskResult."""

    def __init__(self, item: WorkItem, task: AbstractOperator, source: InputsSource) -> None:
        key = item.key
        self.dag_id = key.dag_id
        self.task_id = key.task_id
        self.run_id = key.run_id
        self.map_index = key.map_index
        self.try_number = key.try_number
        self.max_tries = item.max_tries
        self.rescheduled_since = item.rescheduled_since
        self.task = task
        self.hostname = socket.gethostname()
        self.logical_date = item.context.logical_date
        self._source = source
        self.pushed: dict[str, Any] = {}
        self.skipped: list[str] = []
        self.start_date: datetime | None = None  # when this try began
        # a TriggerDagRunOperator's run to create: the scheduler creates it (workers never write runs)
        self.trigger_request: dict[str, Any] | None = None

    def xcom_push(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` for downstream tasks (``return_value`` is set by returning)."""
        self.pushed[key] = value

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = RETURN_KEY,
        include_prior_dates: bool = False,
        *,
        map_indexes: Any = _ALL,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any:
        """Values pushed in this run, with Airflow 3's rules.

        ``task_ids`` None means this task (so ``xcom_pull(key="k")`` finds only what this task
        pushed, as in Airflow 3). Without ``map_indexes``, every instance's value: one task gives
        its value when it has exactly one, else the list. With ``map_indexes`` (one index or a
        list), only those instances, ``default`` where one has no value; a list unless one task
        and one index were asked for. Tasks other than this one are read from the values the
        scheduler sent: those of the direct upstream tasks (docs/adr/0003).
        """
        if dag_id not in (None, self.dag_id) or run_id not in (None, self.run_id) or include_prior_dates:
            raise TradewindError(
                f"ti.xcom_pull() in task '{self.task_id}': dag_id, run_id and include_prior_dates are not "
                "supported; a task reads the values of its own run's upstream tasks"
            )
        single_task = task_ids is None or isinstance(task_ids, str)
        ids = [self.task_id] if task_ids is None else [task_ids] if isinstance(task_ids, str) else list(task_ids)
        if map_indexes is _ALL:
            values: list[Any] = []
            for task_id in ids:
                found = self._every_value(task_id, key)
                values.extend(found if found else [None])
            return values[0] if single_task and len(values) == 1 else values
        single_index = map_indexes is None or isinstance(map_indexes, int)
        indexes = [map_indexes] if single_index else list(map_indexes)
        picked = []
        for task_id in ids:
            for index in indexes:
                value = self._one_value(task_id, key, index)
                picked.append(default if value is None else value)
        return picked[0] if single_task and single_index else picked

    def _check_readable(self, task_id: str) -> None:
        """Only direct upstream tasks' values reach a worker (docs/adr/0003): pulling from another
        task of the DAG fails, saying how to fix it, instead of giving a silent None."""
        dag = getattr(self.task, "dag", None)
        if task_id in self.task.upstream_task_ids or dag is None or task_id not in dag.task_dict:
            return
        raise TradewindError(
            f"ti.xcom_pull(task_ids={task_id!r}) in task '{self.task_id}': '{task_id}' is not a direct "
            f"upstream task of '{self.task_id}', and a task reads the XComs of its direct upstream tasks only; "
            f"make it one ({task_id} >> {self.task_id})"
        )

    def _every_value(self, task_id: str, key: str) -> list[Any]:
        if task_id == self.task_id:
            return [self.pushed[key]] if key in self.pushed else []
        self._check_readable(task_id)
        raw = self._source.value(task_id, key)
        if isinstance(raw, ResultSequence):
            return list(raw)
        return [] if raw is None else [raw]

    def _one_value(self, task_id: str, key: str, map_index: int | None) -> Any:
        if task_id == self.task_id:
            return self.pushed.get(key) if map_index in (None, self.map_index) else None
        self._check_readable(task_id)
        raw = self._source.value(task_id, key)
        if isinstance(raw, ResultSequence):
            if map_index is None:
                return raw[0] if len(raw) else None
            return raw.at(map_index)
        # an unmapped upstream (index -1), or in a mapped task group the same index's instance
        return raw if map_index in (None, -1, self.map_index) else None

    def skip_tasks(self, task_ids: Iterable[str]) -> None:
        """Mark these tasks skipped once this task finishes (branching, short-circuit)."""
        self.skipped.extend(t for t in task_ids if t not in self.skipped)

    def __repr__(self) -> str:
        index = "" if self.map_index < 0 else f"[{self.map_index}]"
        return f"<TaskInstance: {self.dag_id}.{self.task_id}{index} {self.run_id} try {self.try_number}>"
