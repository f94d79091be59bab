"""`tradewind users ...`, `tradewind api-server` and the admin `tradewind standalone` creates."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tradewind.cli import main

TRADEWIND = Path(sys.executable).with_name("tradewind")


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith("TRADEWIND"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    return CliRunner()


def test_create_list_reset_delete(runner: CliRunner) -> None:
    made = runner.invoke(main, ["users", "create", "-u", "ada", "-r", "Op", "-p", "long enough"])
    assert (made.exit_code, made.output) == (0, "User ada created with role op\n")
    random = runner.invoke(main, ["users", "create", "--username", "vic", "--role", "viewer", "--use-random-password"])
    assert random.exit_code == 0
    password = re.search(r"Password: (\S+)", random.output)
    assert password is not None and len(password.group(1)) >= 12
    listed = runner.invoke(main, ["users", "list", "-o", "json"])
    assert [(u["username"], u["role"]) for u in __import__("json").loads(listed.output)] == [
        ("ada", "op"),
        ("vic", "viewer"),
    ]
    reset = runner.invoke(main, ["users", "reset-password", "-u", "vic", "-p", "another password"])
    assert (reset.exit_code, reset.output) == (0, "Password of vic changed\n")
    from tradewind.auth import authenticate
    from tradewind.store import make_engine
    from tradewind.store.engine import session_scope

    with session_scope(make_engine()) as session:
        assert authenticate(session, "vic", "another password") is not None
        assert authenticate(session, "vic", password.group(1)) is None
    gone = runner.invoke(main, ["users", "delete", "-u", "vic"])
    assert (gone.exit_code, gone.output) == (0, "User vic deleted\n")
    assert "vic" not in runner.invoke(main, ["users", "list", "-o", "plain"]).output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["create", "-u", "ada", "-r", "public", "-p", "long enough"], 2, "unknown role 'public'"),
        (["create", "-u", "ada", "-r", "User", "-p", "long enough"], 2, "Airflow's User role: use op"),
        (["create", "-u", "ada", "-r", "op", "-p", "short"], 1, "at least 8 characters"),
        (["create", "-u", "ada", "-r", "op", "-p", "long enough", "--use-random-password"], 1, "not both"),
        (["create", "-u", "ada", "-r", "op"], 1, "there is no terminal to ask on"),
        (["delete", "-u", "nobody"], 1, "no user 'nobody' (see `tradewind users list`)"),
        (["reset-password", "-u", "nobody", "-p", "long enough"], 1, "no user 'nobody'"),
    ],
)
def test_bad_user_commands_say_why(runner: CliRunner, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(main, ["users", *args])
    assert result.exit_code == code
    assert message in result.output


def test_a_taken_name_is_an_error(runner: CliRunner) -> None:
    assert runner.invoke(main, ["users", "create", "-u", "ada", "-r", "op", "-p", "long enough"]).exit_code == 0
    again = runner.invoke(main, ["users", "create", "-u", "ada", "-r", "admin", "-p", "long enough"])
    assert again.exit_code == 1 and "user 'ada' already exists" in again.output


def test_standalone_makes_an_admin_once(runner: CliRunner, tmp_path: Path) -> None:
    from tradewind.cli.server import ensure_admin
    from tradewind.store import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    password, keep = ensure_admin(engine)
    assert password is not None and keep.read_text().strip() == password
    assert oct(keep.stat().st_mode & 0o777) == "0o600"
    assert ensure_admin(engine) == (None, keep)  # users exist: nothing made, nothing printed
    listed = runner.invoke(main, ["users", "list", "-o", "json"])
    assert [(u["username"], u["role"]) for u in __import__("json").loads(listed.output)] == [("admin", "admin")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_standalone_prints_the_address_and_a_password_that_logs_in(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(TRADEWIND_HOME=str(tmp_path / "home"), TRADEWIND__API__PORT=str(port))
    child = subprocess.Popen(
        [TRADEWIND, "standalone", "--parallelism", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert child.stdout is not None
        lines: list[str] = []
        while not any("password:" in line for line in lines):
            line = child.stdout.readline().decode()
            assert line, f"standalone ended: {lines}"
            lines.append(line)
        assert f"web UI and API:  http://localhost:{port}\n" in lines
        password = lines[-1].split("password: ")[1].strip()
        deadline = time.monotonic() + 30
        while True:
            try:
                login = httpx.post(
                    f"http://127.0.0.1:{port}/auth/token", json={"username": "admin", "password": password}
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the API server did not start"
                time.sleep(0.3)
        assert login.status_code == 201
        token = login.json()["access_token"]
        dags = httpx.get(f"http://127.0.0.1:{port}/api/v2/dags", headers={"Authorization": f"Bearer {token}"})
        assert dags.status_code == 200
    finally:
        child.terminate()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()


def test_api_server_on_a_taken_port_says_so(runner: CliRunner) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["api-server", "--port", str(port)])
    assert result.exit_code == 1
    assert (
        f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another with --host/--port" in result.output
    )
