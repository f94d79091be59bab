"""Make ``import airflow...`` in DAG files resolve to tradewind's objects.

DAG files written for Airflow 2 or 3 import from ``airflow``, ``airflow.decorators``,
``airflow.sdk``, ``airflow.operators.*`` and friends. When the real Airflow is not installed,
a meta-path finder serves those names from the table below. It is installed by the loader and
stays installed in a process that loads DAG files, because task functions often import
``get_current_context`` from ``airflow`` inside their body, at run time.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import tradewind.definitions as d
from tradewind import errors
from tradewind.definitions import connection as _connection
from tradewind.definitions import secrets as _secrets
from tradewind.definitions import variable as _variable
from tradewind.definitions.current_context import get_current_context
from tradewind.definitions.mapping import MappedOperator
from tradewind.definitions.parsing_context import get_parsing_context
from tradewind.definitions.states import DagRunState, TaskInstanceState
from tradewind.definitions.timetables import base as _tt_base
from tradewind.definitions.timetables import interval as _tt_interval
from tradewind.definitions.timetables import simple as _tt_simple
from tradewind.definitions.timetables import trigger as _tt_trigger
from tradewind.definitions.xcom_arg import XComArg


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """Airflow 1/2's ``airflow.utils.dates.days_ago``: midnight UTC ``n`` days ago."""
    today = datetime.now(UTC).replace(hour=hour, minute=minute, second=second, microsecond=0)
    return today - timedelta(days=n)


_EMPTY = {"EmptyOperator": d.EmptyOperator}
_DUMMY = {"DummyOperator": d.DummyOperator, "EmptyOperator": d.EmptyOperator}
_PYTHON = {
    "PythonOperator": d.PythonOperator,
    "BranchPythonOperator": d.BranchPythonOperator,
    "ShortCircuitOperator": d.ShortCircuitOperator,
    "get_current_context": get_current_context,
}
_BASH = {"BashOperator": d.BashOperator}
_EXCEPTIONS = {
    "AirflowException": errors.AirflowException,
    "AirflowSkipException": errors.AirflowSkipException,
    "AirflowFailException": errors.AirflowFailException,
    "AirflowTaskTimeout": errors.AirflowTaskTimeout,
}
_SDK = {
    "DAG": d.DAG,
    "dag": d.dag,
    "task": d.task,
    "task_group": d.task_group,
    "TaskGroup": d.TaskGroup,
    "BaseOperator": d.BaseOperator,
    "Param": d.Param,
    "XComArg": XComArg,
    "chain": d.chain,
    "cross_downstream": d.cross_downstream,
    "get_current_context": get_current_context,
    "get_parsing_context": get_parsing_context,
    "TriggerRule": d.TriggerRule,
}

MODULES: dict[str, dict[str, Any]] = {
    "airflow": {"DAG": d.DAG, "XComArg": XComArg, "__version__": "3.0.0+tradewind"},
    "airflow.decorators": {"dag": d.dag, "task": d.task, "task_group": d.task_group},
    "airflow.sdk": _SDK,
    "airflow.sdk.definitions": {},
    "airflow.sdk.definitions.dag": {"DAG": d.DAG, "dag": d.dag},
    "airflow.models": {
        "DAG": d.DAG,
        "BaseOperator": d.BaseOperator,
        "Param": d.Param,
        "XComArg": XComArg,
        "MappedOperator": MappedOperator,
    },
    "airflow.models.dag": {"DAG": d.DAG},
    "airflow.models.baseoperator": {
        "BaseOperator": d.BaseOperator,
        "chain": d.chain,
        "cross_downstream": d.cross_downstream,
    },
    "airflow.models.param": {"Param": d.Param},
    "airflow.models.xcom_arg": {"XComArg": XComArg},
    "airflow.models.mappedoperator": {"MappedOperator": MappedOperator},
    "airflow.operators": {},
    "airflow.operators.empty": _EMPTY,
    "airflow.operators.dummy": _DUMMY,
    "airflow.operators.dummy_operator": _DUMMY,
    "airflow.operators.python": _PYTHON,
    "airflow.operators.python_operator": _PYTHON,
    "airflow.operators.bash": _BASH,
    "airflow.operators.bash_operator": _BASH,
    "airflow.providers": {},
    "airflow.providers.standard": {},
    "airflow.providers.standard.operators": {},
    "airflow.providers.standard.operators.empty": _EMPTY,
    "airflow.providers.standard.operators.python": _PYTHON,
    "airflow.providers.standard.operators.bash": _BASH,
    "airflow.utils": {},
    "airflow.utils.task_group": {"TaskGroup": d.TaskGroup},
    "airflow.utils.trigger_rule": {"TriggerRule": d.TriggerRule},
    "airflow.utils.helpers": {"chain": d.chain, "cross_downstream": d.cross_downstream},
    "airflow.utils.dates": {"days_ago": days_ago},
    "airflow.utils.dag_parsing_context": {"get_parsing_context": get_parsing_context},
    "airflow.utils.state": {
        "TaskInstanceState": TaskInstanceState,
        "DagRunState": DagRunState,
        "State": TaskInstanceState,
    },
    "airflow.exceptions": _EXCEPTIONS,
}

