"""What every route needs: the app's store and settings, the signed-in user, and pagination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from tradewind.auth import InvalidToken, can, get_user, secret_key, verify_token
from tradewind.store.engine import session_scope

MAX_OFFSET = 2**31 - 1  # larger offsets are refused (422), never sent to the database


@dataclass(frozen=True)
class ApiSettings:
    logs_folder: Path
    token_lifetime: timedelta
    fallback_page_limit: int = 50
    maximum_page_limit: int = 100


@dataclass(frozen=True)
class ApiUser:
    username: str
    role: str


def engine_of(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def settings_of(request: Request) -> ApiSettings:
    return request.app.state.api_settings  # type: ignore[no-any-return]


def token_secret(request: Request) -> bytes:
    """The store's token secret, read once per app (it never changes)."""
    found: bytes | None = getattr(request.app.state, "token_secret", None)
    if found is None:
        with session_scope(engine_of(request)) as session:
            found = secret_key(session)
        request.app.state.token_secret = found
    return found


_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def signed_in(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiUser:
    """The user a valid bearer token names (401 otherwise): the user must still exist and not
    have changed password since the token was issued; the role is the user's current one."""
    if credentials is None:
        raise _unauthorized("Not authenticated")
    try:
        claims = verify_token(credentials.credentials, token_secret(request))
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from None
    with session_scope(engine_of(request)) as session:
        user = get_user(session, claims.username)
        if user is None:
            raise _unauthorized("the token's user no longer exists")
        if claims.issued_at < user.password_changed_at.replace(microsecond=0):
            raise _unauthorized("the password changed after this token was issued; get a new token")
        return ApiUser(user.username, user.role)


def _requires(action: str) -> Any:
    def check(user: Annotated[ApiUser, Depends(signed_in)]) -> ApiUser:
        if not can(user.role, action):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"Forbidden: role '{user.role}' may not {action}")
        return user

    return check


Reader = Annotated[ApiUser, Depends(_requires("read"))]
Actor = Annotated[ApiUser, Depends(_requires("act"))]
EngineDep = Annotated[Engine, Depends(engine_of)]
SettingsDep = Annotated[ApiSettings, Depends(settings_of)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page(
    request: Request,
    limit: Annotated[int | None, Query(ge=0, description="Entries per page (cut to [api] maximum_page_limit)")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page:
    settings = settings_of(request)
    chosen = settings.fallback_page_limit if limit is None else limit
    return Page(min(chosen, settings.maximum_page_limit), offset)


PageDep = Annotated[Page, Depends(page)]


def refuse_team(team_name: str | None) -> None:
    """Airflow's multi-team field: tradewind has no teams, so a team is refused, not ignored."""
    if team_name is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "team_name: tradewind has no teams; leave it out or null")
