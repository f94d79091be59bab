"""Airflow's official client (apache-airflow-client) against a real `tradewind api-server` and
`tradewind scheduler`: a script written for Airflow 3 works unchanged."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).parents[2]
TRADEWIND = Path(sys.executable).with_name("tradewind")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    home = tmp_path / "home"
    (home / "dags").mkdir(parents=True)
    shutil.copy(REPO / "examples" / "dags" / "mapped_example_dag.py", home / "dags")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env["TRADEWIND_HOME"] = str(home)
    subprocess.run(
        [TRADEWIND, "users", "create", "-u", "ops", "-r", "op", "-p", "ops-password"], env=env, check=True, timeout=60
    )
    port = _free_port()
    out = (tmp_path / "server.log").open("w")
    children = [
        subprocess.Popen([TRADEWIND, "scheduler", "--parallelism", "2"], env=env, stdout=out, stderr=out),
        subprocess.Popen([TRADEWIND, "api-server", "--port", str(port)], env=env, stdout=out, stderr=out),
    ]
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(base + "/api/v2/monitor/health").json()["scheduler"]["status"] == "healthy"
        except httpx.HTTPError:
            return False

    try:
        _wait(up, "the API server and the scheduler")
        yield base
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        out.close()


@pytest.mark.slow
def test_the_official_airflow_client_drives_tradewind(server: str) -> None:
    import airflow_client.client as ac
    from airflow_client.client.api import dag_api, dag_run_api, task_instance_api
    from airflow_client.client.models import (
        ClearTaskInstancesBody,
        ClearTaskInstancesBodyTaskIdsInner,
        TriggerDAGRunPostBody,
    )

    token = httpx.post(server + "/auth/token", json={"username": "ops", "password": "ops-password"})
    assert token.status_code == 201
    config = ac.Configuration(host=server, access_token=token.json()["access_token"])
    with ac.ApiClient(config) as client:
        dags = dag_api.DAGApi(client)
        runs = dag_run_api.DagRunApi(client)
        tis = task_instance_api.TaskInstanceApi(client)
        dag_id = "mapped_example_dag"

        listed = _wait(lambda: dags.get_dags().dags, "the DAG processor to store the DAG")
        assert [d.dag_id for d in listed] == [dag_id]
        run = runs.trigger_dag_run(dag_id, TriggerDAGRunPostBody(logical_date=None, conf={}))
        assert run.state.value == "queued"
        run_id = run.dag_run_id

        def finished() -> Any:
            state = runs.get_dag_run(dag_id, run_id).state.value
            return state if state in ("success", "failed") else None

        assert _wait(finished, "the run to finish") == "success"

        mapped = tis.get_mapped_task_instances(dag_id, run_id, "process")
        assert [(t.map_index, t.state.value, t.try_number) for t in mapped.task_instances] == [
            (0, "success", 1),
            (1, "success", 1),
            (2, "success", 1),
        ]
        log = tis.get_log(dag_id, run_id, "process", 1, map_index=1)
        lines = [message.event for message in log.content.actual_instance]
        assert any(line.endswith("Processing: bar") for line in lines)
        assert not any("::tradewind-result::" in line for line in lines)

        body = ClearTaskInstancesBody(
            dry_run=False,
            only_failed=False,
            dag_run_id=run_id,
            task_ids=[ClearTaskInstancesBodyTaskIdsInner(["process", 1])],
        )
        cleared = tis.post_clear_task_instances(dag_id, body)
        assert [(t.task_id, t.map_index) for t in cleared.task_instances] == [("process", 1)]

        def ran_again() -> bool:
            one = tis.get_mapped_task_instance(dag_id, run_id, "process", 1)
            return one.try_number == 2 and one.state is not None and one.state.value == "success"

        _wait(ran_again, "map index 1 to run again")
        assert _wait(finished, "the run to finish again") == "success"
        assert [t.try_number for t in tis.get_mapped_task_instances(dag_id, run_id, "process").task_instances] == [
            1,
            2,
            1,
        ]
        second = tis.get_log(dag_id, run_id, "process", 2, map_index=1)
        assert any(m.event.endswith("Processing: bar") for m in second.content.actual_instance)

        # Variables and Connections, as a deployment script sets them up
        from airflow_client.client.api import connection_api, variable_api
        from airflow_client.client.models import BulkBodyVariableBody, ConnectionBody, VariableBody

        variables = variable_api.VariableApi(client)
        created = variables.post_variable(VariableBody(key="api_token", value="t-123", description="for the vendor"))
        assert (created.key, created.value, created.description) == ("api_token", "***", "for the vendor")
        variables.patch_variable("api_token", VariableBody(key="api_token", value="t-456"), update_mask=["value"])
        assert [v.key for v in variables.get_variables(variable_key_pattern="token").variables] == ["api_token"]
        bulk = BulkBodyVariableBody.from_dict({"actions": [{"action": "delete", "entities": ["api_token", "none"]}]})
        assert variables.bulk_variables(bulk).delete.errors[0]["status_code"] == 404

        connections = connection_api.ConnectionApi(client)
        body = ConnectionBody(connection_id="vendor", conn_type="http", host="api.vendor", password="pw", port=443)
        assert connections.post_connection(body).password == "***"
        got = connections.get_connection("vendor")
        assert (got.conn_type, got.host, got.port, got.var_schema, got.password) == (
            "http",
            "api.vendor",
            443,
            None,
            "***",
        )
        assert [c.connection_id for c in connections.get_connections().connections] == ["vendor"]
        connections.delete_connection("vendor")
