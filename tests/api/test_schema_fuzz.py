"""Generated input against our own OpenAPI schema (schemathesis, valid and invalid input): whatever
a caller sends to any operation, with a valid admin token, the answer is never a server error."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from apikit import Api
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

EXAMPLES = 6  # per operation and way: about 450 calls in all
KNOWN = {
    "dag_id": "api_dag",
    "dag_run_id": "run_1",
    "task_id": "check",
    "map_index": 1,
    "try_number": 1,
    "xcom_key": "return_value",
    "pool_name": "default_pool",
    "import_error_id": 1,
    "variable_key": "fuzz_variable",
    "connection_id": "fuzz_connection",
    "asset_id": 1,
}


@pytest.mark.slow
def test_no_generated_input_makes_a_server_error(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v2/openapi.json", api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    headers = api.headers("admin")
    seen: list[int] = []
    api.client.post("/api/v2/variables", json={"key": KNOWN["variable_key"], "value": "v"}, headers=headers)
    api.client.post(
        "/api/v2/connections", json={"connection_id": KNOWN["connection_id"], "conn_type": "http"}, headers=headers
    )

    runs: list[tuple[Any, GenerationMode, dict[str, Any] | None]] = []
    for operation in operations:
        names = re.findall(r"{(\w+)}", operation.path)
        runs.append((operation, GenerationMode.POSITIVE, None))
        runs.append((operation, GenerationMode.NEGATIVE, None))
        if names:  # the store's own ids, so the input reaches past the lookups
            runs.append((operation, GenerationMode.POSITIVE, {name: KNOWN[name] for name in names}))

    for operation, mode, path_parameters in runs:

        @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            seen.append(response.status_code)
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert "detail" in response.json(), where  # every refusal says why, as JSON

        try:
            check()
        except Unsatisfiable:  # an operation with no invalid input to make (no parameters)
            assert mode is GenerationMode.NEGATIVE
    assert len(seen) >= len(operations) * 2 * 3  # some operations have few distinct inputs
    # the token was sent: most generated input reached the handlers (401: bad logins, mangled headers)
    assert seen.count(401) < len(seen) // 4 and seen.count(200) >= len(operations)
