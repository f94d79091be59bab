"""Data-aware scheduling, the scheduler's half: record asset events, create asset-triggered runs.

A task's success carries its asset events (``TaskResult.asset_events``). The scheduler writes
them in the transaction that writes the success (:meth:`AssetScheduler.write_events`, called from
``StoreGateway.save_many``), queueing each asset for the unpaused DAGs scheduled on it (as
Airflow, a paused DAG is not queued). Then, each turn, every DAG with a queue whose condition now
holds (:func:`evaluate`, a pure function over the queued assets) gets one run — run type
``asset_triggered``, no logical date, ``run_after`` the newest queued time, as Airflow 3 — in the
transaction that empties its queue and links the events it consumed. A scheduler that stops
between the two finds the queue as it was left; one that stops before the first reads the
task's outcome, events included, from its log (runtime/durable.py). See docs/adr/0012.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tradewind.definitions.assets import Asset, AssetAlias, AssetAll, AssetAny, BaseAsset
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.params import resolve_params
from tradewind.definitions.serialized import SerializedDAG
from tradewind.runtime.work import RunContext
from tradewind.store import assets as store
from tradewind.store import dag_versions as dv
from tradewind.store.engine import make_engine, session_scope

AssetKey = tuple[str, str]


def evaluate(condition: BaseAsset, updated: set[AssetKey], aliases: Mapping[str, set[AssetKey]]) -> bool:
    """Whether ``condition`` holds when the assets ``updated`` have events: an asset when it is
    one of them, an alias when one of the assets it resolved to (``aliases``) is, ``AssetAll``
    when every part holds, ``AssetAny`` when one does."""
    if isinstance(condition, Asset):
        return condition.key in updated
    if isinstance(condition, AssetAlias):
        return bool(aliases.get(condition.name, set()) & updated)
    if isinstance(condition, AssetAll):
        return all(evaluate(part, updated, aliases) for part in condition.objects)
    if isinstance(condition, AssetAny):
        return any(evaluate(part, updated, aliases) for part in condition.objects)
    raise TypeError(f"not an asset condition: {condition!r}")


def referenced(condition: BaseAsset) -> tuple[set[AssetKey], set[str]]:
    """The assets and the aliases a condition names."""
    assets = {a.key for a in condition.iter_assets() if isinstance(a, Asset)}
    aliases = {a.name for a in condition.iter_assets() if isinstance(a, AssetAlias)}
    return assets, aliases


def asset_run_id(run_after: datetime) -> str:
    return f"asset_triggered__{run_after.isoformat()}"


@dataclass
class AssetScheduler:
    """The consumers the scheduler knows (each active DAG's newest version) and the events of
    successes not written yet."""

    pending: list[tuple[TaskInstanceKey, tuple[dict[str, Any], ...]]] = field(default_factory=list)
    _by_asset: dict[AssetKey, set[str]] = field(default_factory=dict)
    _by_alias: dict[str, set[str]] = field(default_factory=dict)
    conditions: dict[str, BaseAsset] = field(default_factory=dict)

    def set_consumers(self, dags: Iterable[SerializedDAG], paused: set[str]) -> None:
        """Index the asset-scheduled DAGs; paused ones are not queued (as in Airflow)."""
        self._by_asset, self._by_alias, self.conditions = {}, {}, {}
        for dag in dags:
            if dag.asset_condition is None:
                continue
            self.conditions[dag.dag_id] = dag.asset_condition
            if dag.dag_id in paused:
                continue
            assets, aliases = referenced(dag.asset_condition)
            for key in assets:
                self._by_asset.setdefault(key, set()).add(dag.dag_id)
            for name in aliases:
                self._by_alias.setdefault(name, set()).add(dag.dag_id)

    def consumers(self, key: AssetKey, alias: str | None) -> list[str]:
        found = set(self._by_asset.get(key, set()))
        if alias:
            found |= self._by_alias.get(alias, set())
        return sorted(found)

    def write_events(self, session: Session, now: datetime | None = None) -> int:
        """Write the pending events (inside the caller's transaction); the caller keeps them
        pending if that transaction fails."""
        now = now or datetime.now(UTC)
        written = 0
        for key, events in self.pending:
            written += len(store.record_events(session, key, events, self.consumers, now))
        return written

    def create_runs(self, gateway: Any, dags: Mapping[str, SerializedDAG], paused: set[str]) -> list[RunContext]:
        """One run for each unpaused DAG whose queued assets satisfy its condition, created in
        one transaction with the consumption of their queues."""
        made: list[RunContext] = []
        with session_scope(gateway.engine) as session:
            queue = store.queued(session)
            wanted = {d: self.conditions[d] for d in queue if d in self.conditions and d in dags and d not in paused}
            if not wanted:
                return made
            aliases = store.alias_assets(session, {a for c in wanted.values() for a in referenced(c)[1]})
            for dag_id, condition in sorted(wanted.items()):
                assets = queue[dag_id]
                if not evaluate(condition, set(assets), aliases):
                    continue
                keys, alias_names = referenced(condition)
                run_after = max(assets.values())
                context = asset_run_context(dags[dag_id], run_after)
                gateway._insert_run(session, context, dags[dag_id].version)
                resolved = keys | {k for name in alias_names for k in aliases.get(name, set())}
                store.consume_queue(session, dag_id, context.run_id, resolved, alias_names, run_after)
                made.append(context)
        return made


def asset_run_context(dag: SerializedDAG, run_after: datetime) -> RunContext:
    """An asset-triggered run, as Airflow 3 makes it: no logical date and no data interval."""
    return RunContext(
        dag_id=dag.dag_id,
        run_id=asset_run_id(run_after),
        logical_date=None,
        data_interval_start=None,
        data_interval_end=None,
        run_type="asset_triggered",
        params=resolve_params(dag.params, {}),
        run_after=run_after,
    )


def with_consumed_events(gateway: Any, context: RunContext) -> RunContext:
    """The context of an asset-triggered run with the events it consumed (its
    ``triggering_asset_events``)."""
    if context.run_type != "asset_triggered":
        return context
    with session_scope(gateway.engine) as session:
        events = store.consumed_events(session, context.dag_id, context.run_id)
    return dataclasses.replace(context, asset_events=tuple(events))


def record_from_dag_test(
    url: str | None, events: list[tuple[TaskInstanceKey, tuple[dict[str, Any], ...]]], log: TextIO
) -> None:
    """``dags test`` of a producer records its asset events in the configured store, as Airflow
    3.3's ``dags test`` does in its database, queueing them for the unpaused DAGs scheduled on
    them (a running scheduler then creates their runs). Without a store they are only shown."""
    if not events:
        return
    shown = ", ".join(sorted({e["uri"] for _, emitted in events for e in emitted}))
    if url is None:
        log.write(f"[scheduler] asset events of {shown} not recorded: there is no store (tradewind db migrate)\n")
        return
    engine = make_engine(url)
    try:
        scheduler = AssetScheduler(pending=list(events))
        with session_scope(engine) as session:
            rows = dv.changed_dags(session, None)
            latest = dv.latest_versions(session, [r.dag_id for r in rows if r.is_active])
            dags = [SerializedDAG(data, digest) for digest, data in latest.values()]
            scheduler.set_consumers(dags, {r.dag_id for r in rows if r.is_paused})
            written = scheduler.write_events(session)
        consumers = sorted({d for _, emitted in events for e in emitted for d in scheduler.consumers(
            (e["name"], e["uri"]), e.get("alias"))})  # fmt: skip
        queued = f"; queued for {', '.join(consumers)}" if consumers else ""
        log.write(f"[scheduler] recorded {written} asset event(s) of {shown} in the store{queued}\n")
    except OperationalError as exc:
        log.write(f"[scheduler] asset events of {shown} not recorded: the store refused them ({exc.orig})\n")
    finally:
        engine.dispose()
