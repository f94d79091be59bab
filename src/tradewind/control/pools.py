"""Creating, changing and deleting slot pools (a running scheduler reads them again on its next
look at the DAGs, as after `tradewind pools set`)."""

from __future__ import annotations

from sqlalchemy import Engine, delete

from tradewind.control.errors import Conflict, InvalidRequest, NotFound
from tradewind.store import queries as q
from tradewind.store.engine import session_scope
from tradewind.store.models import DEFAULT_POOL, SlotPool

__all__ = ["create_pool", "delete_pool", "update_pool"]

NAME_LENGTH = 256


def _check(name: str, slots: int | None) -> None:
    if not name or len(name) > NAME_LENGTH or any(ord(c) < 0x20 for c in name):
        raise InvalidRequest(f"a pool name must be 1 to {NAME_LENGTH} printable characters, got {name!r}")
    if slots is not None and slots < 0:
        raise InvalidRequest(f"pool '{name}' needs 0 or more slots, got {slots} (tradewind has no unlimited pools)")


def _get(engine: Engine, name: str) -> SlotPool | None:
    with session_scope(engine) as session:
        found = session.get(SlotPool, name, populate_existing=True)
        if found is not None:
            session.expunge(found)
        return found


def create_pool(engine: Engine, name: str, slots: int, description: str | None = None) -> SlotPool:
    """A new pool; Conflict if one has the name."""
    _check(name, slots)
    if _get(engine, name) is not None:
        raise Conflict(f"pool '{name}' already exists; change it with PATCH /api/v2/pools/{name}")
    with session_scope(engine) as session:
        q.set_pool(session, name, slots, description)
    created = _get(engine, name)
    assert created is not None
    return created


def update_pool(engine: Engine, name: str, *, slots: int | None = None, description: str | None = None) -> SlotPool:
    """Change a pool's slots and/or description; NotFound if there is no such pool."""
    _check(name, slots)
    found = _get(engine, name)
    if found is None:
        raise NotFound(f"The Pool with name: `{name}` was not found")
    with session_scope(engine) as session:
        q.set_pool(session, name, found.slots if slots is None else slots, description)
    changed = _get(engine, name)
    assert changed is not None
    return changed


def delete_pool(engine: Engine, name: str) -> None:
    """Remove a pool (not ``default_pool``); tasks that name it fail at once until it exists again."""
    if name == DEFAULT_POOL:
        raise InvalidRequest("Default Pool can't be deleted")
    with session_scope(engine) as session:
        result = session.execute(delete(SlotPool).where(SlotPool.name == name))
        if not getattr(result, "rowcount", 0):
            raise NotFound(f"The Pool with name: `{name}` was not found")
