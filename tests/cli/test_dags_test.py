"""End to end: ``tradewind dags test``, ``dags show`` and ``tasks test`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from typing import Any

import pytest


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def parse_json(result: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"stdout is not JSON\n{describe(result)}")


def instances(run: dict[str, Any], task_id: str) -> list[dict[str, Any]]:
    return sorted((ti for ti in run["task_instances"] if ti["task_id"] == task_id), key=lambda ti: ti["map_index"])


def state_of(run: dict[str, Any], task_id: str) -> str:
    """The state of an unmapped (or not expanded) task: its one instance."""
    [ti] = instances(run, task_id)
    return ti["state"]


@pytest.fixture
def dag_test(run_cli, dags_folder, write_dag):
    """``dag_test(source, dag_id, *extra)``: write the DAG file, ``dags test`` it with JSON output and
    return (CompletedProcess, parsed run or None)."""

    def run(source: str, dag_id: str, *extra: Any) -> tuple[subprocess.CompletedProcess[str], Any]:
        write_dag(dags_folder, f"{dag_id}.py", source)
        result = run_cli("dags", "test", dag_id, "--dags-folder", dags_folder, "-o", "json", *extra)
        try:
            parsed = json.loads(result.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"stdout is not JSON\n{describe(result)}")
        return result, parsed

    return run


# -- the examples -------------------------------------------------------------------------------


def test_mapped_example_dag_runs_every_mapped_instance(run_cli, examples_dags):
    result = run_cli("dags", "test", "mapped_example_dag", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    run = parse_json(result)
    assert run["dag_id"] == "mapped_example_dag"
    assert run["state"] == "success"
    [generate] = instances(run, "generate_inputs")
    assert generate["map_index"] == -1
    assert generate["state"] == "success"
    assert generate["return_value"] == ["foo", "bar", "baz"]
    process = instances(run, "process")
    assert [ti["map_index"] for ti in process] == [0, 1, 2]
    assert all(ti["state"] == "success" for ti in process), process
    for item in ("foo", "bar", "baz"):
        assert f"Processing: {item}" in result.stderr
    assert "Processing" not in result.stdout  # with -o json the logs go to stderr, the JSON to stdout


def test_dags_test_json_shape(run_cli, examples_dags):
    result = run_cli("dags", "test", "mapped_example_dag", "2025-07-01", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    run = parse_json(result)
    assert set(run) == {"dag_id", "run_id", "logical_date", "state", "task_instances"}
    assert datetime.fromisoformat(run["logical_date"]) == datetime.fromisoformat("2025-07-01T00:00:00+00:00")
    assert isinstance(run["run_id"], str) and run["run_id"]
    assert "2025-07-01" in run["run_id"]
    assert len(run["task_instances"]) == 4
    for ti in run["task_instances"]:
        assert {"task_id", "map_index", "state", "try_number", "duration", "return_value"} <= set(ti), ti
        assert isinstance(ti["map_index"], int)
        assert ti["try_number"] == 1
        assert isinstance(ti["duration"], int | float) and ti["duration"] >= 0


def test_dags_test_table_output_prints_logs_and_result(run_cli, examples_dags):
    result = run_cli("dags", "test", "mapped_example_dag", "--dags-folder", examples_dags)

    assert result.returncode == 0, describe(result)
    for item in ("foo", "bar", "baz"):
        assert f"Processing: {item}" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert "mapped_example_dag" in last and last.endswith("success"), last


def test_native_fan_out_reduces_mapped_results(run_cli, examples_dags):
    result = run_cli("dags", "test", "native_fan_out", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    run = parse_json(result)
    process = instances(run, "process")
    assert [ti["map_index"] for ti in process] == [0, 1, 2, 3, 4]
    assert [ti["return_value"] for ti in process] == [0, 2, 4, 6, 8]
    assert all(ti["state"] == "success" for ti in process)
    [total] = instances(run, "total")
    assert total["map_index"] == -1
    assert total["return_value"] == 20
    assert "Total of 5 values: 20" in result.stderr


def test_conf_overrides_dag_params(run_cli, examples_dags):
    result = run_cli(
        "dags", "test", "native_fan_out", "--dags-folder", examples_dags, "--conf", '{"count": 3}', "-o", "json"
    )

    assert result.returncode == 0, describe(result)
    run = parse_json(result)
    assert len(instances(run, "process")) == 3
    assert instances(run, "total")[0]["return_value"] == 6


def test_invalid_conf_is_a_clear_error(run_cli, examples_dags):
    result = run_cli("dags", "test", "native_fan_out", "--dags-folder", examples_dags, "--conf", "{count: 3}")

    assert result.returncode != 0
    assert "--conf" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("client", ["client_a", "client_b", "client_c"])
def test_factory_dags_run(run_cli, examples_dags, client):
    result = run_cli("dags", "test", f"process_data_{client}", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    run = parse_json(result)
    assert run["dag_id"] == f"process_data_{client}"
    assert run["state"] == "success"
    assert {ti["task_id"]: (ti["map_index"], ti["state"]) for ti in run["task_instances"]} == {
        "start": (-1, "success"),
        "end": (-1, "success"),
    }


def test_map_list_of_dicts_example(run_cli, examples_dags):
    result = run_cli("dags", "test", "map_list_of_dicts", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    process = instances(parse_json(result), "process_config")
    assert [(ti["map_index"], ti["state"]) for ti in process] == [(0, "success"), (1, "success")]
    assert "s3://bucket1 db1" in result.stderr
    assert "s3://bucket2 db2" in result.stderr


# -- mapping written in the test ----------------------------------------------------------------


def test_expand_kwargs_over_list_of_dicts_from_upstream(dag_test):
    result, run = dag_test(
        """
        from datetime import datetime

        from airflow.decorators import dag, task


        @dag(start_date=datetime(2025, 7, 1), schedule=None)
        def copy_jobs():
            @task
            def jobs():
                return [{"src": "a", "dst": "x"}, {"src": "b", "dst": "y"}, {"src": "c", "dst": "z"}]

            @task
            def copy(src, dst):
                print(f"copy {src} -> {dst}")
                return f"{src}{dst}"

            copy.expand_kwargs(jobs())


        copy_jobs()
        """,
        "copy_jobs",
    )

    assert result.returncode == 0, describe(result)
    copies = instances(run, "copy")
    assert [(ti["map_index"], ti["state"], ti["return_value"]) for ti in copies] == [
        (0, "success", "ax"),
        (1, "success", "by"),
        (2, "success", "cz"),
    ]
    for line in ("copy a -> x", "copy b -> y", "copy c -> z"):
        assert line in result.stderr


def test_mapping_over_zero_items_skips_the_mapped_task(dag_test):
    result, run = dag_test(
        """
        from datetime import datetime

        from airflow.decorators import dag, task


        @dag(start_date=datetime(2025, 7, 1), schedule=None)
        def nothing_to_do():
            @task
            def find_files():
                return []

            @task
            def handle(path):
                print(f"handling {path}")

            handle.expand(path=find_files())


        nothing_to_do()
        """,
        "nothing_to_do",
    )

    assert result.returncode == 0, describe(result)
    assert run["state"] == "success"
    assert state_of(run, "find_files") == "success"
    handle = instances(run, "handle")
    assert [(ti["map_index"], ti["state"]) for ti in handle] == [(-1, "skipped")]
    assert "handling" not in result.stderr


# -- failures, retries, bash exit codes ---------------------------------------------------------


FAILING_DAG = """
    from datetime import datetime

    from airflow.decorators import dag, task


    @dag(start_date=datetime(2025, 7, 1), schedule=None)
    def failing_dag():
        @task
        def extract():
            return 1

        @task
        def transform(value):
            raise ValueError("transform blew up on purpose")

        @task
        def load(value):
            print("load should never run")

        load(transform(extract()))


    failing_dag()
