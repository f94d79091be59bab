"""Serialized DAG versions and the DAG processor's per-file records.

The DAG processor is the only writer here (:func:`record_file`, :func:`forget_file`); the
scheduler, the CLI and the API read versions back (:func:`latest_versions`, :func:`get_version`,
:func:`changed_dags`) and never import user code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from tradewind.store.models import DagFile, DagImportError, DagModel, SerializedDagModel
from tradewind.store.task_instances import dialect_insert


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoredFile:
    fileloc: str
    fingerprint: list[Any]
    content_hash: str
    dag_ids: list[str]
    parse_seconds: float | None
    refresh_after: datetime | None = None  # import again then, though unchanged (a user's timetable)


@dataclass(frozen=True)
class DagVersionInput:
    """One DAG as the processor found it, ready to store."""

    dag_id: str
    dag_hash: str
    data: dict[str, Any]
    schedule: str
    tags: list[str]
    max_active_runs: int
    paused_at_creation: bool


def stored_files(session: Session) -> dict[str, StoredFile]:
    rows = session.execute(
        select(
            DagFile.fileloc,
            DagFile.fingerprint,
            DagFile.content_hash,
            DagFile.dag_ids,
            DagFile.parse_seconds,
            DagFile.refresh_after,
        )
    )
    return {r[0]: StoredFile(r[0], list(r[1]), r[2], list(r[3]), r[4], r[5]) for r in rows}


def input_hashes(session: Session, filelocs: Collection[str]) -> dict[str, str]:
    """fileloc -> content hash (its bytes and every file it read when last imported)."""
    rows = session.execute(select(DagFile.fileloc, DagFile.content_hash).where(DagFile.fileloc.in_(list(filelocs))))
    return {r[0]: r[1] for r in rows}


def dag_owners(session: Session, dag_ids: Collection[str]) -> dict[str, str]:
    """dag_id -> file of the active DAGs among ``dag_ids``."""
    if not dag_ids:
        return {}
    rows = session.execute(
        select(DagModel.dag_id, DagModel.fileloc).where(DagModel.dag_id.in_(list(dag_ids)), DagModel.is_active)
    )
    return {r[0]: r[1] for r in rows}


def _current_hashes(session: Session, dag_ids: list[str]) -> dict[str, tuple[str | None, bool]]:
    found: dict[str, tuple[str | None, bool]] = {}
    for start in range(0, len(dag_ids), 500):
        chunk = dag_ids[start : start + 500]
        rows = session.execute(
            select(DagModel.dag_id, DagModel.dag_hash, DagModel.is_active).where(DagModel.dag_id.in_(chunk))
        )
        found.update({r[0]: (r[1], bool(r[2])) for r in rows})
    return found


def _versions(session: Session, dag_ids: list[str]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """The highest version number of each DAG, and the number of each (dag_id, hash) stored."""
    highest: dict[str, int] = {}
    known: dict[tuple[str, str], int] = {}
    for start in range(0, len(dag_ids), 500):
        chunk = dag_ids[start : start + 500]
        rows = session.execute(
            select(SerializedDagModel.dag_id, SerializedDagModel.dag_hash, SerializedDagModel.version_number).where(
                SerializedDagModel.dag_id.in_(chunk)
            )
        )
        for dag_id, digest, number in rows:
            known[(dag_id, digest)] = number
            highest[dag_id] = max(highest.get(dag_id, 0), number)
    return highest, known


def store_versions(session: Session, fileloc: str, dags: Iterable[DagVersionInput]) -> int:
    """Store the DAGs of one file: a new version for each whose structure changed, the DAG row
    pointing at it. Returns how many DAGs got a new version."""
    dags = list(dags)
    current = _current_hashes(session, [d.dag_id for d in dags])
    changed = [d for d in dags if current.get(d.dag_id) != (d.dag_hash, True)]
    if not changed:
        return 0
    now = _now()
    numbers, known = _versions(session, [d.dag_id for d in changed])
    new_versions = []
    dag_rows = []
    for dag in changed:
        number = known.get((dag.dag_id, dag.dag_hash))
        if number is None:
            number = numbers.get(dag.dag_id, 0) + 1
            numbers[dag.dag_id] = number
            new_versions.append(
                {
                    "dag_id": dag.dag_id,
                    "dag_hash": dag.dag_hash,
                    "version_number": number,
                    "fileloc": fileloc,
                    "data": dag.data,
                    "created_at": now,
                }
            )
        dag_rows.append(
            {
                "dag_id": dag.dag_id,
                "fileloc": fileloc,
                "schedule": dag.schedule,
                "tags": dag.tags,
                "max_active_runs": dag.max_active_runs,
                "is_active": True,
                "last_parsed_at": now,
                "dag_hash": dag.dag_hash,
                "version_number": number,
                "updated_at": now,
                "next_dagrun_create_after": None,  # the scheduler works it out for the new version
                "is_paused": dag.paused_at_creation,
            }
        )
    if new_versions:
        stmt = dialect_insert(session, SerializedDagModel.__table__)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["dag_id", "dag_hash"]), new_versions)
    stmt = dialect_insert(session, DagModel.__table__)
    # a DAG already known keeps its pause flag
    refresh = {c: getattr(stmt.excluded, c) for c in dag_rows[0] if c not in ("dag_id", "is_paused")}
    session.execute(stmt.on_conflict_do_update(index_elements=["dag_id"], set_=refresh), dag_rows)
    return len(changed)


def deactivate(session: Session, dag_ids: Collection[str]) -> None:
    """DAGs whose file no longer defines them: kept with their history, no longer scheduled."""
    ids = list(dag_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            update(DagModel)
            .where(DagModel.dag_id.in_(ids[start : start + 500]), DagModel.is_active)
            .values(is_active=False, updated_at=_now()),
            execution_options={"synchronize_session": False},
        )


def set_import_error(session: Session, fileloc: str, error: str | None) -> None:
    session.execute(delete(DagImportError).where(DagImportError.filename == fileloc))
    if error is not None:
        session.execute(insert(DagImportError), [{"filename": fileloc, "error": error, "timestamp": _now()}])


def set_import_errors(session: Session, fileloc: str, errors: Collection[str]) -> None:
    """Replace ``fileloc``'s import errors with ``errors``, one row each (a YAML config with
    several broken DAGs)."""
    session.execute(delete(DagImportError).where(DagImportError.filename == fileloc))
    if errors:
        now = _now()
        session.execute(insert(DagImportError), [{"filename": fileloc, "error": e, "timestamp": now} for e in errors])


CLASH_PREFIX = "DagDefinitionError: DAG id "


def clash_message(dag_id: str, owner: str) -> str:
    return f"{CLASH_PREFIX}'{dag_id}' is already defined in {owner}"


def files_clashing_on(session: Session, dag_ids: Collection[str]) -> list[str]:
    """Files refused because another file defined one of ``dag_ids`` (to import again once it
    no longer does)."""
    if not dag_ids:
        return []
    rows = session.execute(
        select(DagImportError.filename, DagImportError.error).where(DagImportError.error.startswith(CLASH_PREFIX))
    )
    wanted = {f"{CLASH_PREFIX}'{dag_id}' " for dag_id in dag_ids}
    return [name for name, error in rows if any(error.startswith(w) for w in wanted)]


def record_file(session: Session, stored: StoredFile) -> None:
    values = {
        "fingerprint": stored.fingerprint,
        "content_hash": stored.content_hash,
        "dag_ids": stored.dag_ids,
        "parse_seconds": stored.parse_seconds,
        "refresh_after": stored.refresh_after,
        "last_parsed_at": _now(),
    }
    stmt = dialect_insert(session, DagFile).values(fileloc=stored.fileloc, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["fileloc"], set_=values))


def forget_file(session: Session, stored: StoredFile) -> None:
    """A DAG file that is gone: its DAGs become inactive, its import error goes."""
    deactivate(session, stored.dag_ids)
    set_import_error(session, stored.fileloc, None)
    session.execute(delete(DagFile).where(DagFile.fileloc == stored.fileloc))


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DagState:
    """The scheduler's view of a DAG row."""

    dag_id: str
    dag_hash: str | None
    version_number: int | None
    is_paused: bool
    is_active: bool
    updated_at: datetime | None
    next_dagrun_create_after: datetime | None


