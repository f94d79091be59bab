"""The template context a task sees (``ds``, ``ti``, ``params``, ...); ``get_current_context()``
returns it while the task runs (definitions/current_context.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from tradewind.config import conf as config
from tradewind.runtime.work import RunContext

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator
    from tradewind.runtime.task_instance import RuntimeTaskInstance


def _pendulum(value: datetime | None) -> Any:
    import pendulum

    return pendulum.instance(value) if value is not None else None


def _ds_add(ds: str, days: int) -> str:
    return (datetime.strptime(ds, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def _ds_format(ds: str, input_format: str, output_format: str) -> str:
    return datetime.strptime(ds, input_format).strftime(output_format)


MACROS = SimpleNamespace(datetime=datetime, timedelta=timedelta, ds_add=_ds_add, ds_format=_ds_format)


_dates: list[Any] = [None, None]  # the last run's three dates, and their pendulum forms and texts


def _run_dates(run: RunContext) -> tuple[Any, Any, Any, dict[str, str]]:
    """The run's dates as pendulum values, and the strings made from them: the same for every
    instance of the run, so kept for the last run seen (a worker runs many of one in a row).
    A run without a logical date (an Airflow 3 trigger) has none of them: (None, None, None, {})."""
    key = (run.logical_date, run.data_interval_start, run.data_interval_end)
    if _dates[0] != key:
        if run.logical_date is None:
            _dates[0], _dates[1] = key, (None, None, None, {})
            return _dates[1]  # type: ignore[no-any-return]
        logical_date = _pendulum(run.logical_date)
        ts = logical_date.isoformat()
        texts = {
            "ds": logical_date.strftime("%Y-%m-%d"),
            "ds_nodash": logical_date.strftime("%Y%m%d"),
            "ts": ts,
            "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
            "ts_nodash_with_tz": ts.replace("-", "").replace(":", ""),
        }
        _dates[0] = key
        _dates[1] = (logical_date, _pendulum(run.data_interval_start), _pendulum(run.data_interval_end), texts)
    return _dates[1]  # type: ignore[no-any-return]


def _run_date_keys(run: RunContext, logical_date: Any, interval_start: Any, interval_end: Any) -> dict[str, Any]:
    """The keys made from the run's logical date and data interval; none for a run without a
    logical date, as Airflow 3 leaves them out (a template reading ``ds`` then fails)."""
    if run.logical_date is None:
        return {}
    return {
        "logical_date": logical_date,
        "execution_date": logical_date,
        "data_interval_start": interval_start,
        "data_interval_end": interval_end,
    }


def build_context(run: RunContext, task: AbstractOperator, ti: RuntimeTaskInstance) -> dict[str, Any]:
    logical_date, interval_start, interval_end, texts = _run_dates(run)
    dag_run = SimpleNamespace(
        dag_id=run.dag_id,
        run_id=run.run_id,
        run_type=run.run_type,
        logical_date=logical_date,
        execution_date=logical_date,
        data_interval_start=interval_start,
        data_interval_end=interval_end,
        run_after=_pendulum(run.run_after) if run.run_after is not None else logical_date,
        conf=dict(run.conf),
    )
    params = dict(run.params)
    params.update({k: v for k, v in task.params.items() if k not in run.conf})
    return {
        "dag": task.dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "task_instance_key_str": f"{run.dag_id}__{ti.task_id}__{texts.get('ds_nodash', run.run_id)}",
        "params": params,
        "run_id": run.run_id,
        "dag_run": dag_run,
        "conf": config,
        **_run_date_keys(run, logical_date, interval_start, interval_end),
        **texts,
        "macros": MACROS,
        "test_mode": run.test_mode,
        "map_index_template": getattr(task, "map_index_template", None),
    }
