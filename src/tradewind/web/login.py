"""Logging in and out of the UI.

``GET /login`` shows the form with a fresh nonce (also set as a cookie of its own); ``POST
/login`` checks the nonce, the user name and the password, then sets the session cookie and
goes on to where the visitor was headed (a path on this site only). ``POST /logout`` needs the
session's CSRF token and ends the session in this browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from tradewind.auth import authenticate
from tradewind.web.context import WebContext, web
from tradewind.web.session import LOGIN_COOKIE, SESSION_COOKIE, login_nonce, nonce_matches

router = APIRouter(include_in_schema=False)
Web = Annotated[WebContext, Depends(web)]
SESSION_SECONDS = 24 * 3600  # the token's own lifetime (tradewind.auth.DEFAULT_LIFETIME)


def safe_next(target: str | None) -> str:
    """A path on this site to go to after logging in (never another site: no scheme, no ``//``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dags"
    if any(ord(c) < 0x20 for c in target):
        return "/dags"
    return target


def _form(ctx: WebContext, request: Request, next_url: str, error: str = "", username: str = "") -> Response:
    nonce = login_nonce()
    response = ctx.render(
        request,
        "login.html",
        status_code=401 if error else 200,
        next_url=safe_next(next_url),
        error=error,
        username=username,
        csrf_token=nonce,
    )
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login")
def login_page(request: Request, ctx: Web, next: str = "/dags") -> Response:
    if ctx.sessions.user(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(ctx, request, next)


@router.post("/login")
def login_submit(
    request: Request,
    ctx: Web,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dags",
) -> Response:
    if not nonce_matches(request.cookies.get(LOGIN_COOKIE), csrf_token):
        response = _form(ctx, request, next, "The login form expired: please log in again.", username)
        response.status_code = 403
        return response
    with ctx.read() as session:
        user = authenticate(session, username, password)
        cookie = ctx.sessions.start(user) if user is not None else None
    if cookie is None:
        return _form(ctx, request, next, "Wrong user name or password.", username)
    response = RedirectResponse(safe_next(next), status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, ctx: Web, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and not ctx.sessions.check_csrf(cookie, csrf_token):
        return Response("CSRF token missing or wrong: reload the page and try again", status_code=403)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
