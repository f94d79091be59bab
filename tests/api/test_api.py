"""The REST API on a real store, through FastAPI's test client: what a script calling Airflow's
API v2 sees (status codes, JSON fields, error bodies)."""

from __future__ import annotations

from typing import Any

import pytest
from apikit import Api

RUNS = "/api/v2/dags/api_dag/dagRuns"
TIS = RUNS + "/run_1/taskInstances"


def json_of(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


# --- login and tokens ------------------------------------------------------------------------


def test_a_token_comes_from_username_and_password_as_json_or_form(api: Api) -> None:
    token = json_of(api.client.post("/auth/token", json={"username": "op_user", "password": "op-password"}), 201)
    got = api.client.get("/api/v2/dags", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert got.status_code == 200
    form = api.client.post("/auth/token", data={"username": "op_user", "password": "op-password"})
    assert form.status_code == 201 and form.json()["access_token"]


@pytest.mark.parametrize(
    ("kwargs", "code", "detail"),
    [
        ({"json": {"username": "op_user", "password": "wrong"}}, 401, "Invalid credentials"),
        ({"json": {"username": "nobody", "password": "op-password"}}, 401, "Invalid credentials"),
        ({"json": {"username": "", "password": ""}}, 400, "Username and password must be provided"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"x", "headers": {"content-type": "text/plain"}}, 415, "Unsupported Media Type"),
    ],
)
def test_bad_logins_get_no_token(api: Api, kwargs: dict[str, Any], code: int, detail: str) -> None:
    assert detail in json_of(api.client.post("/auth/token", **kwargs), code)["detail"]


def test_a_login_without_a_password_field_is_a_422(api: Api) -> None:
    body = json_of(api.client.post("/auth/token", json={"username": "op_user"}), 422)
    assert body["detail"][0]["loc"][-1] == "password"


def _api_paths(api: Api) -> list[tuple[str, str]]:
    found = []
    for path, operations in api.client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method in operations:
            found.append((method.upper(), path.replace("{", "").replace("}", "")))
    return found


def test_anonymous_callers_get_401_everywhere_but_login_health_and_version(api: Api) -> None:
    seen = {}
    for method, path in _api_paths(api):
        response = api.client.request(method, path, json={})
        seen[(method, path)] = response.status_code
    open_ones = {key for key, code in seen.items() if code != 401}
    # as in Airflow, whose client sends no token to health and version
    assert open_ones == {("POST", "/auth/token"), ("GET", "/api/v2/monitor/health"), ("GET", "/api/v2/version")}
    assert len(seen) >= 20


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bearer x.y.z"])
def test_bad_tokens_are_401_with_a_reason(api: Api, header: str) -> None:
    response = api.client.get("/api/v2/dags", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_viewer_reads_but_may_not_act(api: Api) -> None:
    assert api.get("/api/v2/dags/api_dag", role="viewer").status_code == 200
    refused = api.client.patch("/api/v2/dags/api_dag", json={"is_paused": True}, headers=api.headers("viewer"))
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Forbidden: role 'viewer' may not act"}
    refused = api.client.post(RUNS, json={"conf": {}}, headers=api.headers("viewer"))
    assert refused.status_code == 403
    assert api.get(RUNS + "/run_1").json()["state"] == "failed"  # nothing changed


def test_tokens_die_with_their_user_and_with_a_new_password(api: Api) -> None:
    from tradewind.auth import create_user, delete_user, issue_token, reset_password, secret_key
    from tradewind.store.engine import session_scope

    with session_scope(api.engine) as session:
        user = create_user(session, "temp_user", "temp-password", "op")
        secret = secret_key(session)
    token = {"Authorization": f"Bearer {issue_token(user, secret)}"}
    assert api.client.get("/api/v2/dags", headers=token).status_code == 200
    import time

    time.sleep(1.1)  # token times are in whole seconds
    with session_scope(api.engine) as session:
        reset_password(session, "temp_user", "other-password")
    assert "password changed" in json_of(api.client.get("/api/v2/dags", headers=token), 401)["detail"]
    with session_scope(api.engine) as session:
        fresh = {"Authorization": f"Bearer {issue_token(user, secret)}"}
        delete_user(session, "temp_user")
    assert "no longer exists" in json_of(api.client.get("/api/v2/dags", headers=fresh), 401)["detail"]


# --- monitor ---------------------------------------------------------------------------------


def test_health_needs_no_token_and_says_no_scheduler_runs(api: Api) -> None:
    health = json_of(api.client.get("/api/v2/monitor/health"))
    assert health["metadatabase"] == {"status": "healthy"}
    assert health["scheduler"]["status"] == "unhealthy"  # the test's scheduler has stopped (no lease)


def test_version(api: Api) -> None:
    import tradewind

    assert json_of(api.get("/api/v2/version")) == {"version": tradewind.__version__, "git_version": None}


# --- DAGs ------------------------------------------------------------------------------------


def test_dags_are_listed_with_airflows_fields(api: Api) -> None:
    body = json_of(api.get("/api/v2/dags"))
    assert [d["dag_id"] for d in body["dags"]] == ["api_dag", "mapped_example_dag"]
    assert body["total_entries"] == 2
    dag = body["dags"][0]
    assert dag["tags"] == [
        {"name": "api", "dag_id": "api_dag", "dag_display_name": "api_dag"},
        {"name": "demo", "dag_id": "api_dag", "dag_display_name": "api_dag"},
    ]
    assert (dag["is_paused"], dag["is_stale"], dag["timetable_summary"]) == (False, False, "None")
    assert dag["fileloc"].endswith("api_dag.py")
    assert body["dags"][1]["timetable_summary"] == "@daily" and body["dags"][1]["timetable_periodic"] is True


@pytest.mark.parametrize(
    ("query", "ids", "total"),
    [
        ("tags=demo", ["api_dag"], 1),
        ("tags=demo&tags=nope&tags_match_mode=all", [], 0),
        ("tags=demo&tags=nope", ["api_dag"], 1),
        ("dag_id_pattern=MAPPED", ["mapped_example_dag"], 1),
        ("dag_id_prefix_pattern=api", ["api_dag"], 1),
        ("dag_id_pattern=%25", [], 0),  # % is matched literally
        ("limit=1", ["api_dag"], 2),
        ("limit=1&offset=1", ["mapped_example_dag"], 2),
        ("order_by=-dag_id", ["mapped_example_dag", "api_dag"], 2),
        ("paused=true", [], 0),
        ("limit=100000000000000000000000", ["api_dag", "mapped_example_dag"], 2),  # cut to the maximum
    ],
)
def test_dag_list_filters_and_pages(api: Api, query: str, ids: list[str], total: int) -> None:
    body = json_of(api.get(f"/api/v2/dags?{query}"))
    assert ([d["dag_id"] for d in body["dags"]], body["total_entries"]) == (ids, total)


@pytest.mark.parametrize(
    ("query", "code", "detail"),
    [
        ("limit=-1", 422, "greater than or equal to 0"),
        ("offset=99999999999999999999", 422, "less than or equal to"),
        ("limit=ten", 422, "valid integer"),
        ("paused=maybe", 422, "valid boolean"),
        ("order_by=fileloc", 400, "order_by 'fileloc' is not allowed"),
        ("tags_match_mode=some", 422, "'any' or 'all'"),
    ],
)
def test_bad_list_arguments_are_4xx_with_json(api: Api, query: str, code: int, detail: str) -> None:
    assert detail in str(json_of(api.get(f"/api/v2/dags?{query}"), code)["detail"])


def test_one_dag_its_details_and_tasks(api: Api) -> None:
    assert json_of(api.get("/api/v2/dags/api_dag"))["dag_id"] == "api_dag"
    assert json_of(api.get("/api/v2/dags/nope"), 404) == {"detail": "Dag with id nope was not found"}
    details = json_of(api.get("/api/v2/dags/api_dag/details"))
    assert details["params"]["n"]["value"] == 3
    assert details["params"]["n"]["schema"] == {"type": "integer"}
    assert (details["catchup"], details["latest_dag_version"]["version_number"]) == (False, 1)
    tasks = json_of(api.get("/api/v2/dags/api_dag/tasks"))
    assert [(t["task_id"], t["is_mapped"], t["downstream_task_ids"]) for t in tasks["tasks"]] == [
        ("check", True, []),
        ("numbers", False, ["check"]),
    ]
    assert json_of(api.get("/api/v2/dags/api_dag/tasks/check"))["operator_name"]
    assert json_of(api.get("/api/v2/dags/api_dag/tasks/nope"), 404)["detail"] == "Task with id nope was not found"


def test_pausing_and_unpausing_a_dag(api: Api) -> None:
    patch = api.client.patch
    paused = json_of(patch("/api/v2/dags/mapped_example_dag", json={"is_paused": True}, headers=api.headers("op")))
    assert paused["is_paused"] is True
    assert [d["dag_id"] for d in api.get("/api/v2/dags?paused=true").json()["dags"]] == ["mapped_example_dag"]
    unpaused = patch("/api/v2/dags/mapped_example_dag", json={"is_paused": False}, headers=api.headers("op"))
    assert json_of(unpaused)["is_paused"] is False
    assert json_of(patch("/api/v2/dags/nope", json={"is_paused": True}, headers=api.headers()), 404)["detail"]
    wrong = patch("/api/v2/dags/api_dag", json={"is_paused": "sometimes"}, headers=api.headers())
    assert json_of(wrong, 422)["detail"][0]["loc"] == ["body", "is_paused"]
    extra = patch("/api/v2/dags/api_dag", json={"is_paused": True, "owner": "x"}, headers=api.headers())
    assert json_of(extra, 422)["detail"][0]["loc"] == ["body", "owner"]
    assert api.get("/api/v2/dags/api_dag").json()["is_paused"] is False


# --- runs ------------------------------------------------------------------------------------


def test_runs_of_a_dag(api: Api) -> None:
    body = json_of(api.get(RUNS + "?order_by=dag_run_id&run_id_pattern=run_"))
    assert [r["dag_run_id"] for r in body["dag_runs"]] == ["run_1", "run_2"]
    runs = {r["dag_run_id"]: r for r in body["dag_runs"]}
    assert runs["run_1"]["state"] == "failed" and runs["run_1"]["run_type"] == "manual"
    assert runs["run_1"]["dag_versions"][0]["version_number"] == 1
    assert runs["run_1"]["duration"] > 0
    assert json_of(api.get(RUNS + "/run_1"))["conf"] == {}
    missing = json_of(api.get(RUNS + "/nope"), 404)
    assert missing == {"detail": "The DagRun with dag_id: `api_dag` and run_id: `nope` was not found"}
    assert json_of(api.get("/api/v2/dags/nope/dagRuns"), 404)["detail"] == "The Dag with ID: `nope` was not found"
    assert json_of(api.get(RUNS + "?state=exploded"), 400)["detail"].startswith("Invalid value for state")
    every = json_of(api.get("/api/v2/dags/~/dagRuns?run_id_pattern=run_"))
    assert {r["dag_run_id"] for r in every["dag_runs"]} >= {"run_1", "run_2"}


def test_triggering_a_run_with_conf_and_logical_date(api: Api) -> None:
    body = {"dag_run_id": "triggered_1", "logical_date": "2025-03-01T00:00:00Z", "conf": {"n": 5}}
    run = json_of(api.client.post(RUNS, json=body, headers=api.headers("op")))
    assert (run["dag_run_id"], run["state"], run["conf"]) == ("triggered_1", "queued", {"n": 5})
    assert run["logical_date"] == "2025-03-01T00:00:00+00:00"
    again = api.client.post(RUNS, json=body, headers=api.headers("op"))
    assert "already has a run with run_id 'triggered_1'" in json_of(again, 409)["detail"]
    generated = json_of(api.client.post(RUNS, json={"logical_date": None}, headers=api.headers("op")))
    assert generated["dag_run_id"].startswith("manual__")


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ({"conf": {"n": "five"}}, 400, 'param \'n\': value "five" breaks type="integer"'),
        ({"conf": [1, 2]}, 422, "valid dictionary"),
        ({"conf": '{"n": 1'}, 422, "valid dictionary"),
        ({"logical_date": "yesterday"}, 422, "valid datetime"),
        ({"dag_run_id": ""}, 422, "at least 1 character"),
        ({"dag_run_id": "bad\u0007id"}, 400, "control character"),
        ({"note": "hello"}, 400, "does not store notes"),
        ({"data_interval_start": "2025-01-01T00:00:00Z"}, 400, "not supported"),
        ({"color": "red"}, 422, "Extra inputs are not permitted"),
    ],
)
def test_bad_triggers_are_refused_and_create_nothing(api: Api, body: dict[str, Any], code: int, detail: str) -> None:
    before = api.get(RUNS).json()["total_entries"]
    assert detail in str(json_of(api.client.post(RUNS, json=body, headers=api.headers("op")), code)["detail"])
    assert api.get(RUNS).json()["total_entries"] == before


