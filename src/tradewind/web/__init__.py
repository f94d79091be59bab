"""The browser UI: server-rendered pages (Jinja2, a little JavaScript, no build step) behind a
login, served by the same FastAPI app as the REST API.

    app = FastAPI()
    tradewind.web.install(app, engine)   # adds /, /login, /logout, /dags..., /static/...

The pages read the store and the serialized DAGs; actions (trigger, pause, clear) go through
:mod:`tradewind.control`, as the API's and the CLI's do. See docs/adr/0010-api-ui-and-auth.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["install"]


def install(app: Any, engine: Any = None, logs_folder: Path | str | None = None) -> None:
    """Add the UI's routes, static files and login handling to ``app`` (a FastAPI app).

    ``engine`` defaults to ``app.state.engine`` if the app has one, else the configured store;
    ``logs_folder`` to the configured task logs folder."""
    from fastapi.staticfiles import StaticFiles

    from tradewind.config import conf, home
    from tradewind.web import actions, login, pages
    from tradewind.web.context import LoginRequired, WebContext, login_redirect
    from tradewind.web.render import STATIC

    if engine is None:
        engine = getattr(app.state, "engine", None)
    if engine is None:
        from tradewind.store.engine import make_engine

        engine = make_engine()
    if logs_folder is None:
        configured = conf.get("logging", "base_log_folder")
        logs_folder = Path(configured).expanduser() if configured else home() / "logs"
    app.state.tradewind_web = WebContext(engine, Path(logs_folder))
    app.add_exception_handler(LoginRequired, login_redirect)
    for module in (login, pages, actions):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="tradewind-static")
