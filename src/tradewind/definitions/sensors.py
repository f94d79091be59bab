"""Sensors: tasks that wait for a condition, asking (``poke``) every ``poke_interval`` seconds.

A sensor whose condition is not met within ``timeout`` seconds fails without retrying
(``AirflowSensorTimeout``), or is skipped with ``soft_fail=True``. ``poke`` may return a
:class:`PokeReturnValue` to hand a value to downstream tasks. Sensors run in poke mode: the
worker slot stays taken while waiting. With ``mode="reschedule"`` each poke is one run of the task
(state ``up_for_reschedule`` in between, the slot given back, ``timeout`` counted from the first
poke, the try number counting pokes without using retries). ``deferrable=True`` is accepted with
an import warning and runs in poke mode.

>>> wait = PythonSensor(task_id="wait", python_callable=lambda: Path("/tmp/go").exists(), poke_interval=5)
"""

from __future__ import annotations

import glob
import os
import subprocess
import time as _time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from tradewind.definitions.baseoperator import BaseOperator
from tradewind.definitions.operators.branch import WeekDay
from tradewind.definitions.operators.python import PythonCallableMixin
from tradewind.errors import AirflowSensorTimeout, DagDefinitionError, TaskRescheduled, TaskSkipped, TradewindError

VALID_MODES = ("poke", "reschedule")


@dataclass
class PokeReturnValue:
    """What ``poke`` may return: whether the wait is over and the value to push as the XCom."""

    is_done: bool
    xcom_value: Any = None

    def __bool__(self) -> bool:
        return self.is_done


