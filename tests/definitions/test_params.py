"""Param validation as Airflow 3 does it: each JSON-schema rule, required params, conf merged
over defaults, and the import error of a DAG whose default breaks its schema (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tradewind.definitions.params import NOTSET, Param, ParamValidationError, resolve_params
from tradewind.definitions.serialized import SerializedDAG, canonical_json, serialize_dag
from tradewind.loader import load_dags

# (schema, value, None when it fits, else a piece of the message)
RULES: list[tuple[dict[str, Any], Any, str | None]] = [
    ({"type": "integer"}, 5, None),
    ({"type": "integer"}, "5", 'breaks type="integer"'),
    ({"type": "integer"}, True, 'breaks type="integer"'),
    ({"type": "number"}, 2.5, None),
    ({"type": ["null", "string"]}, None, None),
    ({"type": "string"}, None, 'breaks type="string"'),
    ({"type": "boolean"}, 0, 'breaks type="boolean"'),
    ({"type": "array", "items": {"type": "integer"}}, [1, 2], None),
    ({"type": "array", "items": {"type": "integer"}}, [1, "x"], 'param \'p[1]\': value [1, "x"] breaks type="integer"'),
    ({"type": "object", "required": ["a"]}, {"b": 1}, 'breaks required=["a"]'),
    ({"enum": ["one", "two"]}, "two", None),
    ({"enum": ["one", "two"]}, "three", 'breaks enum=["one", "two"]'),
    ({"const": "constant value"}, "other", 'breaks const="constant value"'),
    ({"minimum": 1, "maximum": 10}, 10, None),
    ({"minimum": 1, "maximum": 10}, 0, "breaks minimum=1 (0 is less than the minimum of 1)"),
    ({"exclusiveMaximum": 10}, 10, "breaks exclusiveMaximum=10"),
    ({"multipleOf": 5}, 12, "breaks multipleOf=5"),
    ({"minLength": 3, "maxLength": 5}, "abcd", None),
    ({"maxLength": 5}, "abcdef", "breaks maxLength=5 ('abcdef' is too long)"),
    ({"minLength": 10}, "short", "breaks minLength=10"),
    ({"pattern": "^[a-z]+$"}, "Abc", 'breaks pattern="^[a-z]+$"'),
    ({"minItems": 2}, [1], "breaks minItems=2"),
    ({"uniqueItems": True}, [1, 1], "breaks uniqueItems=true"),
    ({"format": "date"}, "2026-11-29", None),
    ({"format": "date"}, "29/11/2026", 'breaks format="date"'),
    ({"format": "email"}, "no-at-sign", 'breaks format="email"'),
    # what the trigger form reads describes the param and is no rule
    ({"type": "integer", "title": "T", "section": "S", "examples": [1], "values_display": {"1": "One"}}, 7, None),
]


@pytest.mark.parametrize(("schema", "value", "problem"), RULES)
def test_a_value_is_checked_against_each_rule(schema: dict[str, Any], value: Any, problem: str | None) -> None:
    param = Param(NOTSET, **schema)
    if problem is None:
        assert param.resolve(value, name="p") == value
    else:
        with pytest.raises(ParamValidationError) as caught:
            param.resolve(value, name="p")
        assert problem in str(caught.value)
        assert str(caught.value).startswith("param 'p")


def test_schema_may_be_given_whole() -> None:
    assert Param(3, schema={"type": "integer", "maximum": 5}).schema == {"type": "integer", "maximum": 5}
    with pytest.raises(ParamValidationError, match="breaks maximum=5"):
        Param(3, schema={"type": "integer", "maximum": 5}).resolve(6, name="n")


def test_a_param_without_default_needs_a_value() -> None:
    with pytest.raises(ParamValidationError, match="param 'who' has no value: it has no default"):
        resolve_params({"who": Param(type="string")}, {})
    assert resolve_params({"who": Param(type="string")}, {"who": "ann"}) == {"who": "ann"}


def test_conf_is_merged_over_defaults_and_checked() -> None:
    declared = {"n": Param(5, type="integer"), "plain": "x"}
    assert resolve_params(declared, {}) == {"n": 5, "plain": "x"}
    assert resolve_params(declared, {"n": 7, "extra": [1]}) == {"n": 7, "plain": "x", "extra": [1]}
    with pytest.raises(ParamValidationError, match="param 'n': value \"7\" breaks type"):
        resolve_params(declared, {"n": "7"})


def test_a_value_that_is_not_json_is_refused() -> None:
    with pytest.raises(ParamValidationError, match="is not a JSON value"):
        Param(object())


def test_a_required_param_survives_serialization() -> None:
    from tradewind.definitions.dag import DAG

    dag = DAG("required", schedule=None, params={"who": Param(type="string", minLength=2), "n": Param(None)})
    stored = SerializedDAG(json.loads(canonical_json(serialize_dag(dag))))

    assert stored.params["who"].has_default is False
    assert stored.params["n"].has_default is True
    with pytest.raises(ParamValidationError, match="param 'who' has no value"):
        resolve_params(stored.params, {})
    with pytest.raises(ParamValidationError, match="breaks minLength=2"):
        resolve_params(stored.params, {"who": "a"})


def _import_errors(folder: Path, source: str) -> dict[str, str]:
    (folder / "dag_file.py").write_text(source, encoding="utf-8")
    return {Path(path).name: info.error for path, info in load_dags(folder).import_errors.items()}


def test_a_default_that_breaks_its_schema_is_an_import_error_naming_dag_param_and_line(tmp_path: Path) -> None:
    source = (
        "from airflow.sdk import DAG, Param\n"
        "\n"
        "with DAG(\n"
        "    'bad_default',\n"
        "    schedule=None,\n"
        "    params={'n': Param(50, type='integer', maximum=10)},\n"
        "):\n"
        "    pass\n"
    )
    error = _import_errors(tmp_path, source)["dag_file.py"]
    assert "DAG 'bad_default'" in error
    assert "param 'n': value 50 breaks maximum=10" in error
    assert "(line 3)" in error


def test_a_scheduled_dag_needs_a_default_for_every_param(tmp_path: Path) -> None:
    source = (
        "from airflow.sdk import DAG, Param\n"
        "with DAG('sched', schedule='@daily', params={'who': Param(type='string')}):\n"
        "    pass\n"
    )
    error = _import_errors(tmp_path, source)["dag_file.py"]
    assert "DAG 'sched': param 'who' has no default" in error


def test_dag_decorator_arguments_keep_the_declared_schema(tmp_path: Path) -> None:
    source = (
        "from airflow.sdk import Param, dag\n"
        "@dag(schedule=None, params={'n': Param(1, type='integer', minimum=1)})\n"
        "def deco(n=0):\n"
        "    pass\n"
        "deco()\n"
    )
    error = _import_errors(tmp_path, source)["dag_file.py"]
    assert "param 'n': value 0 breaks minimum=1" in error


def test_default_args_params_join_the_dags_and_conf_is_checked_against_them() -> None:
    from tradewind.definitions.dag import DAG

    dag = DAG(
        "merged",
        schedule=None,
        default_args={"params": {"k": Param(3, type="integer"), "n": 2}},
        params={"n": 1, "m": "x"},
    )
    assert resolve_params(dag.params, {}) == {"k": 3, "n": 2, "m": "x"}  # default_args win, as in Airflow
    assert "params" not in dag.default_args
    with pytest.raises(ParamValidationError, match="param 'k': value \"x\" breaks type"):
        resolve_params(dag.params, {"k": "x"})


def test_airflow_code_catches_the_error_under_its_own_name(tmp_path: Path) -> None:
    source = (
        "from airflow.exceptions import ParamValidationError\n"
        "from airflow.sdk import DAG, Param\n"
        "try:\n"
        "    Param(5, type='string').resolve()\n"
        "except ParamValidationError:\n"
        "    with DAG('caught', schedule=None):\n"
        "        pass\n"
    )
    assert _import_errors(tmp_path, source) == {}
    assert load_dags(tmp_path).get_dag("caught").dag_id == "caught"
