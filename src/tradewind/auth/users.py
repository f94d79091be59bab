"""Users and roles, kept in the store; passwords hashed with argon2id (argon2-cffi).

Roles, from least to most: ``viewer`` reads; ``op`` also acts (triggers, pauses, clears,
sets states); ``admin`` also manages users. Example::

    with session_scope(engine) as session:
        create_user(session, "ada", "a long passphrase", "op")
        user = authenticate(session, "ada", "a long passphrase")
        assert user is not None and can(user.role, "act")
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradewind.errors import TradewindError
from tradewind.store.models import User

__all__ = [
    "ACTIONS",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "UserError",
    "authenticate",
    "can",
    "create_user",
    "delete_user",
    "get_user",
    "list_users",
    "reset_password",
]

ROLES = ("viewer", "op", "admin")
Action = Literal["read", "act", "admin"]
ACTIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "op": frozenset({"read", "act"}),
    "admin": frozenset({"read", "act", "admin"}),
}
MIN_PASSWORD_LENGTH = 8
USERNAME_LENGTH = 256


class UserError(TradewindError):
    """A user cannot be created, found or changed as asked (the message says why and what to do)."""


def _hasher() -> object:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, argon2-cffi's RFC 9106 low-memory profile


def _now() -> datetime:
    return datetime.now(UTC)


def can(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` (``read``, ``act`` or ``admin``); unknown roles may do nothing."""
    return action in ACTIONS.get(role, frozenset())


def _check_username(username: str) -> str:
    if not isinstance(username, str) or not username or len(username) > USERNAME_LENGTH:
        raise UserError(f"a username must be 1 to {USERNAME_LENGTH} characters long, got {username!r}")
    if username != username.strip() or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in username):
        raise UserError(
            f"username {username!r} has surrounding spaces or a control character: use printable characters only"
        )
    return username


def _check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password must be at least {MIN_PASSWORD_LENGTH} characters long")
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    return role


def _hash(password: str) -> str:
    return str(_hasher().hash(password))  # type: ignore[attr-defined]


def get_user(session: Session, username: str) -> User | None:
    """The user with this name, or None."""
    return session.get(User, username, populate_existing=True)


def create_user(session: Session, username: str, password: str, role: str) -> User:
    """Add a user; UserError if the name is taken, the role unknown or the password too short."""
    _check_username(username)
    _check_role(role)
    _check_password(password)
    if get_user(session, username) is not None:
        raise UserError(f"user '{username}' already exists; reset its password with `tradewind users reset-password`")
    now = _now()
    user = User(username=username, password_hash=_hash(password), role=role, created_at=now, password_changed_at=now)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every user, ordered by name."""
    return list(session.scalars(select(User).order_by(User.username).execution_options(populate_existing=True)))


def _existing(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise UserError(f"no user '{username}' (see `tradewind users list`)")
    return user


def delete_user(session: Session, username: str) -> None:
    """Remove a user; its tokens stop working at once. UserError if there is no such user."""
    _existing(session, username)
    session.execute(delete(User).where(User.username == username), execution_options={"synchronize_session": False})
    session.expunge_all()


def reset_password(session: Session, username: str, password: str) -> User:
    """Give a user a new password; tokens issued before now stop working."""
    _check_password(password)
    user = _existing(session, username)
    user.password_hash = _hash(password)
    user.password_changed_at = _now()
    session.flush()
    return user


# a hash of a password nobody has, checked when the user does not exist, so that a wrong name
# costs the same time as a wrong password
_DUMMY: list[str] = []


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None (unknown user and wrong password alike)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    plausible = isinstance(username, str) and 0 < len(username) <= USERNAME_LENGTH and "\x00" not in username
    user = get_user(session, username) if plausible else None  # PostgreSQL refuses NUL in text
    if user is None:
        if not _DUMMY:
            _DUMMY.append(_hash("not a password of anyone"))
        try:
            hasher.verify(_DUMMY[0], password or "")  # type: ignore[attr-defined]
        except (VerificationError, InvalidHashError):
            pass
        return None
    try:
        hasher.verify(user.password_hash, password or "")  # type: ignore[attr-defined]
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(user.password_hash):  # type: ignore[attr-defined]
        user.password_hash = _hash(password)
        session.flush()
    return user
