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
    "BaseHook",
    "BaseOperator",
    "BashOperator",
    "BranchPythonOperator",
    "Connection",
    "DagDefinitionError",
    "DummyOperator",
    "EmptyOperator",
    "MappingError",
    "Param",
    "PythonOperator",
    "ShortCircuitOperator",
    "TaskFailedNoRetry",
    "TaskGroup",
    "TaskSkipped",
    "TradewindError",
    "TriggerRule",
    "Variable",
    "XComArg",
    "chain",
    "cross_downstream",
    "dag",
    "get_current_context",
    "task",
    "task_group",
]
