"""tradewind: run Airflow-style DAGs, with dynamic DAGs and dynamic task mapping, fast and light.

>>> from tradewind import dag, task
"""

from tradewind.definitions import (
    DAG,
    BaseOperator,
    BashOperator,
    BranchPythonOperator,
    DummyOperator,
    EmptyOperator,
    Param,
    PythonOperator,
    ShortCircuitOperator,
    TaskGroup,
    TriggerRule,
    XComArg,
    chain,
    cross_downstream,
    dag,
    task,
    task_group,
)
from tradewind.definitions.connection import BaseHook, Connection
from tradewind.definitions.current_context import get_current_context
from tradewind.definitions.dependencies import chain_linear
from tradewind.definitions.edgemodifier import Label
from tradewind.definitions.operators.branch import BaseBranchOperator, LatestOnlyOperator
from tradewind.definitions.sensors import BaseSensorOperator, FileSensor, PokeReturnValue, PythonSensor
from tradewind.definitions.taskflow import setup, teardown
from tradewind.definitions.variable import Variable
from tradewind.errors import (
    DagDefinitionError,
    MappingError,
    TaskFailedNoRetry,
    TaskSkipped,
    TradewindError,
)

__version__ = "0.1.0"

__all__ = [
    "DAG",
    "BaseBranchOperator",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "BashOperator",
    "BranchPythonOperator",
    "Connection",
    "DagDefinitionError",
    "DummyOperator",
    "EmptyOperator",
    "FileSensor",
    "Label",
    "LatestOnlyOperator",
    "MappingError",
    "Param",
    "PokeReturnValue",
    "PythonOperator",
    "PythonSensor",
    "ShortCircuitOperator",
    "TaskFailedNoRetry",
    "TaskGroup",
    "TaskSkipped",
    "TradewindError",
    "TriggerRule",
    "Variable",
    "XComArg",
    "chain",
    "chain_linear",
    "cross_downstream",
    "dag",
    "get_current_context",
    "setup",
    "task",
    "task_group",
    "teardown",
]