def test_triggering_an_unknown_dag_is_404(api: Api) -> None:
    response = api.client.post("/api/v2/dags/nope/dagRuns", json={}, headers=api.headers("op"))
    assert "DAG 'nope' not found" in json_of(response, 404)["detail"]


# --- task instances --------------------------------------------------------------------------


def test_task_instances_of_a_run_mapped_ones_included(api: Api) -> None:
    body = json_of(api.get(TIS))
    assert [(t["task_id"], t["map_index"], t["state"]) for t in body["task_instances"]] == [
        ("check", 0, "success"),
        ("check", 1, "failed"),
        ("check", 2, "success"),
        ("numbers", -1, "success"),
    ]
    assert body["total_entries"] == 4
    first = body["task_instances"][0]
    assert (first["rendered_map_index"], first["try_number"], first["pool"]) == ("item 0", 1, "default_pool")
    assert first["dag_version"]["version_number"] == 1


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("state=failed", [("check", 1)]),
        ("state=failed&state=success&task_id=check", [("check", 0), ("check", 1), ("check", 2)]),
        ("task_id=numbers", [("numbers", -1)]),
        ("map_index=2", [("check", 2)]),
        ("map_index=0&map_index=2&limit=1&offset=1", [("check", 2)]),
        ("state=none", []),
    ],
)
def test_task_instance_filters(api: Api, query: str, found: list[tuple[str, int]]) -> None:
    body = json_of(api.get(f"{TIS}?{query}"))
    assert [(t["task_id"], t["map_index"]) for t in body["task_instances"]] == found