def changed_dags(session: Session, since: datetime | None) -> list[DagState]:
    """DAG rows changed after ``since`` (every row when None)."""
    query = select(
        DagModel.dag_id,
        DagModel.dag_hash,
        DagModel.version_number,
        DagModel.is_paused,
        DagModel.is_active,
        DagModel.updated_at,
        DagModel.next_dagrun_create_after,
    )
    if since is not None:
        query = query.where(DagModel.updated_at > since)
    return [DagState(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class ListedDag:
    dag_id: str
    fileloc: str
    schedule: str | None
    tags: list[str]


def active_dags(session: Session) -> list[ListedDag]:
    """What `dags list` shows of every active DAG, ordered by dag_id (plain rows, no ORM objects:
    there may be 10,000)."""
    query = (
        select(DagModel.dag_id, DagModel.fileloc, DagModel.schedule, DagModel.tags)
        .where(DagModel.is_active)
        .order_by(DagModel.dag_id)
    )
    return [ListedDag(r[0], r[1], r[2], list(r[3] or [])) for r in session.execute(query)]


def timetables(session: Session) -> dict[str, tuple[str | None, str | None, str | None]]:
    """dag_id -> (type, class, how it was chosen) of the timetable of each active DAG's newest
    version, read inside the database (not the whole JSON: there may be 10,000)."""
    node = SerializedDagModel.data["timetable"]
    query = select(
        SerializedDagModel.dag_id,
        node["type"].as_string(),
        node["class"].as_string(),
        node["chosen_by"].as_string(),
    ).join(
        DagModel,
        (DagModel.dag_id == SerializedDagModel.dag_id) & (DagModel.dag_hash == SerializedDagModel.dag_hash),
    )
    return {r[0]: (r[1], r[2], r[3]) for r in session.execute(query.where(DagModel.is_active))}


def get_version(session: Session, dag_id: str, dag_hash: str) -> tuple[int, dict[str, Any]] | None:
    row = session.execute(
        select(SerializedDagModel.version_number, SerializedDagModel.data).where(
            SerializedDagModel.dag_id == dag_id, SerializedDagModel.dag_hash == dag_hash
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


def latest_versions(session: Session, dag_ids: Collection[str] | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """dag_id -> (hash, data) of the newest version of active DAGs (or of ``dag_ids``)."""
    query = (
        select(SerializedDagModel.dag_id, SerializedDagModel.dag_hash, SerializedDagModel.data)
        .join(
            DagModel,
            (DagModel.dag_id == SerializedDagModel.dag_id) & (DagModel.dag_hash == SerializedDagModel.dag_hash),
        )
        .where(DagModel.is_active)
    )
    if dag_ids is not None:
        query = query.where(DagModel.dag_id.in_(list(dag_ids)))
    return {r[0]: (r[1], r[2]) for r in session.execute(query)}


def version_numbers(session: Session, dag_id: str) -> Mapping[str, int]:
    """hash -> version number of every stored version of one DAG."""
    rows = session.execute(
        select(SerializedDagModel.dag_hash, SerializedDagModel.version_number).where(
            SerializedDagModel.dag_id == dag_id
        )
    )
    return {r[0]: r[1] for r in rows}
