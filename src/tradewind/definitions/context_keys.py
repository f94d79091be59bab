"""The names of the template context a task function may declare as parameters.

``@task`` fills such a parameter from the context when the call does not pass it, so Airflow
makes it optional at call time (``def report(sql, data_interval_end): ...`` called as
``report(sql="q.sql")``); tradewind does the same.
"""

from __future__ import annotations

import inspect

CONTEXT_KEYS = frozenset(
    {
        "conf",
        "conn",
        "dag",
        "dag_run",
        "data_interval_end",
        "data_interval_start",
        "ds",
        "ds_nodash",
        "execution_date",
        "expanded_ti_count",
        "inlet_events",
        "inlets",
        "logical_date",
        "macros",
        "map_index_template",
        "outlet_events",
        "outlets",
        "params",
        "prev_data_interval_end_success",
        "prev_data_interval_start_success",
        "prev_end_date_success",
        "prev_start_date_success",
        "run_id",
        "start_date",
        "task",
        "task_instance",
        "task_instance_key_str",
        "templates_dict",
        "test_mode",
        "ti",
        "triggering_asset_events",
        "try_number",
        "ts",
        "ts_nodash",
        "ts_nodash_with_tz",
        "var",
    }
)


def with_optional_context_keys(signature: inspect.Signature) -> inspect.Signature:
    """``signature`` with a default of None for each parameter named after a context key."""
    parameters = [
        p.replace(default=None)
        if p.name in CONTEXT_KEYS
        and p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        else p
        for p in signature.parameters.values()
    ]
    try:
        return signature.replace(parameters=parameters)
    except ValueError:  # a parameter without a default after one that now has one: keep it as written
        return signature
