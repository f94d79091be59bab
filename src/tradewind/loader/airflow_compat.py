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


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "airflow" and not fullname.startswith("airflow."):
            return None
        if fullname not in MODULES:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: tradewind runs DAG files without Airflow installed and "
                f"provides only these airflow modules: {', '.join(sorted(m for m in MODULES if MODULES[m]))}",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__path__ = []
        module.__dict__.update(MODULES[module.__name__])


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
