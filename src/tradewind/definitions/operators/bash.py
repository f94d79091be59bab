"""BashOperator: run a (Jinja-templated) bash command; its last line of output is the XCom."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import Any

from tradewind.definitions.baseoperator import BaseOperator
from tradewind.errors import TaskSkipped, TradewindError


class BashOperator(BaseOperator):
    """Run ``bash_command`` with bash. Exit code 0 succeeds, ``skip_on_exit_code`` (99) skips,
    anything else fails the task.

    >>> BashOperator(task_id="hello", bash_command="echo {{ ds }}")
    """

    template_fields: Sequence[str] = ("bash_command", "env", "cwd")
    template_ext = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | list[int] | None = 99,
        cwd: str | None = None,
        output_processor: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.output_encoding = output_encoding
        codes = skip_on_exit_code
        self.skip_on_exit_code = [] if codes is None else [codes] if isinstance(codes, int) else list(codes)
        self.cwd = cwd
        self.output_processor = output_processor

    def _environment(self, context: dict[str, Any]) -> dict[str, str]:
        env = dict(os.environ) if self.env is None or self.append_env else {}
        env.update({str(k): str(v) for k, v in (self.env or {}).items()})
        ti = context.get("ti")
        env.update(
            {
                "AIRFLOW_CTX_DAG_ID": str(getattr(ti, "dag_id", "")),
                "AIRFLOW_CTX_TASK_ID": str(getattr(ti, "task_id", "")),
                "AIRFLOW_CTX_RUN_ID": str(context.get("run_id", "")),
                "AIRFLOW_CTX_LOGICAL_DATE": str(context.get("ts", "")),
            }
        )
        return env

    def execute(self, context: dict[str, Any]) -> Any:
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise TradewindError(f"Task '{self.task_id}': cwd {self.cwd!r} is not an existing directory")
        print(f"Running command: {self.bash_command}")
        last_line = ""
        with subprocess.Popen(
            ["bash", "-c", self.bash_command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._environment(context),
            cwd=self.cwd,
        ) as process:
            assert process.stdout is not None
            for raw in process.stdout:
                last_line = raw.decode(self.output_encoding, errors="backslashreplace").rstrip("\n")
                print(last_line)
            code = process.wait()
        print(f"Command exited with return code {code}")
        if code in self.skip_on_exit_code:
            raise TaskSkipped(f"Bash command returned exit code {code}; skipping the task")
        if code != 0:
            raise TradewindError(f"Bash command failed. The command returned a non-zero exit code {code}.")
        return self.output_processor(last_line) if self.output_processor else last_line
