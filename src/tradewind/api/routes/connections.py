"""Connections in the store: ``/api/v2/connections`` (list, create, read, change, delete).

As in Airflow: only the store is listed and written (``AIRFLOW_CONN_*`` / ``TRADEWIND_CONN_*``
are read-only and never shown); a password is never returned (``***``), nor an ``extra`` value
under a sensitive-looking key; a ``***`` sent back in a PATCH keeps what was stored; only roles
that act (op, admin) may read or write them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradewind.api.deps import Actor, EngineDep, PageDep, refuse_team
from tradewind.definitions.connection import Connection
from tradewind.definitions.secrets import MASK, redacted, unredacted
from tradewind.store import reads
from tradewind.store import secrets as s
from tradewind.store.engine import session_scope
from tradewind.store.models import StoredConnection

router = APIRouter(prefix="/api/v2/connections", tags=["Connection"])
MAX_PORT = 2**31 - 1
BODY_FIELDS = {"connection_id", "conn_type", "description", "host", "login", "schema", "port", "password", "extra"}


class ConnectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    connection_id: str = Field(max_length=200, pattern=r"^[\w.-]+$")
    conn_type: str = Field(min_length=1, max_length=500)
    description: str | None = None
    host: str | None = Field(default=None, max_length=500)
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema", max_length=500)
    port: int | None = Field(default=None, ge=0, le=MAX_PORT)
    password: str | None = None
    extra: str | None = None
    team_name: str | None = Field(default=None, max_length=50)

    @field_validator("extra")
    @classmethod
    def _extra_is_an_object(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value == "":
            return "{}"
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ValueError('extra must be a JSON object as text, e.g. "{\\"timeout\\": 10}"')
        return value

    def fields(self) -> dict[str, Any]:
        """The stored fields, normalised as the CLI and ``Connection`` do (``postgresql`` is ``postgres``)."""
        conn = Connection(
            conn_id=self.connection_id,
            conn_type=self.conn_type,
            description=self.description,
            host=self.host,
            login=self.login,
            password=self.password,
            schema=self.schema_,
            port=self.port,
            extra=self.extra,
        )
        stored = conn.to_dict()
        stored.pop("conn_id")
        return stored


def shown(row: StoredConnection) -> dict[str, Any]:
    """Airflow's ConnectionResponse: the password as ``***``, sensitive keys of ``extra`` too."""
    extra = row.extra
    if extra:
        try:
            extra = json.dumps(redacted(json.loads(extra)))
        except ValueError:  # never stored through the CLI or the API; shown as a whole secret
            extra = MASK
    return {
        "connection_id": row.conn_id,
        "conn_type": row.conn_type,
        "description": row.description,
        "host": row.host,
        "login": row.login,
        "schema": row.schema,
        "port": row.port,
        "password": None if row.password is None else MASK,
        "extra": extra,
        "team_name": None,
    }


def _missing(connection_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"The Connection with connection_id: `{connection_id}` was not found"
    )


@router.get("", summary="Get Connections")
def get_connections(
    _user: Actor,
    engine: EngineDep,
    page: PageDep,
    order_by: Annotated[list[str], Query()] = [],  # noqa: B006
    connection_id_pattern: str | None = None,
    connection_id_prefix_pattern: str | None = None,
) -> dict[str, Any]:
    """Connections in the store (not the environment's), paged and ordered by the database."""
    with session_scope(engine) as session:
        rows, total = reads.page_connections(
            session,
            limit=page.limit,
            offset=page.offset,
            id_pattern=connection_id_pattern,
            id_prefix=connection_id_prefix_pattern,
            order_by=order_by,
        )
        return {"connections": [shown(r) for r in rows], "total_entries": total}


@router.post("", summary="Post Connection", status_code=status.HTTP_201_CREATED)
def post_connection(body: ConnectionBody, _user: Actor, engine: EngineDep) -> dict[str, Any]:
    refuse_team(body.team_name)
    with session_scope(engine) as session:
        if not s.add_connection(session, body.connection_id, body.fields()):
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"The Connection with connection_id: `{body.connection_id}` already exists"
            )
    return get_connection(body.connection_id, _user, engine)


@router.get("/{connection_id}", summary="Get Connection")
def get_connection(connection_id: str, _user: Actor, engine: EngineDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        row = s.get_connection(session, connection_id)
        if row is None:
            raise _missing(connection_id)
        return shown(row)


@router.patch("/{connection_id}", summary="Patch Connection")
def patch_connection(
    connection_id: str,
    body: ConnectionBody,
    _user: Actor,
    engine: EngineDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """Change the fields the body sets (only those also in ``update_mask`` when one is given); the
    id cannot change. A
    password or extra value sent as ``***`` keeps the stored one."""
    if body.connection_id != connection_id:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "The connection_id in the request body does not match the URL parameter"
        )
    refuse_team(body.team_name)
    unknown = set(update_mask or ()) - BODY_FIELDS - {"team_name"}
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Invalid update_mask field(s): {', '.join(sorted(unknown))}")
    given = {"schema" if name == "schema_" else name for name in body.model_fields_set}
    chosen = (given & set(update_mask) if update_mask else given) - {"connection_id", "team_name"}
    new = body.fields()
    with session_scope(engine) as session:
        row = s.get_connection(session, connection_id)
        if row is None:
            raise _missing(connection_id)
        changes = {name: new[name] for name in chosen}
        if changes.get("password") is not None:
            changes["password"] = unredacted(changes["password"], row.password)
        if changes.get("extra") is not None and row.extra:
            try:
                changes["extra"] = json.dumps(unredacted(json.loads(changes["extra"]), json.loads(row.extra)))
            except ValueError:
                pass  # the stored extra is not JSON: the new one replaces it
        s.update_connection(session, connection_id, changes)
    return get_connection(connection_id, _user, engine)


@router.delete("/{connection_id}", summary="Delete Connection", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(connection_id: str, _user: Actor, engine: EngineDep) -> None:
    with session_scope(engine) as session:
        if not s.delete_connection(session, connection_id):
            raise _missing(connection_id)