def _seconds(value: Any, name: str, task_id: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise DagDefinitionError(
            f"Task '{task_id}': {name} must be a number of seconds >= 0 or a timedelta, got {value!r}"
        )
    return float(value)


class BaseSensorOperator(BaseOperator):
    """Subclass it and implement ``poke(context)``: True (or a done PokeReturnValue) ends the wait."""

    ui_color = "#e6f1f2"

    def __init__(
        self,
        *,
        poke_interval: float | timedelta = 60,
        timeout: float | timedelta = 60 * 60 * 24 * 7,
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: float | timedelta | None = None,
        silent_fail: bool = False,
        never_fail: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.poke_interval = _seconds(poke_interval, "poke_interval", self.task_id)
        self.timeout = _seconds(timeout, "timeout", self.task_id)
        self.max_wait = None if max_wait is None else _seconds(max_wait, "max_wait", self.task_id)
        if mode not in VALID_MODES:
            raise DagDefinitionError(
                f"Task '{self.task_id}': mode must be one of {', '.join(VALID_MODES)}, got {mode!r}"
            )
        if soft_fail and never_fail:
            raise DagDefinitionError(f"Task '{self.task_id}': soft_fail and never_fail cannot both be True")
        self.soft_fail = soft_fail
        self.mode = mode
        self.exponential_backoff = exponential_backoff
        self.silent_fail = silent_fail
        self.never_fail = never_fail
        self.deferrable = deferrable
        if self.dag is not None and self.mapped_from is None:
            if deferrable:
                self.dag.import_warnings.add(
                    f"task '{self.task_id}': deferrable=True runs the sensor in poke mode (tradewind has no triggerer)"
                )

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        raise NotImplementedError(f"{type(self).__name__} must implement poke(context)")

    def _interval(self, tries: int) -> float:
        if not self.exponential_backoff:
            return self.poke_interval
        delay = self.poke_interval * (2 ** (tries - 1))
        return min(delay, self.max_wait) if self.max_wait is not None else delay

    def execute(self, context: dict[str, Any]) -> Any:
        if self.mode == "reschedule":
            return self._poke_once(context)
        started = _time.monotonic()
        tries = 0
        while True:
            tries += 1
            try:
                outcome = self.poke(context)
            except (TaskSkipped, AirflowSensorTimeout):
                raise
            except Exception:
                if self.never_fail:
                    raise TaskSkipped(f"Sensor '{self.task_id}' failed and never_fail=True: skipping") from None
                if not self.silent_fail:
                    raise
                outcome = False
            if isinstance(outcome, PokeReturnValue):
                if outcome.is_done:
                    return outcome.xcom_value
            elif outcome:
                return None
            waited = _time.monotonic() - started
            if waited >= self.timeout:
                message = f"Sensor '{self.task_id}' timed out after {waited:.1f} seconds (timeout={self.timeout:g})"
                if self.soft_fail or self.never_fail:
                    raise TaskSkipped(message)
                raise AirflowSensorTimeout(message)
            _time.sleep(max(0.0, min(self._interval(tries), self.timeout - waited)))

    def _poke_once(self, context: dict[str, Any]) -> Any:
        """Reschedule mode: one poke per run of the task; between pokes the worker slot is free."""
        now = _now()
        since = getattr(context.get("ti"), "rescheduled_since", None) or now
        outcome = self.poke(context)
        if isinstance(outcome, PokeReturnValue):
            if outcome.is_done:
                return outcome.xcom_value
        elif outcome:
            return None
        waited = (now - since).total_seconds()
        if waited >= self.timeout:
            message = f"Sensor '{self.task_id}' timed out after {waited:.1f} seconds (timeout={self.timeout:g})"
            if self.soft_fail or self.never_fail:
                raise TaskSkipped(message)
            raise AirflowSensorTimeout(message)
        tries = int(context["ti"].try_number) if "ti" in context else 1
        raise TaskRescheduled(now + timedelta(seconds=self._interval(tries)))


class PythonSensor(PythonCallableMixin, BaseSensorOperator):
    """Waits until ``python_callable`` returns a truthy value (or a done PokeReturnValue)."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Iterable[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._take_callable(python_callable, op_args, op_kwargs, templates_dict)

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        outcome = self.call_python_callable(context)
        return outcome if isinstance(outcome, PokeReturnValue) else PokeReturnValue(bool(outcome))


class DecoratedSensorOperator(PythonSensor):
    """The operator behind ``@task.sensor``."""

    custom_operator_name = "@task.sensor"


class FileSensor(BaseSensorOperator):
    """Waits until a file, a directory holding a file, or a glob match exists at ``filepath``.
    ``fs_conn_id`` is accepted; the path is read as given (tradewind has no fs connection base path)."""

    template_fields = ("filepath",)

    def __init__(
        self, *, filepath: str, fs_conn_id: str = "fs_default", recursive: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive

    def poke(self, context: dict[str, Any]) -> bool:
        print(f"Poking for file {self.filepath}")
        for path in glob.glob(os.path.expanduser(self.filepath), recursive=self.recursive):
            if os.path.isfile(path):
                return True
            for _, _, files in os.walk(path):
                if files:
                    return True
        return False


def _now() -> datetime:
    return datetime.now(UTC)


class DateTimeSensor(BaseSensorOperator):
    """Waits until ``target_time`` (a datetime, or a templated string such as
    ``"{{ data_interval_end + macros.timedelta(hours=1) }}"``)."""

    template_fields = ("target_time",)

    def __init__(self, *, target_time: str | datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(target_time, (str, datetime)):
            raise DagDefinitionError(
                f"Task '{self.task_id}': target_time must be a datetime or a string, got {type(target_time).__name__}"
            )
        self.target_time = target_time.isoformat() if isinstance(target_time, datetime) else target_time

    def poke(self, context: dict[str, Any]) -> bool:
        target = datetime.fromisoformat(str(self.target_time))
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)
        print(f"Checking if the time ({target}) has come")
        return _now() > target


class TimeSensor(BaseSensorOperator):
    """Waits until the time of day ``target_time`` (in the DAG's time zone) on the day the task runs."""

    def __init__(self, *, target_time: dt_time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(target_time, dt_time):
            raise DagDefinitionError(f"Task '{self.task_id}': target_time must be a datetime.time, got {target_time!r}")
        self.target_time = target_time

    def poke(self, context: dict[str, Any]) -> bool:
        tz = self.dag.timezone if self.dag is not None else UTC
        today = datetime.now(tz).date()
        target = datetime.combine(today, self.target_time)
        target = target.replace(tzinfo=tz) if target.tzinfo is None else target
        print(f"Checking if the time ({target}) has come")
        return _now() > target


class TimeDeltaSensor(BaseSensorOperator):
    """Waits until ``delta`` after the end of the run's data interval (its logical date when the
    interval is empty)."""

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(delta, timedelta):
            raise DagDefinitionError(f"Task '{self.task_id}': delta must be a datetime.timedelta, got {delta!r}")
        self.delta = delta

    def execute(self, context: dict[str, Any]) -> Any:
        done = super().execute(context)
        # Airflow's deferred variant ends through its trigger, whose event (True) becomes the XCom
        return True if self.deferrable else done

    def poke(self, context: dict[str, Any]) -> bool:
        # a run without a logical date (an Airflow 3 trigger) counts from its run_after, as in Airflow 3
        base = context.get("data_interval_end") or context.get("logical_date") or context["dag_run"].run_after
        target = base + self.delta
        print(f"Checking if the time ({target}) has come")
        return _now() > target


class TimeDeltaSensorAsync(TimeDeltaSensor):
    """Airflow's deferrable variant; runs in poke mode here."""


class TimeSensorAsync(TimeSensor):
    """Airflow's deferrable variant; runs in poke mode here."""


class DateTimeSensorAsync(DateTimeSensor):
    """Airflow's deferrable variant; runs in poke mode here."""


class WaitSensor(TimeDeltaSensor):
    """Waits ``time_to_wait`` from when the task starts."""

    def __init__(self, *, time_to_wait: timedelta | int, **kwargs: Any) -> None:
        delta = time_to_wait if isinstance(time_to_wait, timedelta) else timedelta(minutes=time_to_wait)
        super().__init__(delta=delta, **kwargs)

    def execute(self, context: dict[str, Any]) -> Any:
        _time.sleep(self.delta.total_seconds())
        return None


class BashSensor(BaseSensorOperator):
    """Waits until ``bash_command`` exits 0. With ``retry_exit_code``, only that code means
    "poke again" and any other non-zero code fails the task."""

    template_fields = ("bash_command", "env")

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        output_encoding: str = "utf-8",
        retry_exit_code: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context: dict[str, Any]) -> bool:
        print(f"Running command: {self.bash_command}")
        environment = {**os.environ, **self.env} if self.env is not None else None
        done = subprocess.run(["bash", "-c", self.bash_command], env=environment, check=False)
        print(f"Command exited with return code {done.returncode}")
        if self.retry_exit_code is not None and done.returncode not in (0, self.retry_exit_code):
            raise TradewindError(
                f"Command exited with return code {done.returncode} (retry_exit_code={self.retry_exit_code})"
            )
        return done.returncode == 0


class DayOfWeekSensor(BaseSensorOperator):
    """Waits until today (or the run's logical date, with ``use_task_logical_date``) is one of
    ``week_day`` (names such as ``"Saturday"``, ``WeekDay`` members, or a set of them)."""

    def __init__(
        self,
        *,
        week_day: Any,
        use_task_logical_date: bool = False,
        use_task_execution_day: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date or use_task_execution_day
        self._week_day_num = WeekDay.validate_week_day(week_day)

    def poke(self, context: dict[str, Any]) -> bool:
        moment = context["logical_date"] if self.use_task_logical_date else _now()
        return moment.isoweekday() in self._week_day_num
