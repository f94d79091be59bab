"""Tokens, health, version, import errors and pools."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text

import tradewind
from tradewind import control
from tradewind.api import shapes
from tradewind.api.deps import Actor, EngineDep, PageDep, Reader, SettingsDep, refuse_team, token_secret
from tradewind.auth import authenticate, issue_token
from tradewind.definitions.serialized import SerializedDAG
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store import reads
from tradewind.store.engine import session_scope
from tradewind.store.models import SchedulerLease

router = APIRouter()
MAX_ID = 2**63 - 1  # larger ids are refused (422), never sent to the database
MAX_SLOTS = 2**31 - 1


class PoolBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=256)
    slots: int = Field(ge=-1, le=MAX_SLOTS)
    description: str | None = None
    include_deferred: bool = False
    team_name: str | None = Field(default=None, max_length=50)


class PoolPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: str | None = None
    slots: int | None = Field(default=None, ge=-1, le=MAX_SLOTS)
    description: str | None = None
    include_deferred: bool | None = None
    team_name: str | None = Field(default=None, max_length=50)


class LoginBody(BaseModel):
    username: str
    password: str


async def _login_body(request: Request) -> LoginBody:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            try:
                raw = await request.json()
            except ValueError:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "the body is not valid JSON") from None
            if not isinstance(raw, dict):
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "the body must be a JSON object")
        elif kind == "application/x-www-form-urlencoded":
            form = await request.form()
            raw = {"username": form.get("username"), "password": form.get("password")}
        else:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type")
        return LoginBody(**raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


@router.post(
    "/auth/token",
    status_code=status.HTTP_201_CREATED,
    tags=["Login"],
    summary="Create Token",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": LoginBody.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": LoginBody.model_json_schema()},
            },
        }
    },
)
async def create_token(request: Request, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """A bearer token for the user, from its username and password (JSON or form)."""
    body = await _login_body(request)
    if not body.username or not body.password:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Username and password must be provided")
    with session_scope(engine) as session:
        user = authenticate(session, body.username, body.password)
        if user is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid credentials")
        return {"access_token": issue_token(user, token_secret(request), settings.token_lifetime)}


@router.get("/api/v2/monitor/health", tags=["Monitor"], summary="Get Health")
def get_health(engine: EngineDep) -> dict[str, Any]:
    """Whether the store answers and a scheduler holds a live lease (no token needed)."""
    scheduler: dict[str, Any] = {"status": None, "latest_scheduler_heartbeat": None}
    try:
        with session_scope(engine) as session:
            session.execute(text("SELECT 1"))
            lease = session.get(SchedulerLease, "scheduler")
        database = "healthy"
        if lease is not None:
            alive = lease.expires_at > datetime.now(UTC)
            scheduler = {
                "status": "healthy" if alive else "unhealthy",
                "latest_scheduler_heartbeat": lease.renewed_at.isoformat(),
            }
        else:
            scheduler["status"] = "unhealthy"
    except Exception:  # the store is down: that is what health reports
        database = "unhealthy"
    return {
        "metadatabase": {"status": database},
        "scheduler": scheduler,
        "triggerer": {"status": None, "latest_triggerer_heartbeat": None},
        "dag_processor": None,
    }


@router.get("/api/v2/version", tags=["Version"], summary="Get Version")
def get_version() -> dict[str, Any]:
    """The server's version (no token needed, as in Airflow: its client sends none here)."""
    return {"version": tradewind.__version__, "git_version": None}