def test_mapped_instances_one_at_a_time(api: Api) -> None:
    mapped = json_of(api.get(TIS + "/check/listMapped?state=failed"))
    assert [(t["map_index"], t["state"]) for t in mapped["task_instances"]] == [(1, "failed")]
    assert json_of(api.get(TIS + "/check/listMapped"))["total_entries"] == 3
    assert json_of(api.get(TIS + "/nope/listMapped"), 404)["detail"] == "Task id nope not found"
    one = json_of(api.get(TIS + "/check/1"))
    assert (one["state"], one["map_index"], one["max_tries"]) == ("failed", 1, 0)
    assert json_of(api.get(TIS + "/check"), 404)["detail"] == (
        "Task instance is mapped, add the map_index value to the URL"
    )
    assert json_of(api.get(TIS + "/numbers"))["state"] == "success"
    assert "map_index: `7`" in json_of(api.get(TIS + "/check/7"), 404)["detail"]
    assert json_of(api.get(TIS + "/check/-5"), 422)["detail"][0]["loc"] == ["path", "map_index"]
    assert json_of(api.get(TIS + "?state=melted"), 400)["detail"].startswith("Invalid value for state")
    assert "map_index must be between" in json_of(api.get(TIS + "?map_index=9223372036854775808"), 422)["detail"]


