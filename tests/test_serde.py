"""What a task may return: every supported value comes back equal and of the same type; a value
that cannot be stored is refused with a message naming its type and where it sits."""

from __future__ import annotations

import enum
import json
import math
import pickle
from collections import OrderedDict, namedtuple
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest

from tradewind import serde
from tradewind.errors import XComValueError


@dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclass
class Shipment:
    id: str
    sent: datetime
    points: list[Point]
    tags: set[str] = field(default_factory=set)
    total: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.total = len(self.points)


class Colour(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 3


class Plain(enum.Enum):
    A = 1


Pair = namedtuple("Pair", "left right")

PARIS = ZoneInfo("Europe/Paris")

# values that come back equal and of the same type, all the way down
ROUND_TRIPS: list[Any] = [
    None,
    True,
    0,
    -(2**70),
    1.5,
    -0.0,
    "ünïcode ✓",
    [],
    {},
    [1, "a", None, [2.5, {"k": [True]}]],
    {"z": 1, "a": {"b": [1, 2]}},
    (1, "a"),
    (),
    ((1, 2), [3, (4,)]),
    {"b", "a"},
    set(),
    frozenset({1, 2}),
    {frozenset({1}), (1, 2)},
    datetime(2025, 7, 1, 12, 30, 15, 123456, tzinfo=UTC),
    datetime(2025, 7, 1, 12, 30),
    datetime(2025, 7, 1, 12, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=PARIS),
    pendulum.datetime(2025, 3, 30, 3, 30, tz="Europe/Paris"),
    pendulum.datetime(2025, 1, 1),
    pendulum.naive(2025, 1, 1, 8),
    date(2025, 7, 1),
    time(23, 59, 59, 999999),
    time(8, 0, tzinfo=timezone(timedelta(hours=2))),
    timedelta(days=-3, seconds=5, microseconds=7),
    timedelta(days=10**6),
    Decimal("1.10"),
    Decimal("-1E+30"),
    Decimal("Infinity"),
    float("inf"),
    float("-inf"),
    {"when": [datetime(2025, 1, 1, tzinfo=UTC)], "n": Decimal("2.50")},
    {"__tw__": "tuple", "v": [1, 2]},  # a user's dict that uses the tag key stays a dict
    {"__tw__": {"__tw__": "set"}},
    Point(1, 2),
    [Point(1, 2), {"p": (Point(3, 4),)}],
    Shipment("s-1", datetime(2025, 1, 1, tzinfo=UTC), [Point(0, 0)], {"fragile"}),
]


def assert_same(a: Any, b: Any) -> None:
    """Equal, and of the same type at every level."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
        return
    assert a == b
    if isinstance(a, (list, tuple)):
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)  # key order kept
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, datetime) and a.tzinfo is not None:
        assert a.utcoffset() == b.utcoffset() and a.tzname() == b.tzname()


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=repr)
def test_round_trip_gives_an_equal_value_of_the_same_type(value: Any) -> None:
    encoded = serde.encode(value)
    text = json.dumps(encoded, allow_nan=False)  # plain JSON, no NaN/Infinity tokens
    assert_same(serde.rebuild(serde.decode(json.loads(text))), value)


def test_nan_round_trips() -> None:
    back = serde.decode(json.loads(json.dumps(serde.encode([math.nan]), allow_nan=False)))
    assert isinstance(back[0], float) and math.isnan(back[0])


def test_zone_survives_so_arithmetic_follows_its_rules() -> None:
    value = datetime(2025, 3, 29, 12, tzinfo=PARIS)
    back = serde.decode(serde.encode(value))
    assert back.tzinfo is PARIS
    assert (back + timedelta(days=1)).utcoffset() == timedelta(hours=2)  # across the DST change


@pytest.mark.parametrize("value", [None, 3, "s", True, 1.5, [1, "a", [None]], {"a": {"b": [1, 2.5]}}], ids=repr)
def test_plain_json_is_passed_through_as_the_same_object(value: Any) -> None:
    assert serde.encode(value) is value
    assert serde.decode(value) is value
    assert serde.stored_form(value) is value


def test_only_the_changed_branch_is_copied() -> None:
    plain = [1, 2, 3]
    value = {"plain": plain, "when": date(2025, 1, 1)}
    encoded = serde.encode(value)
    assert encoded["plain"] is plain and value["when"] == date(2025, 1, 1)  # the input is not modified


# values stored as documented conversions (what Airflow also does), decided in the worker
CONVERTED: list[tuple[Any, Any]] = [
    (Colour.RED, "red"),
    (Size.LARGE, 3),
    ({2: "a", 2.5: "b", True: "c", None: "d"}, {"2": "a", "2.5": "b", "true": "c", "null": "d"}),
    (Pair(1, 2), (1, 2)),
    (OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
    ({Colour.RED: 1}, {"red": 1}),
]


@pytest.mark.parametrize(("value", "expected"), CONVERTED, ids=repr)
def test_conversions(value: Any, expected: Any) -> None:
    assert_same(serde.stored_form(value), expected)


def test_numpy_scalars_become_python_numbers() -> None:
    class int64:  # a stand-in with numpy's shape: numpy is not a dependency of the tests
        __module__ = "numpy"
        shape = ()

        def item(self) -> int:
            return 7

    assert_same(serde.stored_form([int64()]), [7])


class Opaque:
    pass


def _local_dataclass() -> Any:
    @dataclass
    class Local:
        a: int

    return Local(1)


def _cycle() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    return value


REFUSED: list[tuple[Any, str]] = [
    (Opaque(), "cannot store a value of type 'Opaque': a task may return str, int, float"),
    ([1, {"a": Opaque()}], "cannot store a value of type 'Opaque' at [1]['a']: "),
    ((1, [b"raw"]), "cannot store a value of type 'bytes' at [1][0]: a task may return"),
    ({"s": {Opaque()}}, "cannot store a value of type 'Opaque' at ['s']{...}: "),
    (Shipment("s", datetime(2025, 1, 1), [Point(1, Opaque())]), "type 'Opaque' at .points[0].y: "),
    ({(1, 2): "x"}, "cannot store a value of type 'tuple': it is the dict key (1, 2); keys must be str"),
    ({"a": {date(2025, 1, 1): 1}}, "type 'date' at ['a']: it is the dict key datetime.date(2025, 1, 1)"),
    ({1: "a", "1": "b"}, "cannot store a value of type 'dict': its keys 1 and '1' would both become '1'"),
    (Plain.A, "cannot store a value of type 'Plain': a task may return"),
    (_local_dataclass(), "dataclass _local_dataclass.<locals>.Local is defined inside a function"),
    (_cycle(), "cannot store a value of type 'list': it is nested too deeply, or contains itself"),
]


@pytest.mark.parametrize(("value", "message"), REFUSED, ids=lambda v: type(v).__name__)
def test_refused_values_name_the_type_and_where_it_sits(value: Any, message: str) -> None:
    with pytest.raises(serde.UnstorableValue) as caught:
        serde.encode(value)
    assert message in str(caught.value)
    assert isinstance(caught.value, XComValueError)


def test_hints_say_what_to_do() -> None:
    with pytest.raises(serde.UnstorableValue, match=r"return its \.value"):
        serde.encode(Plain.A)
    with pytest.raises(serde.UnstorableValue, match=r"decode it to str"):
        serde.encode(b"x")


# --- dataclasses where the class is not imported (the scheduler) ------------------------------------


def test_a_dataclass_decodes_to_a_stored_dataclass_without_importing_anything() -> None:
    encoded = serde.encode(Point(1, 2))
    assert encoded == {"__tw__": "dataclass", "class": f"{__name__}:Point", "v": {"x": 1, "y": 2}}
    held = serde.decode(encoded)
    assert isinstance(held, serde.StoredDataclass) and not isinstance(held, Point)
    assert type(held).__name__ == "Point"  # messages about it read naturally
    assert (held.x, held.y) == (1, 2)
    assert repr(held) == "Point(x=1, y=2)"
    assert held == serde.decode(serde.encode(Point(1, 2))) and held != serde.decode(serde.encode(Point(2, 1)))
    assert serde.encode(held) == encoded  # stored again unchanged
    assert pickle.loads(pickle.dumps(held)) == held  # crosses process boundaries without the class
    assert serde.rebuild(held) == Point(1, 2)


def test_fields_not_in_init_are_recomputed() -> None:
    value = Shipment("s", datetime(2025, 1, 1), [Point(1, 2), Point(3, 4)])
    assert "total" not in serde.encode(value)["v"]
    assert serde.rebuild(serde.decode(serde.encode(value))).total == 2


def test_rebuilding_a_class_that_is_gone_says_so() -> None:
    held = serde.decode({"__tw__": "dataclass", "class": f"{__name__}:Gone", "v": {"a": 1}})
    with pytest.raises(XComValueError, match="cannot rebuild dataclass 'Gone'"):
        serde.rebuild(held)


def test_an_unknown_tag_is_an_error() -> None:
    with pytest.raises(XComValueError, match="unknown type tag 'future'"):
        serde.decode({"__tw__": "future", "v": 1})