@router.get("/api/v2/importErrors", tags=["Import Error"], summary="Get Import Errors")
def get_import_errors(_user: Reader, engine: EngineDep, page: PageDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        rows, total = reads.page_import_errors(session, limit=page.limit, offset=page.offset)
        return {"import_errors": [shapes.import_error(r) for r in rows], "total_entries": total}


@router.get("/api/v2/importErrors/{import_error_id}", tags=["Import Error"], summary="Get Import Error")
def get_import_error(
    import_error_id: Annotated[int, Path(ge=0, le=MAX_ID)], _user: Reader, engine: EngineDep
) -> dict[str, Any]:
    with session_scope(engine) as session:
        row = reads.get_import_error(session, import_error_id)
        if row is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"The ImportError with import_error_id: `{import_error_id}` was not found"
            )
        return shapes.import_error(row)


def _pool_use(session: Any) -> dict[str, dict[str, int]]:
    """pool -> {state: slots} of instances scheduled, queued or running, by the pool of their task."""
    rows = reads.in_flight_by_task(session)
    versions: dict[tuple[str, str], SerializedDAG | None] = {}
    used: dict[str, dict[str, int]] = {}
    for dag_id, task_id, digest, state, count in rows:
        if digest is None or state is None:
            continue
        if (dag_id, digest) not in versions:
            found = dv.get_version(session, dag_id, digest)
            versions[(dag_id, digest)] = SerializedDAG(found[1], digest) if found else None
        serialized = versions[(dag_id, digest)]
        task = serialized.task_dict.get(task_id) if serialized is not None else None
        if task is None:
            continue
        per = used.setdefault(task.pool, {})
        per[state] = per.get(state, 0) + count * task.pool_slots
    return used


@router.get("/api/v2/pools", tags=["Pool"], summary="Get Pools")
def get_pools(_user: Reader, engine: EngineDep, page: PageDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        pools = q.get_pools(session)
        used = _pool_use(session)
        shown = pools[page.offset : page.offset + page.limit]
        return {"pools": [shapes.pool(p, used.get(p.name, {})) for p in shown], "total_entries": len(pools)}


@router.get("/api/v2/pools/{pool_name}", tags=["Pool"], summary="Get Pool")
def get_pool(pool_name: str, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        found = [p for p in q.get_pools(session) if p.name == pool_name]
        if not found:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"The Pool with name: `{pool_name}` was not found")
        return shapes.pool(found[0], _pool_use(session).get(pool_name, {}))


def _refuse_pool_fields(include_deferred: bool | None, team_name: str | None) -> None:
    if include_deferred:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "include_deferred: tradewind has no deferred tasks")
    refuse_team(team_name)


@router.post("/api/v2/pools", tags=["Pool"], summary="Post Pool", status_code=status.HTTP_201_CREATED)
def post_pool(body: PoolBody, _user: Actor, engine: EngineDep) -> dict[str, Any]:
    _refuse_pool_fields(body.include_deferred, body.team_name)
    created = control.create_pool(engine, body.name, body.slots, body.description)
    return shapes.pool(created, {})


@router.patch("/api/v2/pools/{pool_name}", tags=["Pool"], summary="Patch Pool")
def patch_pool(
    pool_name: str,
    body: PoolPatchBody,
    _user: Actor,
    engine: EngineDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    _refuse_pool_fields(body.include_deferred, body.team_name)
    fields = set(update_mask) if update_mask is not None else set(body.model_fields_set)
    unknown = fields - {"pool", "name", "slots", "description", "include_deferred", "team_name"}
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Invalid update_mask field(s): {', '.join(sorted(unknown))}")
    if body.pool is not None and body.pool != pool_name:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "pool: a pool cannot be renamed in tradewind")
    changed = control.update_pool(
        engine,
        pool_name,
        slots=body.slots if "slots" in fields else None,
        description=body.description if "description" in fields else None,
    )
    with session_scope(engine) as session:
        return shapes.pool(changed, _pool_use(session).get(pool_name, {}))


@router.delete(
    "/api/v2/pools/{pool_name}", tags=["Pool"], summary="Delete Pool", status_code=status.HTTP_204_NO_CONTENT
)
def delete_pool(pool_name: str, _user: Actor, engine: EngineDep) -> None:
    control.delete_pool(engine, pool_name)
