"""The authoring layer: DAGs, operators, TaskFlow, task groups, mapping. Pure Python, no I/O."""

from tradewind.definitions.abstractoperator import AbstractOperator
from tradewind.definitions.baseoperator import BaseOperator
from tradewind.definitions.dag import DAG, dag
from tradewind.definitions.dependencies import chain, cross_downstream
from tradewind.definitions.mapping import MappedOperator
from tradewind.definitions.operators.bash import BashOperator
from tradewind.definitions.operators.empty import DummyOperator, EmptyOperator
from tradewind.definitions.operators.python import BranchPythonOperator, PythonOperator, ShortCircuitOperator
from tradewind.definitions.params import Param
from tradewind.definitions.states import DagRunState, TaskInstanceState, TriggerRule
from tradewind.definitions.taskflow import task
from tradewind.definitions.taskgroup import TaskGroup, task_group
from tradewind.definitions.xcom_arg import XComArg

__all__ = [
    "DAG",
    "AbstractOperator",
    "BaseOperator",
    "BashOperator",
    "BranchPythonOperator",
    "DagRunState",
    "DummyOperator",
    "EmptyOperator",
    "MappedOperator",
    "Param",
    "PythonOperator",
    "ShortCircuitOperator",
    "TaskGroup",
    "TaskInstanceState",
    "TriggerRule",
    "XComArg",
    "chain",
    "cross_downstream",
    "dag",
    "task",
    "task_group",
]
