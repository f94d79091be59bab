"""A real tradewind to drive with a real browser: ``tradewind standalone`` (scheduler, DAG
processor, API server and UI) in a temp TRADEWIND_HOME on a free loopback port, and Debian's
headless Chromium through Playwright. Used by the browser tests and scripts/screenshots.py."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TRADEWIND = Path(sys.executable).with_name("tradewind")
ARTIFACTS = Path(__file__).parent / "artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Standalone:
    """``tradewind standalone`` in ``home``, its output collected; ``url`` and the admin password
    are read from what it prints, as a newcomer would."""

    def __init__(self, home: Path, dags: list[Path], parallelism: int = 2) -> None:
        self.home = home
        (home / "dags").mkdir(parents=True, exist_ok=True)
        for dag in dags:
            shutil.copy(dag, home / "dags" / dag.name)
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
        self.env.update(
            TRADEWIND_HOME=str(home),
            TRADEWIND__API__HOST="127.0.0.1",
            TRADEWIND__API__PORT=str(self.port),
            TRADEWIND__DAG_PROCESSOR__REFRESH_INTERVAL="0.5",
            PYTHONUNBUFFERED="1",
            TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION="true",
        )
        self.parallelism = parallelism
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.password = ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TRADEWIND), *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )

    def _collect(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def start(self, timeout: float = 60) -> None:
        self.process = subprocess.Popen(
            [str(TRADEWIND), "standalone", "--parallelism", str(self.parallelism)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._collect, args=(self.process.stdout,), daemon=True)
        self.reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = "\n".join(self.lines)
            address = re.search(r"web UI and API:\s+(http://\S+)", text)
            password = re.search(r"username: admin\s+password: (\S+)", text)
            if address and password:
                self.url, self.password = address.group(1), password.group(1)
                break
            if self.process.poll() is not None:
                raise RuntimeError("tradewind standalone ended:\n" + text)
            time.sleep(0.1)
        else:
            raise RuntimeError("tradewind standalone printed no address and password:\n" + "\n".join(self.lines))
        self.url = self.url.replace("localhost", "127.0.0.1")
        self.wait_for(lambda: _answers(self.url + "/login"), "the UI to answer", timeout)

    def wait_for(self, condition: Any, what: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"tradewind standalone ended waiting for {what}:\n" + "\n".join(self.lines))
            time.sleep(0.2)
        raise TimeoutError(f"timed out waiting for {what}; standalone said:\n" + "\n".join(self.lines[-40:]))

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def standalone(home: Path, dags: list[Path], parallelism: int = 2) -> Iterator[Standalone]:
    site = Standalone(home, dags, parallelism)
    try:
        site.start()
        yield site
    finally:
        site.stop()


@contextmanager
def browser(width: int = 1280, height: int = 800) -> Iterator[Any]:
    """A page in headless Chromium (Debian's, never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            chromium.close()


def log_in(page: Any, site: Standalone, username: str = "admin", password: str | None = None) -> None:
    page.goto(site.url + "/")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or site.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dags$"))
