"""The operations that change state, shared by every front end (CLI, REST API, web UI) so each
stays thin: trigger, pause, clear, set a run's state. See docs/adr/0010-api-ui-and-auth.md."""

from __future__ import annotations

from tradewind.control.errors import Conflict, ControlError, InvalidRequest, NotFound
from tradewind.control.operations import (
    PATCHABLE_RUN_STATES,
    ClearedInstance,
    clear_task_instances,
    get_serialized_dag,
    set_paused,
    set_run_state,
    trigger_run,
)
from tradewind.control.pools import create_pool, delete_pool, update_pool

__all__ = [
    "PATCHABLE_RUN_STATES",
    "ClearedInstance",
    "Conflict",
    "ControlError",
    "InvalidRequest",
    "NotFound",
    "clear_task_instances",
    "create_pool",
    "delete_pool",
    "get_serialized_dag",
    "set_paused",
    "set_run_state",
    "trigger_run",
    "update_pool",
]
