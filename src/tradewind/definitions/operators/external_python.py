"""Run a Python function in another interpreter: ``ExternalPythonOperator`` (an existing one,
``python=`` its path) and ``PythonVirtualenvOperator`` (a fresh virtual environment with
``requirements`` installed by pip when the task runs).

The function's source is written to a script and run there, so it must import what it uses
inside its body, as in Airflow. Arguments and the return value travel as JSON (Airflow uses
pickle by default): a value JSON cannot carry fails the task with a message saying so.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tradewind.definitions.operators.python import PythonOperator, SkipMixin
from tradewind.errors import DagDefinitionError, TaskSkipped, TradewindError

_RUNNER = """
import json, sys
with open(sys.argv[1]) as f:
    call = json.load(f)
{source}
result = {name}(*call["args"], **call["kwargs"])
with open(sys.argv[2], "w") as f:
    json.dump(result, f)
"""


def function_source(fn: Callable[..., Any]) -> str:
    """The function's own source, without its decorators."""
    try:
        lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    except (OSError, TypeError) as exc:
        raise TradewindError(f"cannot read the source of {fn!r} to run it in another interpreter: {exc}") from None
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def ")))
    return "\n".join(lines[start:])


def is_venv_installed() -> bool:
    """Airflow's check before offering virtualenv tasks: tradewind makes them with ``venv``."""
    return True


class ExternalPythonOperator(PythonOperator):
    """Call ``python_callable`` in the interpreter at ``python`` (a path to its ``python``)."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python: str | None = None,
        python_callable: Callable[..., Any],
        serializer: str | None = None,
        use_dill: bool = False,
        expect_airflow: bool = True,
        expect_pendulum: bool = False,
        skip_on_exit_code: int | Iterable[int] | None = None,
        string_args: Iterable[str] | None = None,
        env_vars: dict[str, str] | None = None,
        inherit_env: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(python_callable=python_callable, **kwargs)
        if python is not None and not isinstance(python, str):
            raise DagDefinitionError(
                f"Task '{self.task_id}': python must be the path of an interpreter, got {python!r}"
            )
        self.python = python
        self.serializer = serializer
        self.use_dill = use_dill
        codes = [skip_on_exit_code] if isinstance(skip_on_exit_code, int) else list(skip_on_exit_code or [])
        self.skip_on_exit_code = codes
        self.env_vars = dict(env_vars or {})
        self.inherit_env = inherit_env

    def _interpreter(self) -> str:
        if not self.python:
            raise DagDefinitionError(
                f"Task '{self.task_id}': ExternalPythonOperator needs python= (an interpreter path)"
            )
        return self.python

    def execute(self, context: dict[str, Any]) -> Any:
        interpreter = self._interpreter()
        name = self.python_callable.__name__
        with tempfile.TemporaryDirectory(prefix="tradewind-python-") as folder:
            script, call, out = Path(folder, "run.py"), Path(folder, "call.json"), Path(folder, "result.json")
            script.write_text(_RUNNER.format(source=function_source(self.python_callable), name=name))
            try:
                call.write_text(json.dumps({"args": list(self.op_args), "kwargs": dict(self.op_kwargs)}))
            except TypeError as exc:
                raise TradewindError(
                    f"Task '{self.task_id}': the arguments of {name}() must be JSON values to reach another "
                    f"interpreter: {exc}"
                ) from None
            env = {**(os.environ if self.inherit_env else {}), **self.env_vars}
            done = subprocess.run([interpreter, str(script), str(call), str(out)], env=env, check=False)
            if done.returncode in self.skip_on_exit_code:
                raise TaskSkipped(f"Process exited with code {done.returncode}: skipping (skip_on_exit_code)")
            if done.returncode != 0:
                raise TradewindError(
                    f"Task '{self.task_id}': {name}() in {interpreter} exited with code {done.returncode}"
                )
            return json.loads(out.read_text())


class PythonVirtualenvOperator(ExternalPythonOperator):
    """Call ``python_callable`` in a new virtual environment made from this interpreter (or
    ``python_version``'s), with ``requirements`` installed by pip when the task runs. With
    ``venv_cache_path`` the environment is kept there and reused."""

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        requirements: Iterable[str] | str | None = None,
        python_version: str | None = None,
        system_site_packages: bool = True,
        pip_install_options: list[str] | None = None,
        index_urls: list[str] | None = None,
        venv_cache_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(python_callable=python_callable, **kwargs)
        self.requirements = [requirements] if isinstance(requirements, str) else list(requirements or [])
        self.python_version = python_version
        self.system_site_packages = system_site_packages
        self.pip_install_options = list(pip_install_options or [])
        self.index_urls = list(index_urls or [])
        self.venv_cache_path = venv_cache_path

    def _base_python(self) -> str:
        if not self.python_version:
            return sys.executable
        return f"python{self.python_version}"

    def _interpreter(self) -> str:
        key = json.dumps([self._base_python(), sorted(self.requirements), self.system_site_packages, self.index_urls])
        root = Path(self.venv_cache_path) if self.venv_cache_path else Path(tempfile.gettempdir()) / "tradewind-venvs"
        venv = root / hashlib.sha256(key.encode()).hexdigest()[:16]
        python = venv / "bin" / "python"
        if python.exists():
            return str(python)
        command = [self._base_python(), "-m", "venv", str(venv)]
        if self.system_site_packages:
            command.append("--system-site-packages")
        subprocess.run(command, check=True)
        if self.requirements:
            index = [arg for url in self.index_urls for arg in ("--extra-index-url", url)]
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *self.pip_install_options, *index, *self.requirements],
                check=True,
            )
        return str(python)


class BranchExternalPythonOperator(ExternalPythonOperator, SkipMixin):
    """The function, run in another interpreter, returns the task id(s) to follow."""

    def execute(self, context: dict[str, Any]) -> Any:
        branch = super().execute(context)
        self.skip_all_except(context["ti"], branch)
        return branch


class BranchPythonVirtualenvOperator(PythonVirtualenvOperator, SkipMixin):
    """The function, run in a virtual environment, returns the task id(s) to follow."""

    def execute(self, context: dict[str, Any]) -> Any:
        branch = super().execute(context)
        self.skip_all_except(context["ti"], branch)
        return branch


class DecoratedBranchExternalPythonOperator(BranchExternalPythonOperator):
    custom_operator_name = "@task.branch_external_python"


class DecoratedBranchVirtualenvOperator(BranchPythonVirtualenvOperator):
    custom_operator_name = "@task.branch_virtualenv"


class DecoratedExternalPythonOperator(ExternalPythonOperator):
    custom_operator_name = "@task.external_python"


class DecoratedVirtualenvOperator(PythonVirtualenvOperator):
    custom_operator_name = "@task.virtualenv"
