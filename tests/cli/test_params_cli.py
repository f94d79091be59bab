"""The CLI refuses a conf that breaks a DAG's params (issue 9): `dags trigger` and `dags test`
exit 1 with one line naming the param, the value and the rule, and create no run."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from tradewind.cli.main import main

DAG_SOURCE = """
from airflow.sdk import DAG, Param, task

with DAG(
    "checked",
    schedule=None,
    params={
        "limit": Param(5, type="integer", minimum=1),
        "who": Param(type="string", minLength=3, description="required: no default"),
    },
):
    @task
    def show(params=None):
        return [params["limit"], params["who"]]

    show()
"""


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    root = tmp_path_factory.mktemp("params-cli")
    home, folder = root / "home", root / "home" / "dags"
    folder.mkdir(parents=True)
    (folder / "checked.py").write_text(textwrap.dedent(DAG_SOURCE).lstrip(), encoding="utf-8")
    env = {"TRADEWIND_HOME": str(home), "TRADEWIND__CORE__DAGS_FOLDER": str(folder), "TRADEWIND_DEBUG": ""}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        result = CliRunner().invoke(main, ["dag-processor", "--once"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        yield


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def run_ids() -> list[str]:
    code, output = invoke("dags", "list-runs", "checked", "-o", "json")
    assert code == 0, output
    return [run["run_id"] for run in json.loads(output)]


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ('{"who": "ann", "limit": 0}', "param 'limit': value 0 breaks minimum=1 (0 is less than the minimum of 1)"),
        ('{"who": "ann", "limit": "5"}', 'param \'limit\': value "5" breaks type="integer"'),
        ('{"who": "al"}', "param 'who': value \"al\" breaks minLength=3"),
        ("{}", "param 'who' has no value: it has no default"),
    ],
)
def test_trigger_refuses_a_conf_that_breaks_the_params(installation: None, conf: str, message: str) -> None:
    before = run_ids()
    code, output = invoke("dags", "trigger", "checked", "--conf", conf)
    assert code == 1, output
    assert "conf does not fit the params of DAG 'checked'" in output
    assert message in output
    assert run_ids() == before


def test_trigger_with_a_fitting_conf_queues_the_run(installation: None) -> None:
    code, output = invoke("dags", "trigger", "checked", "--run-id", "ok", "--conf", '{"who": "ann"}')
    assert code == 0, output
    assert "ok" in run_ids()


def test_dags_test_fails_before_any_task_as_airflow_does(installation: None) -> None:
    code, output = invoke("dags", "test", "checked")
    assert code == 1
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith("Error: ParamValidationError: DAG 'checked': param 'who' has no value")
    )
    assert "show" not in output

    code, output = invoke("dags", "test", "checked", "--conf", '{"who": "ann", "limit": 2}', "-o", "json")
    assert code == 0, output
    shown = json.loads(output[output.index("\n{\n") :])  # the task log goes first (stderr)
    assert [(ti["task_id"], ti["state"], ti["return_value"]) for ti in shown["task_instances"]] == [
        ("show", "success", [2, "ann"])
    ]
