"""Generated input against our own OpenAPI schema (schemathesis, valid and invalid input): whatever
a caller sends to any operation, with a valid admin token, the answer is never a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from conftest import Api
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

EXAMPLES = 8  # per operation and mode: about 400 calls in all


@pytest.mark.slow
def test_no_generated_input_makes_a_server_error(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v2/openapi.json", api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    headers = api.headers("admin")
    seen: list[int] = []

    for operation, mode in [(o, m) for o in operations for m in GenerationMode]:

        @given(case=operation.as_strategy(mode))
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
