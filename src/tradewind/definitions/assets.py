"""Assets (Airflow 3; Datasets in Airflow 2): data-aware scheduling, the definitions' half.

A task with ``outlets=[asset]`` that succeeds emits one asset event per asset; a DAG with
``schedule=[asset, ...]`` (all of them) or a condition (``a & (b | c)``) gets a run once its
condition holds over the assets updated since its last asset-triggered run. This module holds
the values and their JSON forms; the scheduler (``scheduler/assets.py``) evaluates conditions
and the store (``store/assets.py``) keeps events and the per-consumer queue. See
docs/adr/0012-data-aware-scheduling.md.

>>> orders = Asset("s3://shop/orders.parquet")
>>> DAG("report", schedule=[orders])          # runs when a task with outlets=[orders] succeeds
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tradewind.errors import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.definitions.compat_warnings import ImportWarnings

MAX_IDENTIFIER = 1500  # Airflow's limit on an asset's name, uri and group


def _identifier(kind: str, what: str, value: object, *, name: bool = False) -> str:
    if not isinstance(value, str):
        raise DagDefinitionError(f"{kind} {what} must be a string, got {value!r}")
    if not value:
        raise DagDefinitionError(f"{kind} {what} cannot be empty")
    if len(value) > MAX_IDENTIFIER:
        raise DagDefinitionError(f"{kind} {what} cannot exceed {MAX_IDENTIFIER} characters")
    if value.isspace():
        raise DagDefinitionError(f"{kind} {what} cannot be just whitespace")
    if name and value in ("self", "context"):
        raise DagDefinitionError(f"{kind} {what} {value!r} is prohibited (it is a name Airflow reserves)")
    return value


def normalize_uri(value: object) -> str:
    """An asset URI as Airflow 3 stores it: a URI with a scheme gets its scheme lower-cased,
    the user info and fragment dropped, the query sorted and trailing slashes removed (``s3://b``
    becomes ``s3://b/``); the scheme ``airflow`` is refused; a plain name or an ``x-`` scheme is
    kept as written."""
    uri = _identifier("Asset", "uri", str(value) if hasattr(value, "__fspath__") else value)
    parts = urllib.parse.urlsplit(uri)
    if not parts.scheme and not parts.netloc:
        return uri
    scheme = parts.scheme.lower()
    if not scheme or scheme.startswith("x-"):
        return uri
    if scheme == "airflow":
        raise DagDefinitionError(f"Asset uri {uri!r}: the scheme 'airflow' is reserved; use another scheme")
    netloc = parts.netloc.rpartition("@")[2] if parts.password else parts.netloc
    query = urllib.parse.urlencode(sorted(urllib.parse.parse_qsl(parts.query))) if parts.query else ""
    return urllib.parse.urlunsplit((scheme, netloc, parts.path.rstrip("/") or "/", query, ""))


class BaseAsset:
    """What can stand in a DAG's ``schedule``: an asset, an alias, or a condition of them."""

    def __and__(self, other: BaseAsset) -> AssetAll:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(self, other)

    def __or__(self, other: BaseAsset) -> AssetAny:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(self, other)

    def iter_assets(self) -> Iterator[BaseAsset]:
        yield self

    def as_node(self) -> dict[str, Any]:
        raise NotImplementedError


class Asset(BaseAsset):
    """A piece of data a task produces (``outlets=[asset]``) or a DAG waits for.

    >>> Asset("s3://shop/orders/")                    # name 's3://shop/orders/', uri 's3://shop/orders'
    >>> Asset(name="orders", uri="s3://shop/orders", group="sales", extra={"owner": "ana"})
    """

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        *,
        group: str | None = None,
        extra: dict[str, Any] | None = None,
        watchers: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if name is None and uri is None:
            raise TypeError("Asset() requires either 'name' or 'uri'")
        if name is None:
            name = str(uri)
        elif uri is None:
            uri = name
        self.name: str = _identifier("Asset", "name", name, name=True)
        self.uri: str = normalize_uri(uri)
        self.group: str = _identifier("Asset", "group", group) if group is not None else self.default_group
        if extra is not None and not isinstance(extra, dict):
            raise DagDefinitionError(f"Asset {self.name!r}: extra must be a dict, got {extra!r}")
        self.extra: dict[str, Any] = dict(extra or {})
        self.watchers = list(watchers or [])

    default_group = "asset"

    @classmethod
    def ref(cls, *, name: str = "", uri: str = "") -> Asset:
        """An asset named elsewhere, by its name or its uri (tradewind resolves it to an asset with
        that name and uri: give the same one the producer uses)."""
        if name and uri:
            raise TypeError("Asset reference must be made to either name or URI, not both")
        if not name and not uri:
            raise TypeError("Asset reference expects keyword argument 'name' or 'uri'")
        return cls(name=name or None, uri=uri or None)

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.uri)

    def as_node(self) -> dict[str, Any]:
        return {"asset": [self.name, self.uri], "group": self.group}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Asset) and (self.name, self.uri, self.group) == (other.name, other.uri, other.group)

    def __hash__(self) -> int:
        return hash((self.name, self.uri))

    def __repr__(self) -> str:
        return f"Asset(name={self.name!r}, uri={self.uri!r}, group={self.group!r}, extra={self.extra!r})"