def test_tries_of_a_mapped_instance(api: Api) -> None:
    tries = json_of(api.get(TIS + "/check/1/tries"))
    assert [(t["try_number"], t["state"]) for t in tries["task_instances"]] == [(1, "failed")]
    assert json_of(api.get(TIS + "/numbers/tries"))["task_instances"][0]["state"] == "success"


def test_a_log_by_try_without_the_internal_result_line(api: Api) -> None:
    body = json_of(api.get(TIS + "/check/logs/1?map_index=1"))
    events = [line["event"] for line in body["content"]]
    text = "\n".join(events)
    assert "checking 1" in text and "ValueError: one is odd" in text
    assert "::tradewind-result::" not in text
    said = next(line for line in body["content"] if line["event"] == "checking 1")
    assert (said["level"], said["logger"]) == ("info", "check[1]")
    assert said["timestamp"].endswith("Z")
    last = body["content"][-1]
    assert (last["event"], last["level"]) == ("ValueError: one is odd", "error")  # the traceback's end
    follow = json_of(api.get(TIS + f"/check/logs/1?map_index=1&token={body['continuation_token']}"))
    assert follow["content"] == []  # nothing written since
    assert json_of(api.get(TIS + "/check/logs/1?map_index=1&full_content=true"))["content"] == body["content"]
    assert "No log for try 2" in json_of(api.get(TIS + "/check/logs/2?map_index=1"), 404)["detail"]
    assert json_of(api.get(TIS + "/check/logs/1?map_index=1&token=../../x"), 400)["detail"].startswith("Bad")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "[2026-01-02T03:04:05.678Z] {load[7]} WARNING - disk  nearly full",
            {
                "timestamp": "2026-01-02T03:04:05.678Z",
                "event": "disk  nearly full",
                "level": "warning",
                "logger": "load[7]",
            },
        ),
        (
            "[2026-01-02T03:04:05.678Z] {t} ERROR -   File 'x', line 1",
            {"timestamp": "2026-01-02T03:04:05.678Z", "event": "  File 'x', line 1", "level": "error", "logger": "t"},
        ),
        ("a line the task wrote without a prefix", {"event": "a line the task wrote without a prefix"}),
        ("[not a time] {t} INFO - x", {"event": "[not a time] {t} INFO - x"}),
    ],
)
def test_log_lines_become_structured_messages(line: str, message: dict[str, str]) -> None:
    from tradewind.api.routes.logs import structured_log_line

    assert structured_log_line(line) == message


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/dags/..%2F..%2F..%2Fetc/dagRuns/run_1/taskInstances/check/logs/1",
        "/api/v2/dags/api_dag/dagRuns/..%2F..%2Fsecret/taskInstances/check/logs/1?map_index=1",
        "/api/v2/dags/api_dag/dagRuns/run_1/taskInstances/..%2F..%2F..%2Fsecret/logs/1",
        "/api/v2/dags/api_dag/dagRuns/run_1/taskInstances/%2E%2E/logs/1",
    ],
)
def test_ids_that_climb_out_read_nothing(api: Api, path: str) -> None:
    secret = api.home / "secret" / "attempt=1.log"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("TOP SECRET\n")
    response = api.get(path)
    assert response.status_code == 404
    assert "TOP SECRET" not in response.text


