"""Users, roles, password hashes and tokens on a real SQLite store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tradewind.auth import (
    InvalidToken,
    UserError,
    authenticate,
    can,
    create_user,
    delete_user,
    issue_token,
    list_users,
    reset_password,
    secret_key,
    verify_token,
)
from tradewind.store import make_engine, migrate
from tradewind.store.engine import session_scope


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'tw.db'}")
    migrate(engine)
    return engine


@pytest.mark.parametrize(
    ("role", "read", "act", "admin"),
    [
        ("viewer", True, False, False),
        ("op", True, True, False),
        ("admin", True, True, True),
        ("nobody", False, False, False),
    ],
)
def test_what_each_role_may_do(role: str, read: bool, act: bool, admin: bool) -> None:
    assert (can(role, "read"), can(role, "act"), can(role, "admin")) == (read, act, admin)


def test_a_user_logs_in_with_its_password_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, "ada", "correct horse", "op")
    with session_scope(engine) as session:
        stored = session.execute(text("SELECT password_hash FROM tw_user")).scalar_one()
        assert stored.startswith("$argon2id$") and "correct horse" not in stored
        user = authenticate(session, "ada", "correct horse")
        assert user is not None and (user.username, user.role) == ("ada", "op")
        assert authenticate(session, "ada", "wrong horse") is None
        assert authenticate(session, "bob", "correct horse") is None
        assert authenticate(session, "", "") is None


def test_users_are_listed_reset_and_deleted(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, "zed", "password-z", "viewer")
        create_user(session, "ada", "password-a", "admin")
        assert [(u.username, u.role) for u in list_users(session)] == [("ada", "admin"), ("zed", "viewer")]
        reset_password(session, "zed", "new-password")
    with session_scope(engine) as session:
        assert authenticate(session, "zed", "password-z") is None
        assert authenticate(session, "zed", "new-password") is not None
        delete_user(session, "zed")
    with session_scope(engine) as session:
        assert [u.username for u in list_users(session)] == ["ada"]


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("ada", "long enough", "root", "unknown role 'root'; use one of: viewer, op, admin"),
        ("ada", "short", "op", "at least 8 characters"),
        ("", "long enough", "op", "1 to 256 characters"),
        (" ada", "long enough", "op", "surrounding spaces"),
        ("a\x1bda", "long enough", "op", "control character"),
    ],
)
def test_bad_users_are_refused_saying_why(
    engine: Engine, username: str, password: str, role: str, message: str
) -> None:
    with session_scope(engine) as session, pytest.raises(UserError, match=message):
        create_user(session, username, password, role)


def test_a_taken_name_and_an_unknown_user_are_errors(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, "ada", "long enough", "op")
    with session_scope(engine) as session, pytest.raises(UserError, match="user 'ada' already exists"):
        create_user(session, "ada", "other password", "viewer")
    with session_scope(engine) as session, pytest.raises(UserError, match="no user 'bob'"):
        delete_user(session, "bob")
    with session_scope(engine) as session, pytest.raises(UserError, match="no user 'bob'"):
        reset_password(session, "bob", "long enough")


def test_the_secret_is_made_once_per_database(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        first = secret_key(session)
    other = make_engine(f"sqlite:///{tmp_path / 'tw.db'}")  # another server process on the same file
    with session_scope(other) as session:
        assert secret_key(session) == first
    assert len(first) == 32


def test_tokens_carry_the_user_and_refuse_tampering_and_expiry(engine: Engine) -> None:
    with session_scope(engine) as session:
        user = create_user(session, "ada", "long enough", "viewer")
        secret = secret_key(session)
    claims = verify_token(issue_token(user, secret), secret)
    assert (claims.username, claims.role) == ("ada", "viewer")
    assert claims.expires_at - claims.issued_at == timedelta(hours=24)
    with pytest.raises(InvalidToken, match="Signature verification failed"):
        verify_token(issue_token(user, b"x" * 32), secret)
    with pytest.raises(InvalidToken, match="has expired"):
        verify_token(issue_token(user, secret, lifetime=timedelta(seconds=-60)), secret)
    with pytest.raises(InvalidToken, match="invalid token"):
        verify_token("not.a.token", secret)
