"""Dynamic task mapping with classic operators: partial(task_id=...).expand(...), operator.output."""

from datetime import datetime

from tradewind import DAG, BaseOperator, BashOperator, PythonOperator


class AddTen(BaseOperator):
    def __init__(self, *, value: int, **kwargs):
        super().__init__(**kwargs)
        self.value = value

    def execute(self, context):
        return self.value + 10


class Report(BaseOperator):
    template_fields = ("values",)

    def __init__(self, *, values, **kwargs):
        super().__init__(**kwargs)
        self.values = values

    def execute(self, context):
        return f"{len(self.values)} results: {list(self.values)}"


def shout(word: str) -> str:
    return word.upper()


with DAG("mapping_classic", start_date=datetime(2025, 7, 1), schedule=None, tags=["mapping"]):
    echo = BashOperator.partial(task_id="echo").expand(bash_command=["echo one", "echo two"])
    upper = PythonOperator.partial(task_id="upper", python_callable=shout).expand(op_args=[["a"], ["b"], ["c"]])
    add = AddTen.partial(task_id="add_ten").expand(value=[1, 2])
    # `operator.output` is the operator's return value as a task output (XComArg).
    Report(task_id="report_echo", values=echo.output)
    Report(task_id="report_add", values=add.output)
