"""Bearer tokens for the API (JWT, HS256, via PyJWT) signed with a secret kept in the store.

The secret is made once per database (:func:`secret_key`), so several api-server processes on
one database accept each other's tokens. A token names its user and role; the API also checks
that the user still exists and has not changed password since the token was issued. Example::

    token = issue_token(user, secret_key(session))
    claims = verify_token(token, secret_key(session))   # TokenClaims(username='ada', role='op', ...)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tradewind.errors import TradewindError
from tradewind.store.models import ServerSecret
from tradewind.store.task_instances import dialect_insert

__all__ = ["DEFAULT_LIFETIME", "InvalidToken", "TokenClaims", "issue_token", "secret_key", "verify_token"]

ALGORITHM = "HS256"
AUDIENCE = "tradewind"
DEFAULT_LIFETIME = timedelta(hours=24)  # Airflow's [api_auth] jwt_expiration_time
SECRET_NAME = "jwt"


class InvalidToken(TradewindError):
    """A bearer token that is malformed, expired or not signed by this database's secret."""


class _HasUser(Protocol):
    username: str
    role: str


@dataclass(frozen=True)
class TokenClaims:
    """Who a verified token speaks for, and when it was issued."""

    username: str
    role: str
    issued_at: datetime
    expires_at: datetime


def secret_key(session: Session) -> bytes:
    """This database's token secret: 32 random bytes, made by whichever server asks first."""
    row = session.get(ServerSecret, SECRET_NAME)
    if row is None:
        stmt = dialect_insert(session, ServerSecret).values(
            name=SECRET_NAME, value=secrets.token_hex(32), created_at=datetime.now(UTC)
        )
        session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
        row = session.get(ServerSecret, SECRET_NAME, populate_existing=True)
        assert row is not None
    return bytes.fromhex(row.value)


def issue_token(user: _HasUser, secret: bytes, lifetime: timedelta = DEFAULT_LIFETIME) -> str:
    """A signed token for ``user``, valid for ``lifetime``."""
    import jwt

    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user.username,
        "role": user.role,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: bytes) -> TokenClaims:
    """The claims of a valid token; InvalidToken (saying why) otherwise."""
    import jwt

    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "role", "iat", "exp"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired; get a new one from POST /auth/token") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("role"), str):
        raise InvalidToken("invalid token: 'sub' and 'role' must be strings")
    return TokenClaims(
        username=claims["sub"],
        role=claims["role"],
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )
