"""Assets (Airflow 3; Datasets in Airflow 2): the classes, so that DAG files using them import.

Data-aware scheduling is not implemented yet: a DAG scheduled on assets gets an import warning
and runs only when triggered, and a task's ``outlets`` warn too (see compat_warnings.py).

>>> orders = Asset("s3://shop/orders.parquet")
>>> DAG("report", schedule=[orders])          # warns; runs when triggered
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradewind.definitions.compat_warnings import ImportWarnings


class BaseAsset:
    """What can stand in a DAG's ``schedule``: an asset, an alias, or a condition of them."""

    def __and__(self, other: BaseAsset) -> AssetAll:
        return AssetAll(self, other)

    def __or__(self, other: BaseAsset) -> AssetAny:
        return AssetAny(self, other)

    def iter_assets(self) -> Iterator[BaseAsset]:
        yield self


class Asset(BaseAsset):
    """A piece of data a task produces (``outlets=[asset]``) or a DAG waits for."""

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        *,
        group: str = "asset",
        extra: dict[str, Any] | None = None,
        watchers: list[Any] | None = None,
    ) -> None:
        if not name and not uri:
            raise TypeError("Asset() requires either 'name' or 'uri'")
        self.name: str = name or uri or ""
        self.uri: str = uri or name or ""
        self.group = group
        self.extra = dict(extra or {})
        self.watchers = list(watchers or [])

    @classmethod
    def ref(cls, *, name: str | None = None, uri: str | None = None) -> Asset:
        return cls(name=name, uri=uri)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Asset) and (self.name, self.uri) == (other.name, other.uri)

    def __hash__(self) -> int:
        return hash((self.name, self.uri))

    def __repr__(self) -> str:
        return f"Asset(name={self.name!r}, uri={self.uri!r})"


class Dataset(Asset):
    """Airflow 2's name for an asset."""

    def __init__(self, uri: str, extra: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(uri=uri, extra=extra, **kwargs)


@dataclass(frozen=True)
class AssetAlias(BaseAsset):
    """A name a task attaches asset events to at run time."""

    name: str
    group: str = "asset"


class _AssetCondition(BaseAsset):
    def __init__(self, *objects: BaseAsset) -> None:
        self.objects = list(objects)

    def iter_assets(self) -> Iterator[BaseAsset]:
        for item in self.objects:
            yield from item.iter_assets()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.objects))})"


class AssetAll(_AssetCondition):
    """Every one of these assets has been updated."""


class AssetAny(_AssetCondition):
    """Any one of these assets has been updated."""


@dataclass(frozen=True)
class Metadata:
    """An asset event's extra information, yielded by a task (kept as the task's XCom here)."""

    asset: Any
    extra: dict[str, Any] = field(default_factory=dict)
    alias: Any = None


DatasetAlias = AssetAlias
DatasetAll = AssetAll
DatasetAny = AssetAny


def is_asset_schedule(schedule: object) -> bool:
    if isinstance(schedule, BaseAsset):
        return True
    return (
        isinstance(schedule, (list, tuple, set)) and bool(schedule) and all(isinstance(s, BaseAsset) for s in schedule)
    )


def schedule_of(schedule: object, warnings: ImportWarnings) -> object:
    """``schedule`` unchanged, except that assets become None with a warning (not supported yet)."""
    if not is_asset_schedule(schedule):
        return schedule
    warnings.add(
        "DAG argument schedule names assets, which tradewind does not support yet: "
        "the DAG runs only when triggered (tradewind dags trigger)"
    )
    return None
