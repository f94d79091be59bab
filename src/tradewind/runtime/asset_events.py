"""Asset events in a running task: ``outlet_events``, ``triggering_asset_events`` and
``inlet_events`` in the context, and the events a task that succeeded emits.

The worker writes nothing: the events travel back in ``TaskResult.asset_events`` (plain dicts)
and the scheduler records them with the task's success (scheduler/assets.py). The events that
triggered a run travel in ``RunContext.asset_events``. See docs/adr/0012-data-aware-scheduling.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from tradewind.definitions.assets import Asset, AssetAlias, BaseAsset, Metadata, normalize_uri
from tradewind.definitions.secrets import installed


def _key(item: object, where: str) -> tuple[str, str] | str:
    if isinstance(item, Asset):
        return item.key
    if isinstance(item, AssetAlias):
        return item.name
    raise TypeError(f"{where}[...] takes an Asset or an AssetAlias, got {item!r}")


class OutletEventAccessor:
    """``outlet_events[asset]``: the ``extra`` of the event the task will emit for it; for an
    alias, ``add(asset, extra=...)`` emits an event of ``asset`` through the alias."""

    def __init__(self, key: Asset | AssetAlias) -> None:
        self.key = key
        self.extra: dict[str, Any] = {}
        self.asset_alias_events: list[tuple[Asset, dict[str, Any]]] = []

    def add(self, asset: Asset, extra: dict[str, Any] | None = None) -> None:
        if not isinstance(self.key, AssetAlias):
            raise TypeError(f"outlet_events[{self.key!r}].add(): only an AssetAlias's events take assets")
        if not isinstance(asset, Asset):
            raise TypeError(f"outlet_events[{self.key!r}].add() takes an Asset, got {asset!r}")
        self.asset_alias_events.append((asset, dict(extra or {})))

    def __repr__(self) -> str:
        return f"OutletEventAccessor(key={self.key!r}, extra={self.extra!r})"


class OutletEventAccessors(Mapping[Any, OutletEventAccessor]):
    """``outlet_events`` in the context: one accessor per asset or alias, made when first used."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str] | str, OutletEventAccessor] = {}

    def __getitem__(self, item: Asset | AssetAlias) -> OutletEventAccessor:
        key = _key(item, "outlet_events")
        if key not in self._items:
            self._items[key] = OutletEventAccessor(item)
        return self._items[key]

    def __iter__(self) -> Iterator[Any]:
        return iter([accessor.key for accessor in self._items.values()])

    def __len__(self) -> int:
        return len(self._items)

    def take(self, item: Metadata) -> None:
        """A ``Metadata`` the task yielded: its extra goes to the asset's event (through its alias)."""
        if item.alias is not None:
            alias = item.alias if isinstance(item.alias, AssetAlias) else AssetAlias(str(item.alias))
            self[alias].add(item.asset, item.extra)
        else:
            self[item.asset].extra.update(item.extra)


def _asset_event(asset: Asset, extra: dict[str, Any], alias: str | None) -> dict[str, Any]:
    return {
        "name": asset.name,
        "uri": asset.uri,
        "group": asset.group,
        "asset_extra": dict(asset.extra),
        "extra": dict(extra),
        "alias": alias,
    }


def emitted_events(outlets: object, accessors: OutletEventAccessors) -> tuple[dict[str, Any], ...]:
    """The events of a task that succeeded: one per asset in ``outlets`` (with the extra the task
    set), and one per asset it added to an alias in ``outlets``."""
    items = outlets if isinstance(outlets, (list, tuple, set)) else [outlets] if outlets else []
    events: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Asset):
            events.append(_asset_event(item, accessors[item].extra, None))
        elif isinstance(item, AssetAlias):
            for asset, extra in accessors[item].asset_alias_events:
                events.append(_asset_event(asset, extra, item.name))
    return tuple(events)


class AssetEventView:
    """One asset event as a task reads it (``triggering_asset_events[asset]``, ``inlet_events``)."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.id: int | None = event.get("id")
        self.asset = Asset(name=event["name"], uri=event["uri"], group=event.get("group") or "asset")
        self.asset.extra = dict(event.get("asset_extra") or {})
        self.extra: dict[str, Any] = dict(event.get("extra") or {})
        stamp = event.get("timestamp")
        self.timestamp = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
        self.source_dag_id: str | None = event.get("source_dag_id")
        self.source_task_id: str | None = event.get("source_task_id")
        self.source_run_id: str | None = event.get("source_run_id")
        self.source_map_index: int = event.get("source_map_index", -1)
        self.source_aliases = [AssetAlias(name) for name in event.get("aliases") or []]

    def __repr__(self) -> str:
        return (
            f"AssetEvent(asset={self.asset!r}, extra={self.extra!r}, timestamp={self.timestamp}, "
            f"source={self.source_dag_id}.{self.source_task_id} run {self.source_run_id})"
        )


class AssetEvents(Mapping[Any, list[AssetEventView]]):
    """Events grouped by asset (and by each alias they came through): ``triggering_asset_events``
    of an asset-triggered run; empty for any other run."""

    def __init__(self, events: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> None:
        self._by_key: dict[tuple[str, str] | str, list[AssetEventView]] = {}
        self._keys: dict[tuple[str, str] | str, BaseAsset] = {}
        for event in events:
            view = AssetEventView(event)
            self._by_key.setdefault(view.asset.key, []).append(view)
            self._keys.setdefault(view.asset.key, view.asset)
            for alias in view.source_aliases:
                self._by_key.setdefault(alias.name, []).append(view)
                self._keys.setdefault(alias.name, alias)

    def __getitem__(self, item: Any) -> list[AssetEventView]:
        return list(self._by_key[_key(item, "triggering_asset_events")])  # KeyError when none, as Airflow

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"AssetEvents({dict(self.items())!r})"


class InletEventAccessors(Mapping[Any, list[AssetEventView]]):
    """``inlet_events[asset]``: the asset's past events, oldest first, read from the store when
    the task asks (through the worker's read-only store handle); none without a store."""

    def __init__(self, inlets: object) -> None:
        items = inlets if isinstance(inlets, (list, tuple, set)) else [inlets] if inlets else []
        self._inlets = [i for i in items if isinstance(i, (Asset, AssetAlias))]

    def __getitem__(self, item: Any) -> list[AssetEventView]:
        key = _key(item, "inlet_events")
        if isinstance(key, str):
            return self._read(alias=key)
        return self._read(name=key[0], uri=key[1])

    def for_asset(self, *, name: str | None = None, uri: str | None = None) -> list[AssetEventView]:
        """The events of the asset with this name, or this uri (normalised as an Asset's)."""
        if not name and not uri:
            raise TypeError("inlet_events.for_asset() expects keyword argument 'name' or 'uri'")
        return self._read(name=name, uri=normalize_uri(uri) if uri else None)

    def for_asset_alias(self, *, name: str) -> list[AssetEventView]:
        return self._read(alias=name)

    def _read(self, **where: str | None) -> list[AssetEventView]:
        reader = getattr(installed(), "asset_events", None)
        return [AssetEventView(e) for e in reader(**where)] if reader is not None else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self._inlets)

    def __len__(self) -> int:
        return len(self._inlets)