# -- schedules: Airflow's timetable classes from their Airflow 2 and 3 paths and airflow.sdk
_TT_BASE = {
    "Timetable": _tt_base.Timetable,
    "DagRunInfo": _tt_base.DagRunInfo,
    "DataInterval": _tt_base.DataInterval,
    "TimeRestriction": _tt_base.TimeRestriction,
}
_TT_TRIGGER = {
    "CronTriggerTimetable": _tt_trigger.CronTriggerTimetable,
    "DeltaTriggerTimetable": _tt_trigger.DeltaTriggerTimetable,
    "MultipleCronTriggerTimetable": _tt_trigger.MultipleCronTriggerTimetable,
}
_TT_INTERVAL = {
    "CronDataIntervalTimetable": _tt_interval.CronDataIntervalTimetable,
    "DeltaDataIntervalTimetable": _tt_interval.DeltaDataIntervalTimetable,
}
_TT_SIMPLE = {
    "NullTimetable": _tt_simple.NullTimetable,
    "OnceTimetable": _tt_simple.OnceTimetable,
    "ContinuousTimetable": _tt_simple.ContinuousTimetable,
}
_TT_EVENTS = {"EventsTimetable": _tt_simple.EventsTimetable}
for _prefix in ("airflow.timetables", "airflow.sdk.definitions.timetables"):
    MODULES[_prefix] = {}
    MODULES[f"{_prefix}.base"] = _TT_BASE
    MODULES[f"{_prefix}.trigger"] = _TT_TRIGGER
    MODULES[f"{_prefix}.interval"] = _TT_INTERVAL
    MODULES[f"{_prefix}.simple"] = _TT_SIMPLE
    MODULES[f"{_prefix}.events"] = _TT_EVENTS
_SDK.update({**_TT_TRIGGER, **_TT_INTERVAL, **_TT_EVENTS})


# --- issue 9, the rest of the authoring surface (setup/teardown, sensors, branch operators,
# labels, assets, type hints); see docs/airflow-compatibility.md and docs/adr/0011
from tradewind.definitions import airflow_types as _types  # noqa: E402
from tradewind.definitions import assets as _assets  # noqa: E402
from tradewind.definitions import sensors as _sensors  # noqa: E402
from tradewind.definitions.dependencies import chain_linear  # noqa: E402
from tradewind.definitions.edgemodifier import EdgeModifier, Label  # noqa: E402
from tradewind.definitions.operators import branch as _branch  # noqa: E402
from tradewind.definitions.operators import external_python as _external  # noqa: E402
from tradewind.definitions.operators.python import SkipMixin  # noqa: E402
from tradewind.definitions.taskflow import setup, teardown  # noqa: E402

