"""The DAG processor: keeps the store's serialized DAGs in step with the DAGs folder.

It never imports a DAG file itself. Each file that changed (its bytes, or the bytes of a file
it read while last imported) is imported in a child process of its own, at most
``parsing_processes`` at once, each under a time limit and an optional memory limit. What a
child reports is stored in one transaction per batch: a new version for each DAG whose
structure changed, the file's import error (or its removal), DAGs the file no longer defines
made inactive. A child that hangs, exits or crashes becomes an import error naming the cause;
every other file is unaffected. A file that did not change is not imported again: a look at the
folder costs one ``stat`` per file (and per file it read) when nothing changed. The exception: a
file with a user's own timetable, whose runs the child computes ahead (docs/adr/0008), is
imported again at the ``refresh_after`` time the child reported, before those runs run out.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import connection as mp_connection
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tradewind.config import conf
from tradewind.definitions.timetables.serialization import MIN_REFRESH
from tradewind.loader.ignore import iter_dag_files
from tradewind.processes import path_without_cwd, starting_cleanly
from tradewind.processor.parse import child_main
from tradewind.store import dag_versions as dv
from tradewind.store.engine import session_scope
from tradewind.store.models import DagImportError

PRELOAD = [
    "tradewind.processor.parse",
    "tradewind.loader.airflow_compat",
    "tradewind.definitions.serialized",
    "tradewind.loader.dagfactory",  # YAML configs: PyYAML and the builder loaded once, not per child
]


@dataclass
class ProcessorReport:
    files: int = 0
    imported: int = 0
    new_versions: int = 0
    errors: int = 0


@dataclass
class _Child:
    path: str
    process: Any
    conn: Any
    started: float
    fingerprint: list[Any]
    content_hash: str
    data: bytes | None = None


def _stat(path: str) -> list[Any] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [path, st.st_mtime_ns, st.st_size]


def fingerprint(paths: list[str]) -> list[Any]:
    """[[path, mtime_ns, size], ...] (a missing file is [path, None, None])."""
    return [_stat(p) or [p, None, None] for p in paths]


def content_hash(paths: list[str]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.encode() + b"\0")
        try:
            if os.path.isdir(path):  # a folder the import listed: what matters is which names it holds
                names = sorted(n for n in os.listdir(path) if n != "__pycache__")
                digest.update(b"\0dir\0" + "\0".join(names).encode())
            else:
                digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(b"\0missing")
        digest.update(b"\0")
    return digest.hexdigest()


def _paused_at_creation(data: dict[str, Any], default: bool) -> bool:
    """The DAG's own ``is_paused_upon_creation``, else ``[core] dags_are_paused_at_creation``."""
    own = data.get("is_paused_upon_creation")
    return default if own is None else bool(own)


def _mp_context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


