"""Who may use the API and the web UI: users with roles in the store, argon2 password hashes,
and signed bearer tokens. See docs/adr/0010-api-ui-and-auth.md."""

from __future__ import annotations

from tradewind.auth.tokens import DEFAULT_LIFETIME, InvalidToken, TokenClaims, issue_token, secret_key, verify_token
from tradewind.auth.users import (
    ACTIONS,
    MIN_PASSWORD_LENGTH,
    ROLES,
    UserError,
    authenticate,
    can,
    create_user,
    delete_user,
    get_user,
    list_users,
    reset_password,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_LIFETIME",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "InvalidToken",
    "TokenClaims",
    "UserError",
    "authenticate",
    "can",
    "create_user",
    "delete_user",
    "get_user",
    "issue_token",
    "list_users",
    "reset_password",
    "secret_key",
    "verify_token",
]
