"""``@asset`` and ``@asset.multi`` (Airflow 3's ``airflow.sdk.asset``): a function that
materialises an asset becomes a DAG of one task whose outlet is that asset.

>>> @asset(uri="s3://bucket/orders", schedule="@daily")
... def orders():                      # the asset 'orders', and the DAG 'orders' with task 'orders'
...     ...
>>> @asset(schedule=orders)
... def report(self, context, orders):  # self: this asset; orders: the inlet asset of that name
...     ...

As in Airflow, a parameter without a default named other than ``self``, ``context`` or
``outlet_events`` is an inlet: the asset of that name (one defined with ``@asset`` in the DAG
files, or one the task's ``inlets`` name). See docs/adr/0012-data-aware-scheduling.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterator
from typing import Any

from tradewind.definitions.assets import Asset, AssetAll, BaseAsset
from tradewind.definitions.dag import DAG
from tradewind.definitions.operators.python import PythonOperator, _drain
from tradewind.errors import DagDefinitionError

_NOT_INLETS = ("self", "context", "outlet_events")
# the assets defined with @asset while DAG files were imported, by name (how an inlet parameter
# finds its asset in the worker, which imported the same files)
_DEFINED: dict[str, Asset] = {}


def _check_arguments(function: Callable[..., Any]) -> None:
    for name, param in inspect.signature(function).parameters.items():
        if param.kind == inspect.Parameter.VAR_POSITIONAL:
            raise DagDefinitionError(f"@asset {function.__name__}: wildcard '*{name}' is not supported in @asset")
        if param.kind == inspect.Parameter.VAR_KEYWORD:
            raise DagDefinitionError(f"@asset {function.__name__}: wildcard '**{name}' is not supported in @asset")
        if param.kind == inspect.Parameter.POSITIONAL_ONLY and param.default is inspect.Parameter.empty:
            raise DagDefinitionError(
                f"@asset {function.__name__}: positional-only argument '{name}' without a default is not supported"
            )


class AssetMainOperator(PythonOperator):
    """The one task of an ``@asset`` DAG: calls the function with the asset, the context and
    its inlet assets."""

    def __init__(self, *, definition: Asset, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.definition = definition

    def _value(self, name: str, context: dict[str, Any]) -> Any:
        if name == "self":
            return self.definition
        if name == "context":
            return context
        if name == "outlet_events":
            return context["outlet_events"]
        if name in _DEFINED:
            return _DEFINED[name]
        raise DagDefinitionError(
            f"@asset {self.task_id}: no asset named '{name}' for its parameter '{name}'; define it with @asset, "
            "or give the parameter a default"
        )

    def execute(self, context: dict[str, Any]) -> Any:
        kwargs = {
            name: param.default if param.default is not inspect.Parameter.empty else self._value(name, context)
            for name, param in inspect.signature(self.python_callable).parameters.items()
        }
        returned = self.python_callable(**kwargs)
        if inspect.isgeneratorfunction(self.python_callable):
            return _drain(returned, context)
        return returned


def _inlets(function: Callable[..., Any]) -> list[Asset]:
    return [
        _DEFINED.get(name) or Asset(name=name)
        for name, param in inspect.signature(function).parameters.items()
        if name not in _NOT_INLETS and param.default is inspect.Parameter.empty
    ]


class _DagArguments:
    def __init__(
        self,
        *,
        schedule: Any,
        is_paused_upon_creation: bool | None = None,
        dag_id: str | None = None,
        dag_display_name: str | None = None,
        description: str | None = None,
        params: dict[str, Any] | None = None,
        on_success_callback: Any = None,
        on_failure_callback: Any = None,
        access_control: Any = None,
        owner_links: dict[str, str] | None = None,
        tags: Collection[str] = (),
    ) -> None:
        self.schedule = schedule
        self.dag_arguments = {
            "is_paused_upon_creation": is_paused_upon_creation,
            "dag_display_name": dag_display_name,
            "description": description,
            "params": params,
            "on_success_callback": on_success_callback,
            "on_failure_callback": on_failure_callback,
            "access_control": access_control,
            "owner_links": owner_links,
            "tags": list(tags),
        }
        self.dag_id = dag_id

    def build(self, default_dag_id: str, function: Callable[..., Any], definition: Any, outlets: list[Any]) -> DAG:
        _check_arguments(function)
        with DAG(self.dag_id or default_dag_id, schedule=self.schedule, catchup=False, **self.dag_arguments) as dag:
            AssetMainOperator(
                task_id=function.__name__,
                python_callable=function,
                inlets=_inlets(function),
                outlets=outlets,
                definition=definition,
            )
        return dag


class AssetDefinition(Asset):
    """The asset an ``@asset`` function materialises; its DAG is ``self.dag``."""

    def __init__(self, *, function: Callable[..., Any], source: asset, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.function = function
        _DEFINED[self.name] = self
        self.dag = source.build(self.name, function, self, [self])


class MultiAssetDefinition(AssetAll):
    """The assets an ``@asset.multi`` function materialises (usable as a condition of all of them)."""

    def __init__(self, *, function: Callable[..., Any], source: _Multi) -> None:
        super().__init__(*source.outlets)
        self.name = function.__name__
        self.function = function
        self.dag = source.build(function.__name__, function, None, list(source.outlets))

    def iter_outlets(self) -> Iterator[BaseAsset]:
        yield from self.objects


def _top_level(function: Callable[..., Any]) -> None:
    if function.__name__ != function.__qualname__:
        raise DagDefinitionError(f"@asset {function.__qualname__}: nested function not supported")


class _Multi(_DagArguments):
    def __init__(self, *, outlets: Collection[BaseAsset], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outlets = list(outlets)

    def __call__(self, function: Callable[..., Any]) -> MultiAssetDefinition:
        _top_level(function)
        if not self.outlets:
            raise DagDefinitionError(f"@asset.multi {function.__name__}: no outlets provided")
        return MultiAssetDefinition(function=function, source=self)


class asset(_DagArguments):  # Airflow's name
    """Create an asset by decorating the function that materialises it."""

    multi = _Multi

    def __init__(
        self,
        *,
        name: str | None = None,
        uri: str | None = None,
        group: str = "asset",
        extra: dict[str, Any] | None = None,
        watchers: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if watchers:
            raise DagDefinitionError("@asset(watchers=...): asset watchers are not supported by tradewind")
        super().__init__(**kwargs)
        self.name, self.uri, self.group, self.extra = name, uri, group, extra

    def __call__(self, function: Callable[..., Any]) -> AssetDefinition:
        _top_level(function)
        name = self.name or function.__name__
        return AssetDefinition(
            name=name,
            uri=name if self.uri is None else str(self.uri),
            group=self.group,
            extra=self.extra,
            function=function,
            source=self,
        )