def test_xcom_entries_and_values(api: Api) -> None:
    entries = json_of(api.get(TIS + "/check/xcomEntries"))
    assert [(e["map_index"], e["key"]) for e in entries["xcom_entries"]] == [(0, "return_value"), (2, "return_value")]
    value = json_of(api.get(TIS + "/check/xcomEntries/return_value?map_index=2"))
    assert (value["value"], value["task_id"], value["run_id"]) == (20, "check", "run_1")
    assert json_of(api.get(TIS + "/numbers/xcomEntries/return_value"))["value"] == [0, 1, 2]
    assert json_of(api.get(TIS + "/numbers/xcomEntries/return_value?stringify=true"))["value"] == "[0, 1, 2]"
    missing = json_of(api.get(TIS + "/check/xcomEntries/return_value?map_index=1"), 404)
    assert missing == {"detail": "XCom entry with key: `return_value` not found"}


# --- clearing and run state -----------------------------------------------------------------

CLEAR = "/api/v2/dags/api_dag/clearTaskInstances"


def test_clearing_one_map_index_dry_run_then_for_real_and_it_runs_again(api: Api) -> None:
    body: dict[str, Any] = {"dag_run_id": "run_2", "task_ids": [["check", 1]], "only_failed": False}
    dry = json_of(api.client.post(CLEAR, json=body, headers=api.headers("op")))
    assert [(t["task_id"], t["map_index"], t["state"]) for t in dry["task_instances"]] == [("check", 1, "failed")]
    assert api.get(RUNS + "/run_2").json()["state"] == "failed"  # a dry run changes nothing
    done = json_of(api.client.post(CLEAR, json={**body, "dry_run": False}, headers=api.headers("op")))
    assert [(t["map_index"], t["state"]) for t in done["task_instances"]] == [(1, None)]
    assert api.get(RUNS + "/run_2").json()["state"] == "queued"
    api.run_scheduler()
    again = json_of(api.get(RUNS + "/run_2/taskInstances/check/1"))
    assert (again["state"], again["try_number"]) == ("failed", 2)
    others = json_of(api.get(RUNS + "/run_2/taskInstances/check/0"))
    assert others["try_number"] == 1
    tries = json_of(api.get(RUNS + "/run_2/taskInstances/check/1/tries"))
    assert [(t["try_number"], t["state"]) for t in tries["task_instances"]] == [(1, "failed"), (2, "failed")]