class Dataset(Asset):
    """Airflow 2's name for an asset (its uri is its name)."""

    default_group = "dataset"

    def __init__(self, uri: str, extra: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(uri=uri, extra=extra, **kwargs)


class AssetAlias(BaseAsset):
    """A name a task attaches asset events to at run time (``outlet_events[alias].add(asset)``);
    a DAG scheduled on it runs on the events emitted through it."""

    def __init__(self, name: str, group: str = "asset") -> None:
        self.name = _identifier("AssetAlias", "name", name)
        self.group = _identifier("AssetAlias", "group", group)

    def as_node(self) -> dict[str, Any]:
        return {"alias": self.name}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetAlias) and self.name == other.name

    def __hash__(self) -> int:
        return hash(("alias", self.name))

    def __repr__(self) -> str:
        return f"AssetAlias(name={self.name!r}, group={self.group!r})"


class _AssetCondition(BaseAsset):
    kind = ""

    def __init__(self, *objects: BaseAsset) -> None:
        for item in objects:
            if not isinstance(item, BaseAsset):
                raise DagDefinitionError(
                    f"{type(self).__name__}() takes assets, aliases or conditions of them, got {item!r}"
                )
        self.objects = list(objects)

    def iter_assets(self) -> Iterator[BaseAsset]:
        for item in self.objects:
            yield from item.iter_assets()

    def as_node(self) -> dict[str, Any]:
        return {self.kind: [item.as_node() for item in self.objects]}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.objects))})"


class AssetAll(_AssetCondition):
    """Every one of these has been updated (``a & b``; a list in ``schedule=`` means this)."""

    kind = "all"


class AssetAny(_AssetCondition):
    """Any one of these has been updated (``a | b``)."""

    kind = "any"


@dataclass(frozen=True)
class Metadata:
    """Extra information for the asset event of ``asset``, yielded by a task:
    ``yield Metadata(orders, {"rows": 12})`` (with ``alias=``: the event is emitted through it)."""

    asset: Any
    extra: dict[str, Any] = field(default_factory=dict)
    alias: Any = None


class AssetOrTimeSchedule:
    """A schedule that runs by ``timetable`` and also whenever ``assets`` (an asset, a list of
    them, or a condition) are updated (Airflow 3's ``AssetOrTimeSchedule``).

    >>> AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * 3", timezone="UTC"), assets=a & b)
    """

    def __init__(self, *, timetable: Any, assets: Any) -> None:
        condition = asset_condition(assets)
        if condition is None:
            raise DagDefinitionError(
                "AssetOrTimeSchedule(assets=...) takes an asset, a list of assets or a condition of them, "
                f"got {assets!r}"
            )
        self.timetable = timetable
        self.asset_condition = condition

    @property
    def summary(self) -> str:
        return f"Asset or {getattr(self.timetable, 'summary', self.timetable)}"


