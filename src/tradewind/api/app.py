"""The FastAPI application: the API v2 routes, token login, error bodies, and the web UI.

    app = create_app()                       # the configured store and logs folder
    app = create_app(engine, logs_folder=p)  # tests: a given store

Errors are JSON ``{"detail": ...}`` as in Airflow: 400 bad argument, 401 no or bad token, 403
role may not, 404 unknown id, 409 conflict, 422 wrong type. An unexpected error is logged and
answered with a 500 that names no internals.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DataError

import tradewind
from tradewind.api.deps import ApiSettings
from tradewind.api.routes import clearing, connections, dags, logs, misc, runs, task_instances, variables, xcoms
from tradewind.api.routes.assets import router as assets_router
from tradewind.config import conf, home
from tradewind.control import Conflict, ControlError, InvalidRequest, NotFound
from tradewind.store import reads

log = logging.getLogger("tradewind.api")

STATUS = {NotFound: status.HTTP_404_NOT_FOUND, Conflict: status.HTTP_409_CONFLICT}


def default_logs_folder() -> Path:
    folder = conf.get("logging", "base_log_folder")
    return Path(folder).expanduser() if folder else home() / "logs"


def _control_error(_request: Request, exc: Exception) -> JSONResponse:
    code = next((c for kind, c in STATUS.items() if isinstance(exc, kind)), status.HTTP_400_BAD_REQUEST)
    return JSONResponse({"detail": str(exc)}, status_code=code)


def create_app(
    engine: Engine | None = None,
    *,
    logs_folder: Path | str | None = None,
    token_lifetime: timedelta | None = None,
    with_ui: bool = True,
) -> FastAPI:
    """The API (and, unless ``with_ui`` is False, the web UI) over ``engine`` (default: the
    configured store, created or upgraded first)."""
    from tradewind.store.engine import make_engine, migrate

    if engine is None:
        engine = make_engine()
    migrate(engine)
    folder = Path(logs_folder) if logs_folder is not None else default_logs_folder()
    lifetime = token_lifetime or timedelta(seconds=conf.getint("api", "jwt_expiration_seconds"))
    maximum = max(1, conf.getint("api", "maximum_page_limit"))
    settings = ApiSettings(
        logs_folder=folder,
        token_lifetime=lifetime,
        fallback_page_limit=min(max(0, conf.getint("api", "fallback_page_limit")), maximum),
        maximum_page_limit=maximum,
    )
    app = FastAPI(
        title="tradewind API",
        version=tradewind.__version__,
        description="Airflow 3's public REST API v2, for the resources tradewind has. "
        "Get a token with POST /auth/token and send it as `Authorization: Bearer <token>`.",
        openapi_url="/api/v2/openapi.json",
        docs_url="/api/v2/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.api_settings = settings
    app.state.logs_folder = folder
    for kind in (ControlError, NotFound, Conflict, InvalidRequest):
        app.add_exception_handler(kind, _control_error)

    @app.exception_handler(reads.UnknownOrder)
    async def unknown_order(request: Request, exc: reads.UnknownOrder) -> Any:
        return JSONResponse({"detail": str(exc)}, status_code=400)  # an order_by no list sorts by

    @app.exception_handler(DataError)
    async def refused_value(request: Request, exc: DataError) -> Any:
        first = str(exc.orig).splitlines()[0] if exc.orig is not None else "a value it cannot store"
        return JSONResponse({"detail": f"the database refused a value of the request: {first}"}, status_code=400)

    @app.middleware("http")
    async def no_nul(request: Request, call_next: Any) -> Any:
        # a NUL in an id or filter: SQLite cuts the text there, PostgreSQL refuses it
        if "%00" in request.url.path or "\x00" in request.url.path or "%00" in request.url.query:
            return JSONResponse({"detail": "ids and filters cannot contain NUL characters"}, status_code=400)
        return await call_next(request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Any:
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"detail": "Internal error; see the api-server's log"}, status_code=500)

    # task_instances last: its /{task_id}/{map_index} would take .../xcomEntries and the like
    for module in (misc, dags, runs, logs, xcoms, clearing, task_instances, variables, connections):
        app.include_router(module.router)
    app.include_router(assets_router)  # data-aware scheduling (docs/adr/0012)
    if with_ui:
        from tradewind.web import install

        install(app, engine, folder)
    return app