COMPATIBILITY_PAGE = "docs/airflow-compatibility.md"
_SETUP_TEARDOWN: dict[str, Any] = {"setup": setup, "teardown": teardown}
_LABEL: dict[str, Any] = {"Label": Label, "EdgeModifier": EdgeModifier}
_CHAINS: dict[str, Any] = {"chain": d.chain, "chain_linear": chain_linear, "cross_downstream": d.cross_downstream}
_ASSETS: dict[str, Any] = {
    "Asset": _assets.Asset,
    "AssetAlias": _assets.AssetAlias,
    "AssetAll": _assets.AssetAll,
    "AssetAny": _assets.AssetAny,
    "Metadata": _assets.Metadata,
}
_DATASETS: dict[str, Any] = {
    "Dataset": _assets.Dataset,
    "DatasetAlias": _assets.DatasetAlias,
    "DatasetAll": _assets.DatasetAll,
    "DatasetAny": _assets.DatasetAny,
}
_SENSOR_BASE: dict[str, Any] = {
    "BaseSensorOperator": _sensors.BaseSensorOperator,
    "PokeReturnValue": _sensors.PokeReturnValue,
}
_PYTHON_SENSOR: dict[str, Any] = {"PythonSensor": _sensors.PythonSensor}
_FILE_SENSOR: dict[str, Any] = {"FileSensor": _sensors.FileSensor}
_TIME_SENSOR: dict[str, Any] = {"TimeSensor": _sensors.TimeSensor, "TimeSensorAsync": _sensors.TimeSensorAsync}
_TIME_DELTA_SENSOR: dict[str, Any] = {
    "TimeDeltaSensor": _sensors.TimeDeltaSensor,
    "TimeDeltaSensorAsync": _sensors.TimeDeltaSensorAsync,
    "WaitSensor": _sensors.WaitSensor,
}
_DATE_TIME_SENSOR: dict[str, Any] = {
    "DateTimeSensor": _sensors.DateTimeSensor,
    "DateTimeSensorAsync": _sensors.DateTimeSensorAsync,
}
_BRANCH: dict[str, Any] = {"BaseBranchOperator": _branch.BaseBranchOperator, "SkipMixin": SkipMixin}
_LATEST_ONLY: dict[str, Any] = {"LatestOnlyOperator": _branch.LatestOnlyOperator}
_WEEKDAY: dict[str, Any] = {"BranchDayOfWeekOperator": _branch.BranchDayOfWeekOperator, "WeekDay": _branch.WeekDay}
_DATETIME_BRANCH: dict[str, Any] = {"BranchDateTimeOperator": _branch.BranchDateTimeOperator}
_PYTHON_MORE: dict[str, Any] = {
    "ExternalPythonOperator": _external.ExternalPythonOperator,
    "PythonVirtualenvOperator": _external.PythonVirtualenvOperator,
    "is_venv_installed": _external.is_venv_installed,
    "BranchExternalPythonOperator": _external.BranchExternalPythonOperator,
    "BranchPythonVirtualenvOperator": _external.BranchPythonVirtualenvOperator,
}
_MORE_EXCEPTIONS: dict[str, Any] = {**_EXCEPTIONS, "AirflowSensorTimeout": errors.AirflowSensorTimeout}
_TYPES: dict[str, Any] = {"Context": _types.Context}
_TASK_INSTANCE: dict[str, Any] = {"TaskInstance": _types.TaskInstance}

