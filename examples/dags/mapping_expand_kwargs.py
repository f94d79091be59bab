"""expand_kwargs: one instance per dict of arguments, literal or from an upstream task."""

from datetime import datetime

from tradewind import BashOperator, dag, task


@dag(start_date=datetime(2025, 7, 1), schedule=None, tags=["mapping"])
def mapping_expand_kwargs():
    @task
    def copy(source: str, target: str) -> str:
        return f"{source} -> {target}"

    @task
    def jobs() -> list[dict]:
        return [{"source": "s3://a", "target": "db.a"}, {"source": "s3://b", "target": "db.b"}]

    copy.override(task_id="copy_literal").expand_kwargs(
        [{"source": "s3://x", "target": "db.x"}, {"source": "s3://y", "target": "db.y"}]
    )
    copy.override(task_id="copy_from_upstream").expand_kwargs(jobs())

    @task
    def commands() -> list[dict]:
        return [{"bash_command": "echo $NAME", "env": {"NAME": "first"}}, {"bash_command": "echo second"}]

    BashOperator.partial(task_id="run_commands").expand_kwargs(commands())


mapping_expand_kwargs()
