"""Variables in the store: ``/api/v2/variables`` (list, create, read, change, delete, bulk).

As in Airflow, only the store is listed and written (``AIRFLOW_VAR_*`` / ``TRADEWIND_VAR_*``
environment variables are read-only and never shown), values under sensitive-looking keys are
shown as ``***``, and only roles that act (op, admin) may read or write them: Airflow's default
roles keep Variables from viewers too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tradewind.api.deps import Actor, EngineDep, PageDep, refuse_team
from tradewind.definitions.secrets import redacted
from tradewind.store import reads
from tradewind.store import secrets as s
from tradewind.store.engine import session_scope
from tradewind.store.models import ID_LENGTH, StoredVariable

router = APIRouter(prefix="/api/v2/variables", tags=["Variable"])


class VariableBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=ID_LENGTH, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
    value: JsonValue
    description: str | None = None
    team_name: str | None = Field(default=None, max_length=50)

    def text(self) -> str:
        """The stored text: a string as given, anything else as JSON (as Airflow stores it)."""
        return self.value if isinstance(self.value, str) else json.dumps(self.value, indent=2)


def shown(row: StoredVariable) -> dict[str, Any]:
    """Airflow's VariableResponse: the value masked by key (and, in a JSON value, by its keys)."""
    try:
        value = json.dumps(redacted(json.loads(row.val), row.key))
    except ValueError:
        value = str(redacted(row.val, row.key))
    return {"key": row.key, "value": value, "description": row.description, "is_encrypted": False, "team_name": None}


def _missing(key: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"The Variable with key: `{key}` was not found")


@router.get("", summary="Get Variables")
def get_variables(
    _user: Actor,
    engine: EngineDep,
    page: PageDep,
    order_by: Annotated[list[str], Query()] = [],  # noqa: B006
    variable_key_pattern: str | None = None,
    variable_key_prefix_pattern: str | None = None,
) -> dict[str, Any]:
    """Variables in the store (not the environment's), paged and ordered by the database."""
    with session_scope(engine) as session:
        rows, total = reads.page_variables(
            session,
            limit=page.limit,
            offset=page.offset,
            key_pattern=variable_key_pattern,
            key_prefix=variable_key_prefix_pattern,
            order_by=order_by,
        )
        return {"variables": [shown(r) for r in rows], "total_entries": total}


@router.post("", summary="Post Variable", status_code=status.HTTP_201_CREATED)
def post_variable(body: VariableBody, _user: Actor, engine: EngineDep) -> dict[str, Any]:
    refuse_team(body.team_name)
    with session_scope(engine) as session:
        if s.get_variable(session, body.key) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"The Variable with key: `{body.key}` already exists")
        s.set_variable(session, body.key, body.text(), body.description)
    with session_scope(engine) as session:
        row = s.get_variable(session, body.key)
        assert row is not None
        return shown(row)


class _Outcome(BaseModel):
    success: list[str] = []
    errors: list[dict[str, Any]] = []


class BulkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["create"]
    entities: list[VariableBody]
    action_on_existence: Literal["fail", "skip", "overwrite"] = "fail"


class BulkUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["update"]
    entities: list[VariableBody]
    update_mask: list[str] | None = None
    action_on_non_existence: Literal["fail", "skip"] = "fail"


class BulkDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["delete"]
    entities: list[str | VariableBody]
    action_on_non_existence: Literal["fail", "skip"] = "fail"


class BulkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actions: list[Annotated[BulkCreate | BulkUpdate | BulkDelete, Field(discriminator="action")]]


def _changes(body: VariableBody, update_mask: list[str] | None) -> dict[str, Any]:
    """The fields a PATCH changes, as in Airflow: those the body sets, only those also in
    ``update_mask`` when one is given; ``key`` never changes."""
    unknown = set(update_mask or ()) - {"key", "value", "description", "team_name"}
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Invalid update_mask field(s): {', '.join(sorted(unknown))}")
    if update_mask and "key" in update_mask:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "update_mask: key cannot be changed; create a new Variable")
    fields = set(body.model_fields_set)
    if update_mask:
        fields &= set(update_mask)
    changes: dict[str, Any] = {}
    if "value" in fields:
        changes["value"] = body.text()
    if "description" in fields:
        changes["description"] = body.description
    return changes


def _keys(keys: set[str]) -> str:
    return "{" + ", ".join(repr(k) for k in sorted(keys)) + "}"


@router.patch("", summary="Bulk Variables")
def bulk_variables(body: BulkBody, _user: Actor, engine: EngineDep) -> dict[str, Any]:
    """Create, change and delete several Variables in one call (Airflow's bulk body). Each
    action reports the keys it handled, or one error naming the keys that made it fail, in
    which case it writes nothing (``action_on_existence`` / ``action_on_non_existence``:
    ``fail``, the default; ``skip``; ``overwrite`` for creates)."""
    results: dict[str, Any] = {"create": None, "update": None, "delete": None}
    for action in body.actions:
        outcome = _Outcome()
        results[action.action] = outcome
        named = [e if isinstance(e, str) else e.key for e in action.entities]
        with session_scope(engine) as session:
            existing = {key for key in named if s.get_variable(session, key) is not None}
            if isinstance(action, BulkCreate):
                if existing and action.action_on_existence == "fail":
                    outcome.errors.append(
                        _error(f"The variables with these keys: {_keys(existing)} already exist.", 409)
                    )
                    continue
                for entity in action.entities:
                    refuse_team(entity.team_name)
                    if entity.key in existing and action.action_on_existence == "skip":
                        continue
                    s.set_variable(session, entity.key, entity.text(), entity.description)
                    outcome.success.append(entity.key)
                continue
            missing = set(named) - existing
            if missing and action.action_on_non_existence == "fail":
                outcome.errors.append(_error(f"The variables with these keys: {_keys(missing)} were not found.", 404))
                continue
            if isinstance(action, BulkUpdate):
                for entity in action.entities:
                    refuse_team(entity.team_name)
                    if entity.key in existing:
                        s.update_variable(session, entity.key, _changes(entity, action.update_mask))
                        outcome.success.append(entity.key)
            else:
                for key in named:
                    if key in existing and s.delete_variable(session, key):
                        outcome.success.append(key)
    return {name: None if found is None else found.model_dump() for name, found in results.items()}


def _error(message: str, code: int) -> dict[str, Any]:
    return {"error": message, "status_code": code}


@router.get("/{variable_key:path}", summary="Get Variable")
def get_variable(variable_key: str, _user: Actor, engine: EngineDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        row = s.get_variable(session, variable_key)
        if row is None:
            raise _missing(variable_key)
        return shown(row)


@router.patch("/{variable_key:path}", summary="Patch Variable")
def patch_variable(
    variable_key: str,
    body: VariableBody,
    _user: Actor,
    engine: EngineDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """Change the value and/or description (all the body sets, or the fields of ``update_mask``)."""
    if body.key != variable_key:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Invalid body, key from request body doesn't match uri parameter"
        )
    refuse_team(body.team_name)
    changes = _changes(body, update_mask)
    with session_scope(engine) as session:
        if s.update_variable(session, variable_key, changes) is None:
            raise _missing(variable_key)
    with session_scope(engine) as session:
        row = s.get_variable(session, variable_key)
        assert row is not None
        return shown(row)


@router.delete("/{variable_key:path}", summary="Delete Variable", status_code=status.HTTP_204_NO_CONTENT)
def delete_variable(variable_key: str, _user: Actor, engine: EngineDep) -> None:
    with session_scope(engine) as session:
        if not s.delete_variable(session, variable_key):
            raise _missing(variable_key)
