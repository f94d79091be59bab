"""What a task may return (or push as an XCom), and its stored JSON form. See docs/return-values.md.

Used by every layer:

* :func:`encode` turns a value into JSON types, or raises :class:`UnstorableValue` naming the
  type and where it sits. Plain JSON values (str, int, float, bool, None, and lists and dicts of
  them) come back as the very same object, so the common case costs a type check per element.
* :func:`decode` is its inverse. It never imports user code: a dataclass comes back as a
  :class:`StoredDataclass` (its class name and fields), which is what the scheduler holds.
* :func:`rebuild` turns those back into instances of their classes; only the worker that runs
  the consuming task calls it.
* :func:`stored_form` is ``decode(encode(value))``: the value as other tasks and the scheduler
  will see it. The worker hands on only that, so ``dags test`` and the scheduler agree.

Other values are tagged: ``{"__tw__": "<type>", "v": <payload>}``. A user's dict that itself
has the key ``__tw__`` is stored as ``{"__tw__": "dict", "v": {...}}``, so no value can be
mistaken for a tag.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from tradewind.errors import XComValueError

TAG = "__tw__"
SUPPORTED = (
    "str, int, float, bool, None, list, dict with str keys, tuple, set, frozenset, "
    "datetime, date, time, timedelta, Decimal and dataclasses"
)


class UnstorableValue(XComValueError):
    """A value (or a part of it) that no rule of :mod:`tradewind.serde` can store."""

    def __init__(self, type_name: str, path: str, reason: str) -> None:
        self.type_name = type_name
        self.path = path
        self.reason = reason
        where = f" at {path}" if path else ""
        super().__init__(f"cannot store a value of type '{type_name}'{where}: {reason}")


class _Refused(Exception):
    """Raised deep inside :func:`encode`; each container on the way out adds its path segment."""

    def __init__(self, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.type_name = type(value).__name__
        self.reason = reason
        self.segments: list[str] = []  # innermost first


def _not_supported(value: Any) -> str:
    hint = "convert it to one of these first"
    module = type(value).__module__.split(".")[0]
    if isinstance(value, Enum):
        hint = "return its .value"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        hint = "decode it to str (or base64-encode it)"
    elif module == "numpy":
        hint = "convert it with .tolist()"
    elif module == "pandas":
        hint = "return .to_dict() or write it to a file and return the path"
    return f"a task may return {SUPPORTED}; {hint} (see docs/return-values.md)"


# --- encode ---------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """The JSON form of ``value`` (the same object when it is plain JSON), else UnstorableValue."""
    try:
        return _enc(value)
    except _Refused as refused:
        raise UnstorableValue(refused.type_name, "".join(reversed(refused.segments)), refused.reason) from None
    except RecursionError:
        raise UnstorableValue(type(value).__name__, "", "it is nested too deeply, or contains itself") from None


def _enc(v: Any) -> Any:
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        return v if v - v == 0.0 else {TAG: "float", "v": repr(v)}  # inf - inf and nan - nan are nan
    if t is list:
        return _enc_list(v)
    if t is dict:
        return _enc_dict(v) if TAG not in v else _enc_dict_general(v)
    return _enc_other(v)


def _enc_list(v: list[Any]) -> list[Any]:
    out: list[Any] | None = None
    for i, x in enumerate(v):
        tx = type(x)
        if tx is str or tx is int or tx is bool or x is None:
            e = x
        else:
            try:
                e = _enc(x)
            except _Refused as refused:
                refused.segments.append(f"[{i}]")
                raise
        if out is not None:
            out.append(e)
        elif e is not x:
            out = v[:i]
            out.append(e)
    return v if out is None else out


def _enc_dict(v: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] | None = None
    for k, x in v.items():
        if type(k) is not str:
            return _enc_dict_general(v)
        tx = type(x)
        if tx is str or tx is int or tx is bool or x is None:
            continue
        try:
            e = _enc(x)
        except _Refused as refused:
            refused.segments.append(f"[{k!r}]")
            raise
        if e is not x:
            if out is None:
                out = dict(v)
            out[k] = e
    return v if out is None else out


def _json_key(k: Any) -> str:
    """The str a dict key becomes, as JSON makes it: 1 -> '1', True -> 'true', None -> 'null'."""
    if isinstance(k, str):
        return str.__str__(k)
    if k is None:
        return "null"
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, int):
        return int.__repr__(k)
    if isinstance(k, float):
        f = float.__float__(k)
        if f - f == 0.0:
            return float.__repr__(f)
        return "NaN" if f != f else ("Infinity" if f > 0 else "-Infinity")
    raise _Refused(
        k, f"it is the dict key {k!r}; keys must be str (int, float, bool and None become strings, as in JSON)"
    )


def _enc_dict_general(v: dict[Any, Any]) -> dict[str, Any]:
    """A dict with non-str keys, a dict subclass, or one that uses the tag key: always a new dict."""
    out: dict[str, Any] = {}
    originals: dict[str, Any] = {}
    for k, x in v.items():
        key = _json_key(k)
        if key in out:
            raise _Refused(v, f"its keys {originals[key]!r} and {k!r} would both become {key!r}")
        originals[key] = k
        try:
            out[key] = _enc(x)
        except _Refused as refused:
            refused.segments.append(f"[{k!r}]")
            raise
    return {TAG: "dict", "v": out} if TAG in out else out


def _enc_seq(v: Any) -> list[Any]:
    out = []
    for i, x in enumerate(v):
        try:
            out.append(_enc(x))
        except _Refused as refused:
            refused.segments.append(f"[{i}]")
            raise
    return out


def _enc_members(v: Any) -> list[Any]:
    out = []
    for x in v:
        try:
            out.append(_enc(x))
        except _Refused as refused:
            refused.segments.append("{...}")
            raise
    return out


def _zone(tz: Any) -> str | None:
    """The IANA name of a zone (zoneinfo, pendulum, pytz), None for a fixed offset."""
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return name if isinstance(name, str) else None


def _enc_datetime(v: datetime, tag: str) -> dict[str, Any]:
    out: dict[str, Any] = {TAG: tag, "v": v.isoformat()}
    zone = _zone(v.tzinfo) if v.tzinfo is not None else None
    if zone:
        out["tz"] = zone
    return out


def _enc_other(v: Any) -> Any:
    t = type(v)
    if t is tuple:
        return {TAG: "tuple", "v": _enc_seq(v)}
    if t is set or t is frozenset:
        return {TAG: t.__name__, "v": _enc_members(v)}
    if isinstance(v, str):  # StrEnum members and other str subclasses: the plain string
        return str.__str__(v)
    if isinstance(v, int):  # IntEnum, IntFlag
        return int.__int__(v)
    if isinstance(v, float):  # e.g. numpy.float64
        return _enc(float.__float__(v))
    if isinstance(v, datetime):
        pendulum = type(v).__module__.split(".")[0] == "pendulum"
        return _enc_datetime(v, "pendulum" if pendulum else "datetime")
    if isinstance(v, date):
        return {TAG: "date", "v": date.isoformat(v)}
    if isinstance(v, time):
        out: dict[str, Any] = {TAG: "time", "v": v.isoformat()}
        zone = _zone(v.tzinfo) if v.tzinfo is not None else None
        if zone:
            out["tz"] = zone
        return out
    if isinstance(v, timedelta):
        return {TAG: "timedelta", "v": [v.days, v.seconds, v.microseconds]}
    if isinstance(v, Decimal):
        return {TAG: "decimal", "v": str(v)}
    if isinstance(v, list):
        return _enc_seq(v)
    if isinstance(v, tuple):  # namedtuple: a plain tuple, as in Airflow
        return {TAG: "tuple", "v": _enc_seq(v)}
    if isinstance(v, dict):
        return _enc_dict_general(v)
    if isinstance(v, (set, frozenset)):
        return {TAG: "frozenset" if isinstance(v, frozenset) else "set", "v": _enc_members(v)}
    if isinstance(v, StoredDataclass):
        return {TAG: "dataclass", "class": v._tw_class, "v": _enc_fields(v._tw_fields)}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return _enc_dataclass(v)
    if type(v).__module__.split(".")[0] == "numpy" and getattr(v, "shape", None) == ():
        plain = v.item()
        if type(plain) in (int, float, bool):
            return _enc(plain)
    if isinstance(v, Sequence) and type(v).__module__.startswith("tradewind."):
        return _enc_seq(v)  # the lazy sequences a reduce task receives: stored as lists
    raise _Refused(v, _not_supported(v))


def _enc_fields(fields: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, x in fields.items():
        try:
            out[name] = _enc(x)
        except _Refused as refused:
            refused.segments.append(f".{name}")
            raise
    return out


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _enc_dataclass(v: Any) -> dict[str, Any]:
    cls = type(v)
    if "<locals>" in cls.__qualname__:
        raise _Refused(
            v,
            f"dataclass {cls.__qualname__} is defined inside a function, so no other task can rebuild it; "
            "define it at module level",
        )
    fields = {f.name: getattr(v, f.name) for f in dataclasses.fields(v) if f.init}
    return {TAG: "dataclass", "class": _class_path(cls), "v": _enc_fields(fields)}


# --- decode ---------------------------------------------------------------------------------------


def decode(data: Any) -> Any:
    """The value :func:`encode` was given (dataclasses as :class:`StoredDataclass`)."""
    t = type(data)
    if t is list:
        out: list[Any] | None = None
        for i, x in enumerate(data):
            d = decode(x) if type(x) in (list, dict) else x
            if out is not None:
                out.append(d)
            elif d is not x:
                out = data[:i]
                out.append(d)
        return data if out is None else out
    if t is dict:
        if TAG in data:
            return _dec_tagged(data)
        changed: dict[str, Any] | None = None
        for k, x in data.items():
            if type(x) in (list, dict):
                d = decode(x)
                if d is not x:
                    if changed is None:
                        changed = dict(data)
                    changed[k] = d
        return data if changed is None else changed
    return data


def _dec_datetime(text: str, zone: str | None) -> datetime:
    value = datetime.fromisoformat(text)
    if zone and value.tzinfo is not None:
        try:
            from zoneinfo import ZoneInfo

            value = value.astimezone(ZoneInfo(zone))
        except (KeyError, ValueError, OSError):  # zone unknown here: keep the offset (same instant)
            pass
    return value


def _dec_tagged(data: dict[str, Any]) -> Any:
    tag, payload = data[TAG], data["v"]
    if tag == "tuple":
        return tuple(decode(x) for x in payload)
    if tag == "set":
        return {decode(x) for x in payload}
    if tag == "frozenset":
        return frozenset(decode(x) for x in payload)
    if tag == "datetime":
        return _dec_datetime(payload, data.get("tz"))
    if tag == "pendulum":
        import pendulum

        value = _dec_datetime(payload, data.get("tz"))
        return pendulum.instance(value, tz=value.tzinfo)
    if tag == "date":
        return date.fromisoformat(payload)
    if tag == "time":
        moment = time.fromisoformat(payload)
        if data.get("tz"):
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo(data["tz"]))
        return moment
    if tag == "timedelta":
        days, seconds, microseconds = payload
        return timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if tag == "decimal":
        return Decimal(payload)
    if tag == "float":
        return float(payload)
    if tag == "dict":
        return {k: decode(x) for k, x in payload.items()}
    if tag == "dataclass":
        return stored_dataclass(data["class"], {k: decode(x) for k, x in payload.items()})
    raise XComValueError(f"stored value has the unknown type tag {tag!r} (written by a newer tradewind?)")


def stored_form(value: Any) -> Any:
    """``value`` as every other task and the scheduler will see it: ``decode(encode(value))``,
    or ``value`` itself when it is plain JSON. Raises UnstorableValue."""
    encoded = encode(value)
    return value if encoded is value else decode(encoded)


# --- dataclasses ------------------------------------------------------------------------------------


class StoredDataclass:
    """A dataclass value held where its class is not imported (the scheduler): its class path
    (``module:QualName``) and its fields, readable as attributes. :func:`rebuild` makes the real
    object. Its type is named after the class, so messages read naturally."""

    __slots__ = ("_tw_class", "_tw_fields")
    _tw_class: str
    _tw_fields: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_tw_"):
            try:
                return self._tw_fields[name]
            except KeyError:
                pass
        raise AttributeError(f"{type(self).__name__!r} has no field {name!r}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StoredDataclass):
            return (self._tw_class, self._tw_fields) == (other._tw_class, other._tw_fields)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._tw_class, tuple(self._tw_fields.items())))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._tw_fields.items())
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (stored_dataclass, (self._tw_class, self._tw_fields))


_placeholder_types: dict[str, type[StoredDataclass]] = {}


def stored_dataclass(path: str, fields: dict[str, Any]) -> StoredDataclass:
    kind = _placeholder_types.get(path)
    if kind is None:
        name = path.rpartition(":")[2].rpartition(".")[2] or "StoredDataclass"
        kind = type(name, (StoredDataclass,), {"__slots__": (), "__qualname__": name})
        _placeholder_types[path] = kind
    value = object.__new__(kind)
    object.__setattr__(value, "_tw_class", path)
    object.__setattr__(value, "_tw_fields", fields)
    return value


def _find_class(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name)
    try:
        if module is None:
            module = importlib.import_module(module_name)
        found: Any = module
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise XComValueError(f"cannot rebuild dataclass {qualname!r}: {exc}") from None
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise XComValueError(f"cannot rebuild {qualname!r}: {module_name}.{qualname} is no longer a dataclass")
    return found


def rebuild(value: Any) -> Any:
    """``value`` with every StoredDataclass made an instance of its class again (importing it);
    the same object when there is none."""
    t = type(value)
    if t is str or t is int or t is float or t is bool or value is None:
        return value
    if isinstance(value, StoredDataclass):
        cls = _find_class(value._tw_class)
        fields = {k: rebuild(x) for k, x in value._tw_fields.items()}
        try:
            return cls(**fields)
        except TypeError as exc:
            raise XComValueError(f"cannot rebuild dataclass {cls.__qualname__!r} from {fields!r}: {exc}") from None
    if t is list or t is tuple or t is set or t is frozenset:
        items = [rebuild(x) for x in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return t(items)
    if t is dict:
        changed = {k: rebuild(x) for k, x in value.items()}
        if all(changed[k] is x for k, x in value.items()):
            return value
        return changed
    return value
