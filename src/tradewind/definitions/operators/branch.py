"""Branch operators that choose without a Python callable: subclass ``BaseBranchOperator``,
or branch on the weekday or the time (``BranchDayOfWeekOperator``, ``BranchDateTimeOperator``),
or skip what follows when a run is not the latest (``LatestOnlyOperator``)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from tradewind.definitions.baseoperator import BaseOperator
from tradewind.definitions.operators.python import SkipMixin
from tradewind.definitions.timetables import DataInterval, Restriction
from tradewind.errors import DagDefinitionError


class BaseBranchOperator(BaseOperator, SkipMixin):
    """Implement ``choose_branch(context)``: the task id(s) to follow; the other direct downstream
    tasks are skipped."""

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str] | None:
        raise NotImplementedError(f"{type(self).__name__} must implement choose_branch(context)")

    def execute(self, context: dict[str, Any]) -> Any:
        branch = self.choose_branch(context)
        self.skip_all_except(context["ti"], branch)
        return branch  # kept as the XCom only when nothing was skipped (as in Airflow 3)


class WeekDay(enum.IntEnum):
    """Airflow's ``airflow.utils.weekday.WeekDay``: ISO weekday numbers."""

    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str: str) -> int:
        try:
            return cls[week_day_str.upper()].value
        except KeyError:
            raise AttributeError(f'Invalid Week Day passed: "{week_day_str}"') from None

    @classmethod
    def convert(cls, day: str | WeekDay) -> int:
        return day.value if isinstance(day, WeekDay) else cls.get_weekday_number(day)

    @classmethod
    def validate_week_day(cls, week_day: Any) -> set[int]:
        if isinstance(week_day, (str, WeekDay)):
            return {cls.convert(week_day)}
        if isinstance(week_day, Iterable):
            return {cls.convert(day) for day in week_day}
        raise TypeError(f"Unsupported Type for week_day parameter: {type(week_day).__name__}")


class BranchDayOfWeekOperator(BaseBranchOperator):
    """Follow ``follow_task_ids_if_true`` on the given weekday(s), else ``follow_task_ids_if_false``.
    The day is today's (in UTC), or the run's logical date with ``use_task_logical_date=True``."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        week_day: str | Iterable[str] | WeekDay | Iterable[WeekDay],
        use_task_logical_date: bool = False,
        use_task_execution_day: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date or use_task_execution_day
        self._week_day_num = WeekDay.validate_week_day(week_day)

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str]:
        moment = context["logical_date"] if self.use_task_logical_date else datetime.now(UTC)
        if moment.isoweekday() in self._week_day_num:
            return self.follow_task_ids_if_true
        return self.follow_task_ids_if_false


def _as_moment(value: Any, name: str, task_id: str) -> datetime | time:
    if isinstance(value, (datetime, time)):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    raise DagDefinitionError(f"Task '{task_id}': {name} must be a datetime, date or time, got {value!r}")


class BranchDateTimeOperator(BaseBranchOperator):
    """Follow ``follow_task_ids_if_true`` when now (or the logical date) is within
    [``target_lower``, ``target_upper``]; either bound may be None, and time bounds are on today."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        target_lower: datetime | time | None,
        target_upper: datetime | time | None,
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if target_lower is None and target_upper is None:
            raise DagDefinitionError(
                f"Task '{self.task_id}': BranchDateTimeOperator needs target_lower or target_upper (or both)"
            )
        self.target_lower = None if target_lower is None else _as_moment(target_lower, "target_lower", self.task_id)
        self.target_upper = None if target_upper is None else _as_moment(target_upper, "target_upper", self.task_id)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = use_task_logical_date

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str]:
        now = context["logical_date"] if self.use_task_logical_date else datetime.now(UTC)
        lower, upper = _bounds(now, self.target_lower, self.target_upper)
        inside = (lower is None or lower <= now) and (upper is None or now <= upper)
        return self.follow_task_ids_if_true if inside else self.follow_task_ids_if_false


def _bounds(now: datetime, lower: Any, upper: Any) -> tuple[datetime | None, datetime | None]:
    """Bounds as datetimes in ``now``'s zone; time bounds fall on ``now``'s day (an upper time
    before the lower one falls on the next day)."""

    def on_day(value: Any, day: date) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, time):
            value = datetime.combine(day, value)
        return value if value.tzinfo is not None else value.replace(tzinfo=now.tzinfo or UTC)

    low, high = on_day(lower, now.date()), on_day(upper, now.date())
    if isinstance(upper, time) and isinstance(lower, time) and low is not None and high is not None and high < low:
        high = on_day(upper, date.fromordinal(now.date().toordinal() + 1))
    return low, high


class LatestOnlyOperator(BaseBranchOperator):
    """Skip the direct downstream tasks unless this run covers the latest scheduled interval.

    A manual run (``dags test``, ``dags trigger``) is always let through, as in Airflow."""

    ui_color = "#e9ffdb"

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str]:
        everything = sorted(self.downstream_task_ids)
        dag_run = context["dag_run"]
        if dag_run.run_type == "manual" or self.dag is None:
            print("Manually triggered DAG run: allowing execution to proceed.")
            return everything
        window = self._window(dag_run)
        if window is None:
            print("Last scheduled run: allowing execution to proceed.")
            return everything
        now = datetime.now(UTC)
        left, right = window
        print(f"Checking latest only with left_window: {left} right_window: {right} now: {now}")
        if not left < now <= right:
            print("Not latest execution, skipping downstream.")
            return []
        print("Latest, allowing execution to proceed.")
        return everything

    def _window(self, dag_run: Any) -> tuple[datetime, datetime] | None:
        """From the start of this run's interval to the end of the next one."""
        assert self.dag is not None
        current = DataInterval(
            dag_run.data_interval_start or dag_run.logical_date, dag_run.data_interval_end or dag_run.logical_date
        )
        following = self.dag.timetable.next_run(
            current, Restriction(earliest=current.end, latest=None, catchup=True), datetime.now(UTC)
        )
        if following is None:
            return None
        return current.start, following.data_interval.end
