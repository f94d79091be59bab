"""The template context a task sees (``ds``, ``ti``, ``params``, ...); ``get_current_context()``
returns it while the task runs (definitions/current_context.py)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from tradewind.config import conf as config
from tradewind.definitions.connection import ConnectionsInTemplates
from tradewind.definitions.params import Param
from tradewind.definitions.variable import VariablesInTemplates
from tradewind.errors import TaskFailedNoRetry
from tradewind.runtime.asset_events import AssetEvents, InletEventAccessors, OutletEventAccessors
from tradewind.runtime.work import RunContext

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator
    from tradewind.runtime.task_instance import RuntimeTaskInstance


def _pendulum(value: datetime | None) -> Any:
    import pendulum

    return pendulum.instance(value) if value is not None else None


def _ds_add(ds: str, days: int) -> str:
    if not days:
        return str(ds)
    return (datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def _ds_format(ds: str, input_format: str, output_format: str) -> str:
    return datetime.strptime(str(ds), input_format).strftime(output_format)


def _ds_format_locale(ds: str, input_format: str, output_format: str, locale: Any = None) -> str:
    try:
        from babel.dates import LC_TIME, format_datetime
    except ImportError:
        raise ImportError("macros.ds_format_locale needs Babel: pip install babel") from None
    moment = datetime.strptime(str(ds), input_format)
    return str(format_datetime(moment, output_format, locale=locale or LC_TIME or "en_US"))


def _datetime_diff_for_humans(dt: Any, since: Any = None) -> str:
    import pendulum

    return str(pendulum.instance(dt).diff_for_humans(since))


class _Macros(SimpleNamespace):
    """``macros`` in templates, as Airflow's: date helpers and a few modules (imported when used)."""

    _MODULES = {"dateutil": "python-dateutil", "yaml": "pyyaml"}  # module -> what to pip install

    def __getattr__(self, name: str) -> Any:
        if name not in self._MODULES:
            raise AttributeError(f"macros has no attribute {name!r}")
        import importlib

        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ImportError(f"macros.{name} needs {self._MODULES[name]}: pip install {self._MODULES[name]}") from None
        if name == "dateutil":
            importlib.import_module("dateutil.relativedelta")
        setattr(self, name, module)
        return module


def _random() -> float:
    import random

    return random.random()


MACROS = _Macros(
    datetime=datetime,
    timedelta=timedelta,
    json=json,
    time=time,
    uuid=uuid,
    random=_random,
    ds_add=_ds_add,
    ds_format=_ds_format,
    ds_format_locale=_ds_format_locale,
    datetime_diff_for_humans=_datetime_diff_for_humans,
)
VAR = VariablesInTemplates()
CONN = ConnectionsInTemplates()


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


class NoTaskStateStore:
    """``task_state_store`` in the context: Airflow 3.3's task state store (a key-value store per
    task instance that survives retries, AIP-103) is not provided; any use fails the task saying
    so, rather than a task reading ``None`` and failing on something else."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise TaskFailedNoRetry(
            f"task_state_store.{name}(): tradewind does not provide Airflow's task state store; "
            "keep state that must survive a retry in a Variable or your own storage "
            "(see docs/airflow-compatibility.md)"
        )

    def __repr__(self) -> str:
        return "<task_state_store: not provided by tradewind>"


NO_TASK_STATE_STORE = NoTaskStateStore()


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
    params.update(
        {k: v.resolve(name=k) if isinstance(v, Param) else v for k, v in task.params.items() if k not in run.conf}
    )
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
        "var": VAR,
        "conn": CONN,
        "test_mode": run.test_mode,
        "map_index_template": getattr(task, "map_index_template", None),
        "task_state_store": NO_TASK_STATE_STORE,
        **_asset_keys(run, task),
    }


def _asset_keys(run: RunContext, task: AbstractOperator) -> dict[str, Any]:
    """Data-aware scheduling's keys (runtime/asset_events.py; docs/adr/0012)."""
    triggering = AssetEvents(run.asset_events)
    outlets, inlets = getattr(task, "outlets", None), getattr(task, "inlets", None)
    return {
        "outlets": list(outlets) if isinstance(outlets, (list, tuple, set)) else [outlets] if outlets else [],
        "inlets": list(inlets) if isinstance(inlets, (list, tuple, set)) else [inlets] if inlets else [],
        "outlet_events": OutletEventAccessors(),
        "inlet_events": InletEventAccessors(inlets),
        "triggering_asset_events": triggering,
        "triggering_dataset_events": triggering,  # Airflow 2's name
    }
