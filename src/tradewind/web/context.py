"""What every UI route needs: the store, the logs folder, the login sessions and the templates,
kept on the FastAPI app by :func:`tradewind.web.install`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradewind.store.engine import session_scope
from tradewind.web.render import link, make_environment
from tradewind.web.session import SESSION_COOKIE, Sessions, WebUser


class LoginRequired(Exception):
    """Raised by a page for an anonymous visitor: the browser is sent to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class WebContext:
    def __init__(self, engine: Engine, logs_folder: Path) -> None:
        self.engine = engine
        self.logs_folder = logs_folder
        self.sessions = Sessions(engine)
        self.templates = make_environment()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def render(self, request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("user", None)
        values.setdefault("live", False)
        values.setdefault("request_path", request.url.path)
        flash = _flash(request.cookies.get(FLASH_COOKIE))
        values.setdefault("flash", flash)
        html = self.templates.get_template(template).render(**values)
        response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
        if flash is not None and request.headers.get("X-Requested-With") != "refresh":
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response


FLASH_COOKIE = "tradewind_flash"  # a one-time message after an action: {"text", "good"}


def _flash(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        return None
    return {"text": value["text"][:500], "good": bool(value.get("good"))}


# the pages load nothing from elsewhere, run no inline script and are never framed
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.tradewind_web
    return context


def current_user(request: Request) -> WebUser:
    """The logged-in user; an anonymous visitor is sent to the login page."""
    user = web(request).sessions.user(request.cookies.get(SESSION_COOKIE))
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def login_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if request.url.path.endswith(".json"):
        return JSONResponse({"detail": "Not authenticated: log in at /login"}, status_code=401)
    return RedirectResponse(link("/login", next=exc.next_url), status_code=303)