class DatasetOrTimeSchedule(AssetOrTimeSchedule):
    """Airflow 2's name (``airflow.timetables.datasets``), whose assets are ``datasets=``."""

    def __init__(self, *, timetable: Any, datasets: Any) -> None:
        super().__init__(timetable=timetable, assets=datasets)


DatasetAlias = AssetAlias
DatasetAll = AssetAll
DatasetAny = AssetAny


def is_asset_schedule(schedule: object) -> bool:
    if isinstance(schedule, BaseAsset):
        return True
    return (
        isinstance(schedule, (list, tuple, set)) and bool(schedule) and all(isinstance(s, BaseAsset) for s in schedule)
    )


def asset_condition(schedule: object) -> BaseAsset | None:
    """The condition a DAG's ``schedule`` waits for (a list: all of them), or None."""
    if isinstance(schedule, AssetOrTimeSchedule):
        return schedule.asset_condition
    if not is_asset_schedule(schedule):
        return None
    if isinstance(schedule, BaseAsset):
        return schedule
    return AssetAll(*_items(schedule))


def schedule_of(schedule: object, warnings: ImportWarnings) -> object:
    """``schedule`` as a timetable understands it: assets become None (the DAG has no time
    schedule; it runs when its asset condition holds, or when triggered); an
    ``AssetOrTimeSchedule`` its timetable."""
    if isinstance(schedule, AssetOrTimeSchedule):
        return schedule.timetable
    return None if is_asset_schedule(schedule) else schedule


def _items(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def outlet_nodes(outlets: object) -> list[dict[str, Any]]:
    """The JSON form of a task's ``outlets``: its assets and aliases (other objects, as Airflow
    2's lineage ``File``, emit no event; :func:`lineage_warning` names them)."""
    nodes = []
    for item in _items(outlets):
        if isinstance(item, Asset):
            nodes.append({**item.as_node(), "extra": item.extra} if item.extra else item.as_node())
        elif isinstance(item, AssetAlias):
            nodes.append(item.as_node())
    return nodes


def lineage_warning(task: Any) -> str | None:
    """The import warning for a task's inlets or outlets that are not assets or aliases
    (Airflow keeps them as lineage; they emit and read no asset event), or None."""
    for argument in ("outlets", "inlets"):
        others = [i for i in _items(getattr(task, argument, None)) if not isinstance(i, (Asset, AssetAlias))]
        if others:
            return (
                f"task '{task.task_id}': {argument} {others[0]!r} is not an Asset or AssetAlias and is ignored "
                "(tradewind records no lineage)"
            )
    return None


def read_node(node: dict[str, Any]) -> BaseAsset:
    """The asset, alias or condition of a JSON node (``as_node``'s inverse)."""
    if "asset" in node:
        name, uri = node["asset"]
        asset = Asset.__new__(Asset)  # stored values are already checked and normalised
        asset.name, asset.uri, asset.group = name, uri, node.get("group", "asset")
        asset.extra, asset.watchers = dict(node.get("extra") or {}), []
        return asset
    if "alias" in node:
        return AssetAlias(node["alias"])
    if "all" in node:
        return AssetAll(*(read_node(n) for n in node["all"]))
    if "any" in node:
        return AssetAny(*(read_node(n) for n in node["any"]))
    raise DagDefinitionError(f"unknown serialised asset condition {node!r}")


def asset_expression(node: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored condition as Airflow 3's API shows it (a DAG's ``asset_expression``)."""
    if node is None:
        return None
    if "asset" in node:
        name, uri = node["asset"]
        return {"asset": {"uri": uri, "name": name, "group": node.get("group", "asset")}}
    if "alias" in node:
        return {"alias": {"name": node["alias"], "group": "asset"}}
    kind = "all" if "all" in node else "any"
    return {kind: [asset_expression(part) for part in node[kind]]}