def test_clear_only_failed_by_default_across_finished_runs(api: Api) -> None:
    dry = json_of(api.client.post(CLEAR, json={"task_ids": ["check"]}, headers=api.headers("op")))
    assert {(t["dag_run_id"], t["map_index"]) for t in dry["task_instances"]} >= {("run_1", 1)}
    assert {t["state"] for t in dry["task_instances"]} == {"failed"}


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ({"task_ids": ["chek"]}, 400, "DAG 'api_dag' has no task 'chek'; did you mean 'check'?"),
        ({"dag_run_id": "nope"}, 404, "has no run with run_id 'nope'"),
        ({"include_past": True}, 400, "not supported by tradewind: include_past"),
        ({"task_ids": [["check", "one"]]}, 422, "task_ids"),
        ({"dry_run": "perhaps"}, 422, "valid boolean"),
    ],
)
def test_bad_clears(api: Api, body: dict[str, Any], code: int, detail: str) -> None:
    assert detail in str(json_of(api.client.post(CLEAR, json=body, headers=api.headers("op")), code)["detail"])


def test_clearing_an_unknown_dag_is_404(api: Api) -> None:
    response = api.client.post("/api/v2/dags/nope/clearTaskInstances", json={}, headers=api.headers("op"))
    assert json_of(response, 404)["detail"].startswith("DAG 'nope' not found")


def test_setting_a_finished_runs_state(api: Api) -> None:
    api.client.post(RUNS, json={"dag_run_id": "to_mark"}, headers=api.headers("op"))
    marked = api.client.patch(RUNS + "/to_mark", json={"state": "failed"}, headers=api.headers("op"))
    assert json_of(marked)["state"] == "failed"
    marked = api.client.patch(RUNS + "/to_mark", json={"state": "success"}, headers=api.headers("op"))
    assert json_of(marked)["state"] == "success"
    wrong = api.client.patch(RUNS + "/to_mark", json={"state": "running"}, headers=api.headers("op"))
    assert json_of(wrong, 400)["detail"] == "state must be one of queued, success, failed, got 'running'"
    missing = api.client.patch(RUNS + "/nope", json={"state": "failed"}, headers=api.headers("op"))
    assert json_of(missing, 404)["detail"] == "DAG 'api_dag' has no run with run_id 'nope'"
    queued = api.client.patch(RUNS + "/to_mark", json={"state": "queued"}, headers=api.headers("op"))
    assert json_of(queued)["state"] == "queued" and queued.json()["end_date"] is None


# --- import errors and pools ----------------------------------------------------------------


def test_import_errors_are_listed(api: Api) -> None:
    body = json_of(api.get("/api/v2/importErrors"))
    assert body["total_entries"] == 1
    error = body["import_errors"][0]
    assert error["filename"].endswith("broken.py")
    assert "nothing_here_at_all" in error["stack_trace"]
    one = json_of(api.get(f"/api/v2/importErrors/{error['import_error_id']}"))
    assert one == error
    assert json_of(api.get("/api/v2/importErrors/99999"), 404)["detail"].endswith("was not found")
    assert json_of(api.get("/api/v2/importErrors/abc"), 422)["detail"][0]["loc"] == ["path", "import_error_id"]
    assert json_of(api.get("/api/v2/dags/api_dag"))["has_import_errors"] is False