"""


def test_failing_task_fails_the_run_and_its_downstream(dag_test):
    result, run = dag_test(FAILING_DAG, "failing_dag")

    assert result.returncode == 1, describe(result)
    assert run["state"] == "failed"
    assert state_of(run, "extract") == "success"
    assert state_of(run, "transform") == "failed"
    assert state_of(run, "load") == "upstream_failed"
    assert "transform blew up on purpose" in result.stderr
    assert "load should never run" not in result.stderr


def test_failing_run_in_table_mode_exits_1(run_cli, dags_folder, write_dag):
    write_dag(dags_folder, "failing_dag.py", FAILING_DAG)

    result = run_cli("dags", "test", "failing_dag", "--dags-folder", dags_folder)

    assert result.returncode == 1, describe(result)
    assert "ValueError" in result.stdout
    assert "transform blew up on purpose" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("failed")


def test_retry_succeeds_on_second_try(dag_test, tmp_path):
    marker = tmp_path / "first_try_happened"
    result, run = dag_test(
        f"""
        from datetime import datetime, timedelta
        from pathlib import Path

        from airflow.decorators import dag, task

        MARKER = Path({str(marker)!r})


        @dag(start_date=datetime(2025, 7, 1), schedule=None)
        def flaky_dag():
            @task(retries=2, retry_delay=timedelta(minutes=10))
            def flaky():
                if not MARKER.exists():
                    MARKER.write_text("tried")
                    raise ConnectionError("temporary outage")
                print("worked this time")
                return "ok"

            @task
            def after(value):
                print(f"after got {{value}}")

            after(flaky())


        flaky_dag()
        """,
        "flaky_dag",
        "--no-retry-delay",
    )

    assert result.returncode == 0, describe(result)
    assert run["state"] == "success"
    [flaky] = instances(run, "flaky")
    assert flaky["state"] == "success"
    assert flaky["try_number"] == 2
    assert flaky["return_value"] == "ok"
    assert state_of(run, "after") == "success"
    assert "temporary outage" in result.stderr
    assert "worked this time" in result.stderr
    assert "after got ok" in result.stderr
    assert marker.exists()


def test_retries_exhausted_fail_the_task(dag_test):
    result, run = dag_test(
        """
        from datetime import datetime, timedelta

        from airflow.decorators import dag, task


        @dag(start_date=datetime(2025, 7, 1), schedule=None, default_args={"retries": 2})
        def always_fails():
            @task(retry_delay=timedelta(hours=1))
            def broken():
                raise RuntimeError("still broken")

            broken()


        always_fails()
        """,
        "always_fails",
        "--no-retry-delay",
    )

    assert result.returncode == 1, describe(result)
    [broken] = instances(run, "broken")
    assert broken["state"] == "failed"
    assert broken["try_number"] == 3
    assert result.stderr.count("still broken") >= 3


def test_bash_exit_codes_skip_and_fail(dag_test):
    result, run = dag_test(
        """
        from datetime import datetime

        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from airflow.operators.empty import EmptyOperator

        with DAG("bash_codes", start_date=datetime(2025, 7, 1), schedule=None) as dag:
            skip_me = BashOperator(task_id="skip_me", bash_command="echo nothing new; exit 99")
            after_skip = EmptyOperator(task_id="after_skip")
            fail_me = BashOperator(task_id="fail_me", bash_command="echo about to fail; exit 3")
            after_fail = EmptyOperator(task_id="after_fail")
            fine = BashOperator(task_id="fine", bash_command="echo first; echo last line")

            skip_me >> after_skip
            fail_me >> after_fail
        """,
        "bash_codes",
    )

    assert result.returncode == 1, describe(result)
    assert run["state"] == "failed"
    assert state_of(run, "skip_me") == "skipped"
    assert state_of(run, "after_skip") == "skipped"
    assert state_of(run, "fail_me") == "failed"
    assert state_of(run, "after_fail") == "upstream_failed"
    assert state_of(run, "fine") == "success"
    assert instances(run, "fine")[0]["return_value"] == "last line"
    assert "non-zero exit code 3" in result.stderr
    assert "about to fail" in result.stderr


# -- branching and short circuits ---------------------------------------------------------------


def test_task_branch_skips_the_other_branch_and_join_runs(dag_test):
    result, run = dag_test(
        """
        from datetime import datetime

        from airflow.decorators import dag, task
        from airflow.operators.empty import EmptyOperator


        @dag(start_date=datetime(2025, 7, 1), schedule=None)
        def branching():
            @task.branch
            def choose():
                return "left"

            left = EmptyOperator(task_id="left")
            right = EmptyOperator(task_id="right")
            right_more = EmptyOperator(task_id="right_more")
            join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
            strict_join = EmptyOperator(task_id="strict_join")

            choose() >> [left, right]
            right >> right_more
            [left, right_more] >> join
            [left, right_more] >> strict_join


        branching()
        """,
        "branching",
    )

    assert result.returncode == 0, describe(result)
    assert run["state"] == "success"
    assert state_of(run, "choose") == "success"
    assert state_of(run, "left") == "success"
    assert state_of(run, "right") == "skipped"
    assert state_of(run, "right_more") == "skipped"
    assert state_of(run, "join") == "success"
    assert state_of(run, "strict_join") == "skipped"  # all_success with a skipped upstream


def test_branch_python_operator_follows_returned_task(dag_test):
    result, run = dag_test(
        """
        from datetime import datetime

        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        from airflow.operators.python import BranchPythonOperator, PythonOperator
        from airflow.utils.trigger_rule import TriggerRule


        def pick(**context):
            return ["weekend"]


        def report():
            print("weekend report")


        with DAG("classic_branch", start_date=datetime(2025, 7, 1), schedule=None) as dag:
            branch = BranchPythonOperator(task_id="branch", python_callable=pick)
            weekday = EmptyOperator(task_id="weekday")
            weekend = PythonOperator(task_id="weekend", python_callable=report)
            join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

            branch >> [weekday, weekend] >> join
        """,
        "classic_branch",
    )

    assert result.returncode == 0, describe(result)
    assert state_of(run, "weekday") == "skipped"
    assert state_of(run, "weekend") == "success"
    assert state_of(run, "join") == "success"
    assert "weekend report" in result.stderr


SHORT_CIRCUIT_DAG = """
    from datetime import datetime

    from airflow import DAG
    from airflow.operators.empty import EmptyOperator
    from airflow.operators.python import ShortCircuitOperator

    with DAG("{dag_id}", start_date=datetime(2025, 7, 1), schedule=None) as dag:
        check = ShortCircuitOperator(task_id="check", python_callable=lambda: {condition})
        step = EmptyOperator(task_id="step")
        final = EmptyOperator(task_id="final", trigger_rule="all_done")
        unrelated = EmptyOperator(task_id="unrelated")

        check >> step >> final