_SDK.update(
    {
        **_SETUP_TEARDOWN,
        **_LABEL,
        **_CHAINS,
        **_ASSETS,
        **_SENSOR_BASE,
        **_TYPES,
        "literal": _types.literal,
        "ParamsDict": _types.ParamsDict,
        "DagRunState": DagRunState,
        "TaskInstanceState": TaskInstanceState,
    }
)
_EXCEPTIONS.update(_MORE_EXCEPTIONS)
_PYTHON.update(_PYTHON_MORE)
MODULES["airflow"].update({**_DATASETS, "Asset": _assets.Asset})
MODULES["airflow.decorators"].update(_SETUP_TEARDOWN)
MODULES["airflow.models"].update({**_TASK_INSTANCE, "DagRun": _types.DagRun})
MODULES["airflow.models.baseoperator"].update(_CHAINS)
MODULES["airflow.utils.helpers"].update(_CHAINS)
MODULES.update(
    {
        "airflow.sdk.exceptions": _EXCEPTIONS,
        "airflow.sdk.bases": {},
        "airflow.sdk.bases.operator": {"BaseOperator": d.BaseOperator, **_CHAINS},
        "airflow.sdk.bases.sensor": _SENSOR_BASE,
        "airflow.sdk.definitions.asset": _ASSETS,
        "airflow.sdk.definitions.asset.metadata": {"Metadata": _assets.Metadata},
        "airflow.sdk.definitions.edges": _LABEL,
        "airflow.sdk.definitions.template": {"literal": _types.literal},
        "airflow.sdk.definitions.context": {**_TYPES, "get_current_context": get_current_context},
        "airflow.sdk.definitions.param": {"Param": d.Param, "ParamsDict": _types.ParamsDict},
        "airflow.sdk.definitions.taskgroup": {"TaskGroup": d.TaskGroup},
        "airflow.sdk.definitions.xcom_arg": {"XComArg": XComArg},
        "airflow.models.taskinstance": _TASK_INSTANCE,
        "airflow.models.dagrun": {"DagRun": _types.DagRun},
        "airflow.utils.context": {**_TYPES, "get_current_context": get_current_context},
        "airflow.utils.edgemodifier": _LABEL,
        "airflow.utils.template": {"literal": _types.literal},
        "airflow.utils.weekday": {"WeekDay": _branch.WeekDay},
        "airflow.datasets": _DATASETS,
        "airflow.datasets.metadata": {"Metadata": _assets.Metadata},
        "airflow.assets": _ASSETS,
        "airflow.sensors": {},
        "airflow.sensors.base": _SENSOR_BASE,
        "airflow.sensors.base_sensor_operator": _SENSOR_BASE,
        "airflow.sensors.python": _PYTHON_SENSOR,
        "airflow.sensors.filesystem": _FILE_SENSOR,
        "airflow.sensors.time_sensor": _TIME_SENSOR,
        "airflow.sensors.time_delta": _TIME_DELTA_SENSOR,
        "airflow.sensors.date_time": _DATE_TIME_SENSOR,
        "airflow.operators.branch": _BRANCH,
        "airflow.operators.latest_only": _LATEST_ONLY,
        "airflow.operators.weekday": _WEEKDAY,
        "airflow.operators.datetime": _DATETIME_BRANCH,
        "airflow.providers.standard.operators.branch": _BRANCH,
        "airflow.providers.standard.operators.latest_only": _LATEST_ONLY,
        "airflow.providers.standard.operators.weekday": _WEEKDAY,
        "airflow.providers.standard.operators.datetime": _DATETIME_BRANCH,
        "airflow.providers.standard.sensors": {},
        "airflow.providers.standard.sensors.python": _PYTHON_SENSOR,
        "airflow.providers.standard.sensors.filesystem": _FILE_SENSOR,
        "airflow.providers.standard.sensors.time": _TIME_SENSOR,
        "airflow.providers.standard.sensors.time_delta": _TIME_DELTA_SENSOR,
        "airflow.providers.standard.sensors.date_time": _DATE_TIME_SENSOR,
        "airflow.providers.standard.utils": {},
        "airflow.providers.standard.utils.weekday": {"WeekDay": _branch.WeekDay},
        "airflow.sensors.bash": {"BashSensor": _sensors.BashSensor},
        "airflow.sensors.weekday": {"DayOfWeekSensor": _sensors.DayOfWeekSensor},
        "airflow.providers.standard.sensors.bash": {"BashSensor": _sensors.BashSensor},
        "airflow.providers.standard.sensors.weekday": {"DayOfWeekSensor": _sensors.DayOfWeekSensor},
        "airflow.models.param": {"Param": d.Param, "ParamsDict": _types.ParamsDict},
        "airflow.providers.common": {},
        "airflow.providers.common.compat": {},
        "airflow.providers.common.compat.sdk": {
            **_SDK,
            **_EXCEPTIONS,
            **_BRANCH,
            "MappedOperator": MappedOperator,
            "XCOM_RETURN_KEY": "return_value",
        },
    }
)
# --- end of issue 9's block


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "airflow" and not fullname.startswith("airflow."):
            return None
        if fullname not in MODULES:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: tradewind runs DAG files without Airflow installed and "
                f"does not provide the Airflow module {fullname} (see {COMPATIBILITY_PAGE} for what it "
                f"provides and what it does not)",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__path__ = []
        module.__dict__.update(MODULES[module.__name__])
        module.__getattr__ = _missing_name(module.__name__)  # type: ignore[method-assign]


