"""Who is using the browser UI: a login session in a cookie, and the CSRF token its forms carry.

The session cookie holds a signed token from :mod:`tradewind.auth` (the same kind the API's
``POST /auth/token`` gives), ``HttpOnly`` and ``SameSite=Lax``. Each request checks it against
the store: a deleted user, or one whose password changed since the token was issued, is logged
out, and the role is the one the store holds now. The CSRF token of a session is an HMAC of
its cookie under the server's secret, so it needs no storage; every POST must carry it in the
``csrf_token`` form field. The login form, before any session exists, carries a random nonce
that must match a short-lived cookie of its own (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from tradewind.auth import InvalidToken, can, get_user, issue_token, secret_key, verify_token
from tradewind.store.engine import session_scope

SESSION_COOKIE = "tradewind_session"
LOGIN_COOKIE = "tradewind_login"


@dataclass(frozen=True)
class WebUser:
    """The logged-in user of one request."""

    username: str
    role: str
    csrf_token: str

    @property
    def can_act(self) -> bool:
        """May trigger, pause and clear (roles op and admin)."""
        return can(self.role, "act")


class Sessions:
    """Login sessions over one store: issues cookies and reads them back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._secret: bytes | None = None

    def secret(self) -> bytes:
        if self._secret is None:  # made once per database, never changed: read it once
            with session_scope(self.engine) as session:
                self._secret = secret_key(session)
        return self._secret

    def csrf_for(self, cookie: str) -> str:
        return hmac.new(self.secret(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()

    def start(self, user: Any) -> str:
        """The cookie value of a new session for ``user`` (an authenticated store user)."""
        return issue_token(user, self.secret())

    def user(self, cookie: str | None) -> WebUser | None:
        """The user a session cookie speaks for, or None (absent, forged, expired, revoked)."""
        if not cookie:
            return None
        try:
            claims = verify_token(cookie, self.secret())
        except InvalidToken:
            return None
        with session_scope(self.engine) as session:
            stored = get_user(session, claims.username)
            if stored is None:
                return None
            # tokens carry whole seconds: one issued in the second the password changed still counts
            if int(stored.password_changed_at.timestamp()) > int(claims.issued_at.timestamp()):
                return None
            role = stored.role
        return WebUser(claims.username, role, self.csrf_for(cookie))

    def check_csrf(self, cookie: str | None, token: str | None) -> bool:
        """Whether a POST's ``csrf_token`` belongs to its session cookie."""
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.csrf_for(cookie), token)


def login_nonce() -> str:
    return secrets.token_urlsafe(24)


def nonce_matches(cookie: str | None, field: str | None) -> bool:
    return bool(cookie) and bool(field) and hmac.compare_digest(str(cookie), str(field))