@contextmanager
def _no_gc() -> Iterator[None]:
    """Garbage collection off for a while (restored as it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _exit_cause(exitcode: int | None) -> str:
    if exitcode is None:
        return "did not finish"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {exitcode}"


class DagProcessor:
    """Parses the DAG files of ``folder`` into the store behind ``engine``."""

    def __init__(
        self,
        folder: Path | str,
        engine: Engine,
        *,
        parallelism: int | None = None,
        import_timeout: float | None = None,
        kill_timeout: float | None = None,
        memory_limit_mb: int | None = None,
        refresh_interval: float | None = None,
        say: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.folder = Path(os.path.abspath(folder))  # ".." collapsed: one spelling per file
        self.root = str((self.folder if self.folder.is_dir() else self.folder.parent).resolve())
        self.engine = engine
        configured = conf.get("dag_processor", "parsing_processes")
        self.parallelism = parallelism or (int(configured) if configured else (os.cpu_count() or 1))
        self.import_timeout = float(import_timeout or conf.get("core", "dagbag_import_timeout"))
        self.kill_timeout = float(kill_timeout or conf.get("core", "dag_file_processor_timeout"))
        self.kill_timeout = max(self.kill_timeout, self.import_timeout + 5)
        limit = memory_limit_mb if memory_limit_mb is not None else conf.getint("dag_processor", "memory_limit_mb")
        self.memory_limit_mb = int(limit)
        self.refresh_interval = float(refresh_interval or conf.get("dag_processor", "refresh_interval"))
        self.say = say or (lambda message: None)
        self.clock = clock or (lambda: datetime.now(UTC))  # when stored runs of a user's timetable run out
        self._ctx: Any = None
        self._known: dict[str, dv.StoredFile] | None = None
        self._queue: deque[tuple[str, list[Any], str]] = deque()
        self._children: list[_Child] = []
        self._last_scan = 0.0
        self.imports = 0  # files imported by this processor (children started)

    # -- deciding what to import
    def _stored(self) -> dict[str, dv.StoredFile]:
        if self._known is None:
            with session_scope(self.engine) as session:
                self._known = dv.stored_files(session)
        return self._known

    def _files(self) -> list[str]:
        if not self.folder.exists():
            return []
        found = []
        for path in iter_dag_files(self.folder):
            text = str(path)
            if path != self.folder:
                try:
                    if b"dag" not in path.read_bytes().lower():
                        continue  # like Airflow's safe mode: a helper module without DAGs is not imported
                except OSError:
                    continue
            found.append(text)
        return found

    def _mine(self, path: str) -> bool:
        """Whether ``path`` belongs to this processor's folder (a store may have seen others)."""
        root = str(self.folder)
        return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

    def scan(self) -> int:
        """Queue every file that changed since its last import; forget files that are gone.
        Returns how many files were queued."""
        self._last_scan = time.monotonic()
        stored = self._stored()
        files = self._files()
        busy = {c.path for c in self._children} | {p for p, _, _ in self._queue}
        queued = 0
        touched: list[dv.StoredFile] = []
        clock = self.clock()
        for path in files:
            if path in busy:
                continue
            known = stored.get(path)
            tracked = [path] + ([entry[0] for entry in known.fingerprint[1:]] if known else [])
            now = fingerprint(tracked)
            due = known is not None and known.refresh_after is not None and known.refresh_after <= clock
            if known is not None and now == known.fingerprint and not due:
                continue
            digest = content_hash(tracked)
            if known is not None and digest == known.content_hash and not due:
                # touched but not changed: remember the new stamps, import nothing
                updated = dv.StoredFile(path, now, digest, known.dag_ids, known.parse_seconds, known.refresh_after)
                touched.append(updated)
                stored[path] = updated
                continue
            self._queue.append((path, now, digest))
            queued += 1
        present = set(files)
        gone = [stored.pop(p) for p in list(stored) if self._mine(p) and p not in present and p not in busy]
        if touched or gone:
            with session_scope(self.engine) as session:
                for entry in touched:
                    dv.record_file(session, entry)
                for entry in gone:
                    dv.forget_file(session, entry)
                    self._forget_reported(session, entry)
                    self.say(f"{entry.fileloc} is gone: its DAG(s) {', '.join(entry.dag_ids) or '-'} are inactive")
                self._retry_clashes(session, {dag_id for entry in gone for dag_id in entry.dag_ids})
        return queued

    # -- children
    def _start(self, path: str, stamps: list[Any], digest: str) -> None:
        if self._ctx is None:
            self._ctx = _mp_context()
        reader, writer = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=child_main,
            args=(
                writer,
                path,
                self.root,
                self.import_timeout,
                self.memory_limit_mb,
                dict(os.environ),
                self.clock().isoformat(),
            ),
            name="tradewind-dag-processor",
            daemon=True,
        )
        with starting_cleanly(path_without_cwd()):  # no module of the current directory in children
            process.start()
        writer.close()
        self.imports += 1
        self._children.append(_Child(path, process, reader, time.monotonic(), stamps, digest))

    def _collect(self, timeout: float) -> list[tuple[_Child, dict[str, Any]]]:
        """Wait up to ``timeout`` for children to finish; return their outcomes."""
        import json

        done: list[tuple[_Child, dict[str, Any]]] = []
        if not self._children:
            return done
        waitables: dict[Any, _Child] = {}
        for child in self._children:
            waitables[child.process.sentinel] = child
            if child.data is None:
                waitables[child.conn] = child
        ready_list: list[Any] = mp_connection.wait(list(waitables), timeout)
        for ready in ready_list:
            child = waitables[ready]
            if ready is child.conn and child.data is None:
                try:
                    child.data = child.conn.recv_bytes()
                except (EOFError, OSError):
                    child.data = b""
        now = time.monotonic()
        for child in list(self._children):
            finished = child.process.exitcode is not None
            late = now - child.started > self.kill_timeout
            if not finished and not late:
                continue
            if late and not finished:
                child.process.kill()
            child.process.join()
            if child.data is None and child.conn.poll():
                try:
                    child.data = child.conn.recv_bytes()
                except (EOFError, OSError):
                    child.data = b""
            child.conn.close()
            self._children.remove(child)
            if child.data:
                with _no_gc():  # thousands of small dicts: collections would walk them again and again
                    outcome = json.loads(child.data)
            elif late and not finished:
                outcome = {"error": f"TimeoutError: importing this file took longer than {self.kill_timeout:g}s"}
            else:
                cause = _exit_cause(child.process.exitcode)
                outcome = {"error": f"ProcessDied: the process importing this file {cause}"}
            done.append((child, outcome))
        return done

    # -- storing
    def _store(self, finished: list[tuple[_Child, dict[str, Any]]], report: ProcessorReport) -> None:
        with _no_gc():
            self._store_all(finished, report)

    def _store_all(self, finished: list[tuple[_Child, dict[str, Any]]], report: ProcessorReport) -> None:
        stored = self._stored()
        freed: set[str] = set()  # DAG ids a file stopped defining
        with session_scope(self.engine) as session:
            for child, outcome in finished:
                path = child.path
                known = stored.get(path)
                error = outcome.get("error")
                found = outcome.get("dags") or []
                reads = [r for r in outcome.get("reads") or [] if r != path]
                tracked = [path, *reads]
                stamps = fingerprint(tracked) if reads else child.fingerprint
                digest = content_hash(tracked) if reads else child.content_hash
                dag_ids = [d["data"]["dag_id"] for d in found]
                refresh = outcome.get("refresh_after")
                refresh_after = datetime.fromisoformat(refresh) if refresh else None
                if error is None:
                    owners = dv.dag_owners(session, dag_ids)
                    clash = next((i for i in dag_ids if owners.get(i, path) != path and Path(owners[i]).exists()), None)
                    if clash is not None:
                        error = dv.clash_message(clash, owners[clash])
                broken: set[str] = set()
                if error is None:
                    broken = self._store_reported(session, path, known, reads, outcome.get("file_errors") or [])
                if error is not None:
                    report.errors += 1
                    dv.set_import_error(session, path, error)
                    self.say(f"{path}: {error.splitlines()[0]}")
                    # the DAGs it defined before stay as they were until the file imports again;
                    # runs precomputed for them are asked for again an hour later at the soonest
                    dag_ids = known.dag_ids if known else []
                    before = known.refresh_after if known else None
                    refresh_after = max(before, self.clock() + MIN_REFRESH) if before else None
                else:
                    dv.set_import_error(session, path, None)
                    paused = bool(conf.get("core", "dags_are_paused_at_creation"))
                    versions = [
                        dv.DagVersionInput(
                            dag_id=entry["data"]["dag_id"],
                            dag_hash=entry["hash"],
                            data=entry["data"],
                            schedule=entry["data"]["schedule"],
                            tags=list(entry["data"]["tags"]),
                            max_active_runs=entry["data"]["max_active_runs"],
                            paused_at_creation=_paused_at_creation(entry["data"], paused),
                        )
                        for entry in found
                    ]
                    report.new_versions += dv.store_versions(session, path, versions)
                    if known is not None:
                        # a DAG whose config is broken keeps its last good version until it is fixed
                        kept = [i for i in known.dag_ids if i in broken and i not in dag_ids]
                        dag_ids += kept
                        dropped = set(known.dag_ids) - set(dag_ids)
                        dv.deactivate(session, dropped)
                        freed.update(dropped)
                entry_row = dv.StoredFile(path, stamps, digest, dag_ids, outcome.get("seconds"), refresh_after)
                dv.record_file(session, entry_row)
                stored[path] = entry_row
                report.imported += 1
            self._retry_clashes(session, freed)

    def _store_reported(
        self, session: Any, path: str, known: dv.StoredFile | None, reads: list[str], file_errors: list[dict[str, Any]]
    ) -> set[str]:
        """Import errors the file reported on files it read (a dag-factory loader on its YAML
        configs): replace those of every such file it read before or now. Returns the DAG ids
        whose config is broken."""
        stored = self._stored()
        before = [entry[0] for entry in known.fingerprint[1:]] if known else []
        by_file: dict[str, list[str]] = {}
        for name in {*before, *reads}:
            if name not in stored and name != path and not os.path.isdir(name):
                by_file[name] = []
        broken: set[str] = set()
        for entry in file_errors:
            if entry["filename"] in stored or entry["filename"] == path:
                continue  # a DAG file's own errors are its own import's to say
            by_file.setdefault(entry["filename"], []).append(entry["error"])
            if entry.get("dag_id"):
                broken.add(entry["dag_id"])
        with_errors = set(session.scalars(select(DagImportError.filename).distinct()))
        for name, errors in by_file.items():
            if not errors and name not in with_errors:
                continue  # nothing to clear: one query for the whole folder, not one per config
            dv.set_import_errors(session, name, errors)
            for message in errors:
                self.say(f"{name}: {message.splitlines()[0]}")
        return broken

    def _forget_reported(self, session: Any, entry: dv.StoredFile) -> None:
        """A DAG file that is gone takes the import errors it reported on its configs along."""
        stored = self._stored()
        for item in entry.fingerprint[1:]:
            if item[0] not in stored and not os.path.isdir(item[0]):
                dv.set_import_error(session, item[0], None)

    def _retry_clashes(self, session: Any, freed: set[str]) -> None:
        """A file refused because another file defined the same DAG id is imported again once
        that file no longer defines it (moved, renamed or deleted)."""
        busy = {c.path for c in self._children} | {p for p, _, _ in self._queue}
        for path in dv.files_clashing_on(session, freed):
            if path not in busy and Path(path).exists():
                self._queue.append((path, fingerprint([path]), content_hash([path])))

    # -- driving
    def poll(self, timeout: float = 0.0) -> ProcessorReport:
        """One non-blocking step: look at the folder when due, start children, store what
        finished (waiting at most ``timeout`` seconds for one)."""
        report = ProcessorReport()
        if time.monotonic() - self._last_scan >= self.refresh_interval:
            self.scan()
        while self._queue and len(self._children) < self.parallelism:
            self._start(*self._queue.popleft())
        finished = self._collect(timeout)
        if finished:
            self._store(finished, report)
        return report

    @property
    def busy(self) -> bool:
        return bool(self._queue or self._children)

    def run_once(self) -> ProcessorReport:
        """Bring the store up to date with the folder, waiting for every import to finish."""
        total = ProcessorReport()
        self.scan()
        total.files = len(self._stored())
        while self.busy:
            while self._queue and len(self._children) < self.parallelism:
                self._start(*self._queue.popleft())
            finished = self._collect(0.5)
            if finished:
                self._store(finished, total)
        return total

    def run_forever(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        while not should_stop():
            self.poll(timeout=0.2 if self.busy else 0.0)
            if not self.busy:
                time.sleep(min(self.refresh_interval, 0.5))
        self.stop()

    def stop(self) -> None:
        for child in self._children:
            child.process.kill()
            child.process.join()
            child.conn.close()
        self._children.clear()
        self._queue.clear()