def test_pools(api: Api) -> None:
    body = json_of(api.get("/api/v2/pools"))
    assert [(p["name"], p["slots"], p["open_slots"], p["running_slots"]) for p in body["pools"]] == [
        ("default_pool", 128, 128, 0)
    ]
    assert json_of(api.get("/api/v2/pools/default_pool"))["name"] == "default_pool"
    assert json_of(api.get("/api/v2/pools/nope"), 404)["detail"] == "The Pool with name: `nope` was not found"


def test_pools_are_created_changed_and_deleted(api: Api) -> None:
    headers = api.headers("op")
    created = api.client.post(
        "/api/v2/pools", json={"name": "gpu", "slots": 2, "description": "cards"}, headers=headers
    )
    assert (json_of(created, 201)["name"], created.json()["slots"], created.json()["open_slots"]) == ("gpu", 2, 2)
    again = api.client.post("/api/v2/pools", json={"name": "gpu", "slots": 3}, headers=headers)
    assert "already exists" in json_of(again, 409)["detail"]
    changed = api.client.patch("/api/v2/pools/gpu", json={"slots": 4}, headers=headers)
    assert (json_of(changed)["slots"], changed.json()["description"]) == (4, "cards")
    assert json_of(api.client.patch("/api/v2/pools/gone", json={"slots": 1}, headers=headers), 404)["detail"]
    unlimited = api.client.patch("/api/v2/pools/gpu", json={"slots": -1}, headers=headers)
    assert "no unlimited pools" in json_of(unlimited, 400)["detail"]
    deferred = api.client.post(
        "/api/v2/pools", json={"name": "d", "slots": 1, "include_deferred": True}, headers=headers
    )
    assert json_of(deferred, 400)["detail"] == "include_deferred: tradewind has no deferred tasks"
    refused = api.client.post("/api/v2/pools", json={"name": "v", "slots": 1}, headers=api.headers("viewer"))
    assert refused.status_code == 403
    assert api.client.delete("/api/v2/pools/gpu", headers=headers).status_code == 204
    assert json_of(api.client.delete("/api/v2/pools/gpu", headers=headers), 404)["detail"].endswith("was not found")
    kept = api.client.delete("/api/v2/pools/default_pool", headers=headers)
    assert json_of(kept, 400)["detail"] == "Default Pool can't be deleted"
    assert [p["name"] for p in api.get("/api/v2/pools").json()["pools"]] == ["default_pool"]


def test_a_run_the_scheduler_is_running_is_left_to_it(api: Api) -> None:
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    api.client.post(RUNS, json={"dag_run_id": "busy"}, headers=api.headers("op"))
    with session_scope(api.engine) as session:  # as the scheduler marks a run it took on
        q.update_dag_run(session, "api_dag", "busy", state="running")
    cleared = api.client.post(CLEAR, json={"dag_run_id": "busy", "only_failed": False}, headers=api.headers("op"))
    assert "is running: clear it once it has finished" in json_of(cleared, 409)["detail"]
    marked = api.client.patch(RUNS + "/busy", json={"state": "failed"}, headers=api.headers("op"))
    assert "is running and the scheduler owns its state" in json_of(marked, 409)["detail"]
    assert api.get(RUNS + "/busy").json()["state"] == "running"
    every = json_of(api.client.post(CLEAR, json={"only_failed": False}, headers=api.headers("op")))
    assert "busy" not in {t["dag_run_id"] for t in every["task_instances"]}  # skipped, not refused


def test_tilde_lists_instances_of_every_run(api: Api) -> None:
    failed = json_of(api.get("/api/v2/dags/api_dag/dagRuns/~/taskInstances?state=failed&task_id=check"))
    assert {(t["dag_run_id"], t["map_index"]) for t in failed["task_instances"]} >= {("run_1", 1), ("run_2", 1)}
    assert all(t["state"] == "failed" for t in failed["task_instances"])
    every = json_of(api.get("/api/v2/dags/~/dagRuns/~/taskInstances?map_index=1&limit=1"))
    assert len(every["task_instances"]) == 1 and every["total_entries"] >= 2
    assert json_of(api.get("/api/v2/dags/nope/dagRuns/~/taskInstances"), 404)["detail"].startswith("The Dag with ID")