def _missing_name(module_name: str) -> Any:
    """``from airflow.x import Name`` of a name tradewind lacks: an ImportError naming it."""

    def __getattr__(name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        raise ImportError(
            f"cannot import name {name!r} from {module_name!r}: tradewind does not provide the Airflow name "
            f"{module_name}.{name} (see {COMPATIBILITY_PAGE} for what it provides and what it does not)",
            name=module_name,
        )

    return __getattr__


_finder = _AliasFinder()


def real_airflow_installed() -> bool:
    if _finder in sys.meta_path:
        return False
    return importlib.util.find_spec("airflow") is not None


def install() -> bool:
    """Install the alias unless the real Airflow is importable; True if the alias is active."""
    if _finder in sys.meta_path:
        return True
    if real_airflow_installed():
        return False
    sys.meta_path.insert(0, _finder)
    return True


# --- issue 9 part B: Variables, Connections, BaseHook and secret masking
_VARIABLE = {"Variable": _variable.Variable}
_CONNECTION = {"Connection": _connection.Connection}
_HOOK = {"BaseHook": _connection.BaseHook}
_MASKING = {"mask_secret": _secrets.mask_secret}
_VARIABLES_AND_CONNECTIONS: dict[str, dict[str, Any]] = {
    "airflow": _VARIABLE,
    "airflow.models": {**_VARIABLE, **_CONNECTION},
    "airflow.models.variable": _VARIABLE,
    "airflow.models.connection": _CONNECTION,
    "airflow.sdk": {**_VARIABLE, **_CONNECTION, **_HOOK},
    "airflow.sdk.definitions.variable": _VARIABLE,
    "airflow.sdk.definitions.connection": _CONNECTION,
    "airflow.sdk.bases": {},
    "airflow.sdk.bases.hook": _HOOK,
    "airflow.sdk.log": _MASKING,
    "airflow.sdk.execution_time": {},
    "airflow.sdk.execution_time.secrets_masker": _MASKING,
    "airflow.hooks": {},
    "airflow.hooks.base": _HOOK,
    "airflow.hooks.base_hook": _HOOK,
    "airflow.utils.log": {},
    "airflow.utils.log.secrets_masker": _MASKING,
    "airflow.providers.common": {},
    "airflow.providers.common.compat": {},
    "airflow.providers.common.compat.sdk": {**_VARIABLE, **_CONNECTION, **_HOOK},
}
for _module, _names in _VARIABLES_AND_CONNECTIONS.items():
    MODULES.setdefault(_module, {}).update(_names)

# --- issue 9, params: the error a param's schema check raises
_EXCEPTIONS["ParamValidationError"] = d.params.ParamValidationError  # airflow.exceptions, airflow.sdk.exceptions
# --- end of params block

# --- issue 9 (TriggerDagRunOperator under the scheduler)
from tradewind.definitions.operators import trigger_dagrun as _trigger_dagrun  # noqa: E402

_TRIGGER_DAGRUN: dict[str, Any] = {
    "TriggerDagRunOperator": _trigger_dagrun.TriggerDagRunOperator,
    "XCOM_RUN_ID": _trigger_dagrun.XCOM_RUN_ID,
    "XCOM_LOGICAL_DATE": _trigger_dagrun.XCOM_LOGICAL_DATE,
}
MODULES.update(
    {
        "airflow.operators.trigger_dagrun": _TRIGGER_DAGRUN,
        "airflow.providers.standard.operators.trigger_dagrun": _TRIGGER_DAGRUN,
    }
)
from tradewind.definitions import external_task as _external_task  # noqa: E402

_EXTERNAL_TASK: dict[str, Any] = {"ExternalTaskSensor": _external_task.ExternalTaskSensor}
MODULES.update(
    {
        "airflow.sensors.external_task": _EXTERNAL_TASK,
        "airflow.sensors.external_task_sensor": _EXTERNAL_TASK,
        "airflow.providers.standard.sensors.external_task": _EXTERNAL_TASK,
    }
)
# --- end of TriggerDagRunOperator's block

# --- issue 9 (depends_on_past, priority weights across runs, ExternalTaskMarker)
from tradewind.definitions import priority_strategy as _priority_strategy  # noqa: E402

_STRATEGY: dict[str, Any] = {"PriorityWeightStrategy": _priority_strategy.PriorityWeightStrategy}
MODULES.update(
    {
        "airflow.task": {},
        "airflow.task.priority_strategy": _STRATEGY,
    }
)
for _module in (
    "airflow.sensors.external_task",
    "airflow.sensors.external_task_sensor",
    "airflow.providers.standard.sensors.external_task",
):
    MODULES[_module]["ExternalTaskMarker"] = _external_task.ExternalTaskMarker
# --- end of issue 9's past/priority block

# --- issue 9, data-aware scheduling (docs/adr/0012)
_ASSET_TIMETABLE: dict[str, Any] = {"AssetOrTimeSchedule": _assets.AssetOrTimeSchedule}
_SDK.update(_ASSET_TIMETABLE)
MODULES["airflow.timetables.assets"] = _ASSET_TIMETABLE
MODULES["airflow.sdk.definitions.timetables.assets"] = _ASSET_TIMETABLE
MODULES["airflow.timetables.datasets"] = {"DatasetOrTimeSchedule": _assets.DatasetOrTimeSchedule}
from tradewind.definitions import asset_decorator as _asset_decorator  # noqa: E402

_SDK.update({"asset": _asset_decorator.asset})
MODULES["airflow.sdk.definitions.asset.decorators"] = {
    "asset": _asset_decorator.asset,
    "AssetDefinition": _asset_decorator.AssetDefinition,
    "MultiAssetDefinition": _asset_decorator.MultiAssetDefinition,
}

# --- issue 9 (retry policies: retry_policy=, definitions/retry_policy.py)
from tradewind.definitions import retry_policy as _retry_policy  # noqa: E402

_RETRY_POLICY: dict[str, Any] = {name: getattr(_retry_policy, name) for name in _retry_policy.__all__}
_SDK.update(_RETRY_POLICY)
MODULES["airflow.sdk.definitions.retry_policy"] = _RETRY_POLICY
MODULES["airflow.providers.common.compat.sdk"].update(_RETRY_POLICY)
# --- end of retry policies' block

# --- issue 9 (Airflow plugins: a plugin file that registers timetables imports; nothing else)
_PLUGIN_PARTS = (
    "hooks",
    "executors",
    "macros",
    "admin_views",
    "flask_blueprints",
    "fastapi_apps",
    "fastapi_root_middlewares",
    "external_views",
    "react_apps",
    "appbuilder_views",
    "appbuilder_menu_items",
    "global_operator_extra_links",
    "operator_extra_links",
    "listeners",
    "partition_mappers",
)


class AirflowPlugin:
    """Airflow's plugin base, so that a plugin file kept next to the DAG files imports. A plugin's
    ``timetables`` and ``priority_weight_strategies`` need no registration here (the DAG file
    imports its Timetable subclass, or names its strategy in ``weight_rule``, and both are used when
    the file is imported); anything else a plugin adds would be ignored, so it fails the import
    naming it::

        class WorkdayTimetablePlugin(AirflowPlugin):
            name = "workday_timetable_plugin"
            timetables = [AfterWorkdayTimetable]
    """

    name: str = ""
    timetables: list[Any] = []
    priority_weight_strategies: list[Any] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for part in _PLUGIN_PARTS:
            if getattr(cls, part, None):
                raise ImportError(
                    f"Airflow plugin {cls.__name__}: {part} is not supported by tradewind, which takes only a "
                    f"plugin's timetables and priority weight strategies (see {COMPATIBILITY_PAGE})"
                )


MODULES["airflow.plugins_manager"] = {"AirflowPlugin": AirflowPlugin}
# --- end of plugins' block
