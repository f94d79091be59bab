"""``tradewind api-server``: the REST API and the web UI, served by uvicorn; and what
``tradewind standalone`` adds: a first admin user and the API server beside the scheduler."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from tradewind.cli.output import fail
from tradewind.config import conf, create_private_file, home

ADMIN_PASSWORD_FILE = "standalone_admin_password.txt"


def _check_server_extra() -> None:
    missing = []
    for module in ("fastapi", "uvicorn", "argon2", "jwt", "python_multipart"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        fail(f"the API server needs the server extra ({', '.join(missing)} missing): pip install 'tradewind[server]'")


def url_of(host: str, port: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "::1", "localhost") else host
    return f"http://{shown}:{port}"


@click.command("api-server")
@click.option("--host", "-H", default=None, help="Address to listen on (default: [api] host, 127.0.0.1).")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=None, help="Port (default: [api] port, 8080).")
def api_server(host: str | None, port: int | None) -> None:
    """Serve the REST API (/api/v2, Airflow's paths) and the web UI; loopback only by default."""
    _check_server_extra()
    import uvicorn

    from tradewind.api.app import create_app

    chosen_host = host or str(conf.get("api", "host"))
    chosen_port = conf.getint("api", "port") if port is None else port
    try:
        app = create_app()
    except Exception as exc:  # a store that cannot be opened: say so in one line
        fail(f"cannot start the API server: {exc}")
        raise
    _check_free(chosen_host, chosen_port)
    click.echo(f"tradewind API and UI on {url_of(chosen_host, chosen_port)} (API docs at /api/v2/docs)", err=True)
    uvicorn.run(app, host=chosen_host, port=chosen_port, log_level="warning", access_log=False)


def _check_free(host: str, port: int) -> None:
    """Exit 1 naming the address when it cannot be listened on (taken, or not this machine's)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another with --host/--port")


def ensure_admin(engine: Any) -> tuple[str | None, Path]:
    """Create user ``admin`` with a random password when the store has no user yet; returns the
    new password (None when users existed) and the file it is kept in for later starts."""
    from tradewind.auth import create_user, list_users
    from tradewind.store.engine import session_scope

    keep = home() / ADMIN_PASSWORD_FILE
    with session_scope(engine) as session:
        if list_users(session):
            return None, keep
        password = secrets.token_urlsafe(12)
        create_user(session, "admin", password, "admin")
    create_private_file(keep)
    keep.write_text(password + "\n", encoding="utf-8")
    return password, keep


def start_api_server(host: str, port: int) -> subprocess.Popen[bytes]:
    """``tradewind api-server`` as a child process (its own interpreter: the scheduler keeps its CPU)."""
    code = "import sys; from tradewind.cli import main; sys.argv[0] = 'tradewind'; main()"
    return subprocess.Popen([sys.executable, "-c", code, "api-server", "--host", host, "--port", str(port)])


def announce_standalone(engine: Any, host: str, port: int) -> None:
    """Print where to log in, creating the admin user on first start (as Airflow's standalone does)."""
    password, keep = ensure_admin(engine)
    click.echo(f"web UI and API:  {url_of(host, port)}")
    if password is not None:
        click.echo(f"Login with username: admin  password: {password}")
        click.echo(f"(the password is also in {keep}; change it with `tradewind users reset-password -u admin`)")
    elif keep.exists():
        click.echo(f"Login with username: admin, password in {keep}")


class api_server_beside:
    """While the block runs (``tradewind standalone``'s scheduler): the API server in a child
    process, and the admin login printed. Without the server extra, a note says how to get it."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.child: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> api_server_beside:
        try:
            import fastapi  # noqa: F401
            import uvicorn  # noqa: F401

            import tradewind.auth  # noqa: F401
        except ImportError as exc:
            click.echo(f"no web UI: {exc.name} is not installed (pip install 'tradewind[server]')", err=True)
            return self
        host, port = str(conf.get("api", "host")), conf.getint("api", "port")
        announce_standalone(self.engine, host, port)
        self.child = start_api_server(host, port)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.child.kill()