def test_clearing_a_whole_run(api: Api) -> None:
    api.client.post(RUNS, json={"dag_run_id": "whole"}, headers=api.headers("op"))
    api.client.patch(RUNS + "/whole", json={"state": "failed"}, headers=api.headers("op"))
    url = RUNS + "/whole/clear"
    dry = json_of(api.client.post(url, json={}, headers=api.headers("op")))
    assert dry == {"task_instances": [], "total_entries": 0}  # it never ran: nothing to clear
    run = json_of(
        api.client.post(RUNS + "/run_1/clear", json={"dry_run": True, "only_failed": True}, headers=api.headers("op"))
    )
    assert [(t["task_id"], t["map_index"]) for t in run["task_instances"]] == [("check", 1)]
    assert api.get(RUNS + "/run_1").json()["state"] == "failed"
    refused = api.client.post(url, json={"only_new": True}, headers=api.headers("op"))
    assert json_of(refused, 400)["detail"] == "not supported by tradewind: only_new"
    assert api.client.post(RUNS + "/nope/clear", json={}, headers=api.headers("op")).status_code == 404
    assert api.client.post(url, json={}, headers=api.headers("viewer")).status_code == 403
    done = api.client.post(
        RUNS + "/run_1/clear", json={"dry_run": False, "only_failed": True}, headers=api.headers("op")
    )
    assert (json_of(done)["dag_run_id"], done.json()["state"]) == ("run_1", "queued")
    assert api.get(TIS + "/check/1").json()["state"] is None
    assert api.get(TIS + "/check/0").json()["state"] == "success"  # only the failed one


def test_the_api_never_imports_the_dag_file(api: Api) -> None:
    import os

    for method, path in _api_paths(api):
        if method == "GET":
            api.get(path.replace("dag_id", "api_dag").replace("dag_run_id", "run_1").replace("task_id", "check"))
    importers = (api.dags / "api_dag.py.imported-by").read_text().split()
    assert importers  # the DAG processor's child and the workers did
    assert str(os.getpid()) not in importers


def test_pausing_the_dags_a_filter_selects(api: Api) -> None:
    patch = api.client.patch
    paused = json_of(patch("/api/v2/dags?dag_id_pattern=mapped", json={"is_paused": True}, headers=api.headers("op")))
    assert [(d["dag_id"], d["is_paused"]) for d in paused["dags"]] == [("mapped_example_dag", True)]
    assert api.get("/api/v2/dags/api_dag").json()["is_paused"] is False
    everything = json_of(patch("/api/v2/dags", json={"is_paused": False}, headers=api.headers("op")))
    assert {d["is_paused"] for d in everything["dags"]} == {False} and everything["total_entries"] == 2
    assert patch("/api/v2/dags", json={"is_paused": True}, headers=api.headers("viewer")).status_code == 403


def test_a_viewer_gets_403_from_every_route_that_changes_something(api: Api) -> None:
    changing = [(m, p) for m, p in _api_paths(api) if m != "GET" and p != "/auth/token"]
    assert len(changing) >= 8
    for method, path in changing:
        response = api.client.request(method, path, json={}, headers=api.headers("viewer"))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json() == {"detail": "Forbidden: role 'viewer' may not act"}


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_logical_date_at_the_calendars_edge_is_a_400(api: Api, moment: str) -> None:
    url = "/api/v2/dags/mapped_example_dag/dagRuns"  # daily: its data interval would leave the calendar
    response = api.client.post(url, json={"logical_date": moment}, headers=api.headers("op"))
    assert "too close to the limits of the calendar" in json_of(response, 400)["detail"]


@pytest.mark.parametrize(
    "path", ["/api/v2/dags/%00", "/api/v2/dags?dag_id_pattern=%00", RUNS + "/run%00_1", TIS + "?task_id=a%00"]
)
def test_a_nul_in_an_id_or_filter_is_a_400(api: Api, path: str) -> None:
    assert json_of(api.get(path), 400) == {"detail": "ids and filters cannot contain NUL characters"}


def test_a_nul_username_is_just_a_wrong_login(api: Api) -> None:
    response = api.client.post("/auth/token", json={"username": "op\x00user", "password": "op-password"})
    assert json_of(response, 401)["detail"] == "Invalid credentials"