"""


def test_short_circuit_false_skips_everything_downstream(dag_test):
    result, run = dag_test(SHORT_CIRCUIT_DAG.format(dag_id="short_false", condition="[]"), "short_false")

    assert result.returncode == 0, describe(result)
    assert run["state"] == "success"
    assert state_of(run, "check") == "success"
    assert state_of(run, "step") == "skipped"
    assert state_of(run, "final") == "skipped"  # ignore_downstream_trigger_rules=True by default
    assert state_of(run, "unrelated") == "success"


def test_short_circuit_true_lets_downstream_run(dag_test):
    result, run = dag_test(SHORT_CIRCUIT_DAG.format(dag_id="short_true", condition="'go'"), "short_true")

    assert result.returncode == 0, describe(result)
    assert state_of(run, "step") == "success"
    assert state_of(run, "final") == "success"


def test_task_short_circuit_decorator(dag_test):
    result, run = dag_test(
        """
        from datetime import datetime

        from tradewind import dag, task


        @dag(start_date=datetime(2025, 7, 1), schedule=None)
        def gate():
            @task.short_circuit
            def has_data():
                return False

            @task
            def publish():
                print("published")

            has_data() >> publish()


        gate()
        """,
        "gate",
    )

    assert result.returncode == 0, describe(result)
    assert state_of(run, "has_data") == "success"
    assert state_of(run, "publish") == "skipped"
    assert "published" not in result.stderr


# -- dags show ----------------------------------------------------------------------------------


def test_dags_show_text(run_cli, examples_dags):
    result = run_cli("dags", "show", "mapped_example_dag", "--dags-folder", examples_dags)

    assert result.returncode == 0, describe(result)
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0].startswith("DAG mapped_example_dag")
    assert "@daily" in lines[0]
    assert any(line.startswith("generate_inputs") for line in lines)
    process = next(line for line in lines if line.startswith("process "))
    assert "mapped" in process
    assert "generate_inputs >> process" in lines


def test_dags_show_dot(run_cli, examples_dags):
    result = run_cli("dags", "show", "native_fan_out", "--dags-folder", examples_dags, "--format", "dot")

    assert result.returncode == 0, describe(result)
    out = result.stdout.strip()
    assert out.startswith('digraph "native_fan_out" {')
    assert out.endswith("}")
    assert '"generate" -> "process";' in out
    assert '"process" -> "total";' in out
    assert '"generate" -> "total"' not in out
    for task_id in ("generate", "process", "total"):
        assert f'"{task_id}" [' in out


def test_dags_show_factory_dag(run_cli, examples_dags):
    result = run_cli("dags", "show", "process_data_client_a", "--dags-folder", examples_dags)

    assert result.returncode == 0, describe(result)
    assert "start >> end" in result.stdout


# -- unknown DAGs and tasks ---------------------------------------------------------------------


def test_dags_test_unknown_dag(run_cli, examples_dags):
    result = run_cli("dags", "test", "no_such_dag", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode != 0
    assert "no_such_dag" in result.stderr
    assert "not found" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_dags_show_unknown_dag(run_cli, examples_dags):
    result = run_cli("dags", "show", "no_such_dag", "--dags-folder", examples_dags)

    assert result.returncode != 0
    assert "no_such_dag" in result.stderr and "not found" in result.stderr


def test_dags_test_bad_logical_date(run_cli, examples_dags):
    result = run_cli("dags", "test", "mapped_example_dag", "yesterday", "--dags-folder", examples_dags)

    assert result.returncode != 0
    assert "yesterday" in result.stderr
    assert "Traceback" not in result.stderr


# -- tasks test ---------------------------------------------------------------------------------


def test_tasks_test_runs_one_mapped_instance(run_cli, examples_dags):
    result = run_cli(
        "tasks", "test", "mapped_example_dag", "process", "--map-index", "1", "--dags-folder", examples_dags
    )

    assert result.returncode == 0, describe(result)
    assert "Processing: bar" in result.stdout
    assert "Processing: foo" not in result.stdout
    assert "Processing: baz" not in result.stdout
    assert "success" in result.stdout.strip().splitlines()[-1]


def test_tasks_test_json(run_cli, examples_dags):
    result = run_cli(
        "tasks", "test", "native_fan_out", "process", "--map-index", "3", "--dags-folder", examples_dags, "-o", "json"
    )

    assert result.returncode == 0, describe(result)
    out = parse_json(result)
    assert out["task_id"] == "process"
    assert out["map_index"] == 3
    assert out["state"] == "success"
    assert out["return_value"] == 6


def test_tasks_test_out_of_range_map_index(run_cli, examples_dags):
    result = run_cli(
        "tasks", "test", "mapped_example_dag", "process", "--map-index", "7", "--dags-folder", examples_dags
    )

    assert result.returncode != 0
    assert "process" in result.stderr
    assert "3" in result.stderr  # how many instances there are
    assert "--map-index" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Processing:" not in result.stdout


def test_tasks_test_map_index_on_unmapped_task(run_cli, examples_dags):
    result = run_cli(
        "tasks", "test", "mapped_example_dag", "generate_inputs", "--map-index", "0", "--dags-folder", examples_dags
    )

    assert result.returncode != 0
    assert "not mapped" in result.stderr
    assert "Traceback" not in result.stderr


def test_tasks_test_unknown_task(run_cli, examples_dags):
    result = run_cli("tasks", "test", "mapped_example_dag", "no_such_task", "--dags-folder", examples_dags)

    assert result.returncode != 0
    assert "no_such_task" in result.stderr and "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_tasks_test_failing_task_exits_1(run_cli, dags_folder, write_dag):
    write_dag(dags_folder, "failing_dag.py", FAILING_DAG)

    result = run_cli("tasks", "test", "failing_dag", "transform", "--dags-folder", dags_folder)

    assert result.returncode == 1, describe(result)
    assert "transform blew up on purpose" in result.stdout
    assert "failed" in result.stdout.strip().splitlines()[-1]


def test_tasks_list(run_cli, examples_dags):
    result = run_cli("tasks", "list", "native_fan_out", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    assert parse_json(result) == ["generate", "process", "total"]
