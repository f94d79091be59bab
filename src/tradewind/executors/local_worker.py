"""The worker process of the local executor: imports each DAG file once, then runs many task
instances, one at a time, on its main thread (where ``execution_timeout`` signals arrive).

Protocol with the parent (``executors.local``), over two one-way pipes and two shared integers:

* tasks pipe, parent -> worker: lists of ``(seq, WorkItem)``, seq increasing. A reader thread
  moves them into a local queue at once, so the parent's sends never wait for a running task.
  ``GIVE_BACK`` asks for the queued items back (another worker is idle while this one runs a
  long task); the parent closing the pipe means "stop": the running task finishes, queued
  ones are dropped.
* results pipe, worker -> parent: ``("results", [(seq, TaskResult), ...], [(seq, TaskStarted)])``,
  sent when the worker runs out of work, when ``RESULT_BATCH`` wait, and at the latest
  ``RESULT_DELAY`` seconds after the first of them ended (a small thread sends them then, even
  while a long task runs); ``("returned", [seq, ...])`` answers GIVE_BACK. The start of a try
  goes in such a message only once the try has run ``RESULT_DELAY`` seconds without ending
  (so within 2 ms of its start): a short try is told by its result alone, and a wide map of
  tiny tasks sends no more messages than before.
* ``progress[0]`` is the seq of the last item started, ``progress[1]`` of the last one finished,
  so that after a crash the parent knows which item was running and which were only queued.

A worker starts with the ``sys.path`` the parent chose (``WorkerSetup.sys_path``: the standard
library and site-packages first, never '' or the current folder) and adds the folders of DAG
files at its end, so a ``json.py`` or ``jinja2.py`` there cannot shadow a library.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any, TextIO

from tradewind.config import PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE, conf, make_folders
from tradewind.definitions import secrets
from tradewind.definitions.abstractoperator import AbstractOperator
from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.parsing_context import parsing_context
from tradewind.definitions.secrets import SecretsSource
from tradewind.definitions.states import TaskInstanceState
from tradewind.loader.dagbag import import_dag_file
from tradewind.runtime.callbacks import run_dag_callback_item
from tradewind.runtime.durable import result_from_log, result_line
from tradewind.runtime.logs import TaskLogWriter, dag_callback_log_relative_path, log_relative_path
from tradewind.runtime.run_task import run_task
from tradewind.runtime.work import ErrorInfo, TaskResult, TaskStarted, WorkItem

GIVE_BACK = "give back"  # parent -> worker: return the items you have not started
RESULT_BATCH = 32  # results sent together at most
RESULT_DELAY = 0.002  # seconds a result may wait for others to go with it


def log_file_name(log_folder: str, key: TaskInstanceKey) -> str:
    """``{folder}/dag_id=../run_id=../task_id=../map_index=../attempt=N.log``, the ids encoded so
    that no two tries share a file on any filesystem (``runtime.logs.path_component``)."""
    return f"{log_folder}/{log_relative_path(key)}"


def log_file_path(log_folder: Path, key: TaskInstanceKey) -> Path:
    return Path(log_file_name(str(log_folder), key))


def failed_result(key: TaskInstanceKey, error: ErrorInfo, started: datetime | None = None) -> TaskResult:
    now = datetime.now(UTC)
    return TaskResult(key=key, state=TaskInstanceState.FAILED, started_at=started or now, ended_at=now, error=error)


class TaskNotRunnable(Exception):
    """The worker cannot find the task of a WorkItem (DAG file missing, broken, or changed)."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(error.message)
        self.error = error


class DagCache:
    """The DAGs of each DAG file this worker has imported, with the version they were imported as."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[str, dict[str, DAG]]] = {}
        self._asked: set[tuple[str, str]] = set()  # (file, hash) pairs that made us import again
        self._context_read: set[str] = set()  # files whose import read get_parsing_context()

    def find_task(self, item: WorkItem) -> AbstractOperator:
        key = item.key
        if not item.dag_file:
            raise TaskNotRunnable(ErrorInfo("DagNotFound", f"{key.display}: the WorkItem names no DAG file", ""))
        cached = self._files.get(item.dag_file)
        wanted = item.dag_file_hash
        # another version than the one imported: import again, once per version asked for (if
        # the file changed again meanwhile, the newest one runs)
        if cached is None or (wanted and wanted != cached[0] and (item.dag_file, wanted) not in self._asked):
            if wanted:
                self._asked.add((item.dag_file, wanted))
            cached = self._import(item.dag_file, key, wanted)
        _, dags = cached
        dag = dags.get(key.dag_id)
        if dag is None and item.dag_file in self._context_read:
            # the file builds only the DAG named by get_parsing_context(): build this one
            _, dags = self._import(item.dag_file, key, wanted)
            dag = dags.get(key.dag_id)
        if dag is None:
            defined = ", ".join(sorted(dags)) or "none"
            raise TaskNotRunnable(
                ErrorInfo(
                    "DagNotFound",
                    f"DAG '{key.dag_id}' is not defined in {item.dag_file} (DAGs there: {defined})",
                    "",
                )
            )
        task = dag.task_dict.get(key.task_id)
        if task is None:
            raise TaskNotRunnable(
                ErrorInfo("TaskNotFound", f"Task '{key.task_id}' is not in DAG '{key.dag_id}' ({item.dag_file})", "")
            )
        return task

    def _import(self, dag_file: str, key: TaskInstanceKey, version: str | None) -> tuple[str, dict[str, DAG]]:
        """Import ``dag_file`` now, remembered as ``version`` (the scheduler's name for the file
        with the configs it reads) or, without one, as the sha256 of its bytes."""
        path = Path(dag_file)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            message = f"cannot read DAG file {dag_file} to run {key.display}: {exc.strerror or exc}"
            raise TaskNotRunnable(ErrorInfo("DagFileImportError", message, "")) from None
        _put_on_sys_path(path)
        timeout = conf.getint("core", "dagbag_import_timeout")
        with parsing_context(key.dag_id, key.task_id) as asked:
            dags, error, _ = import_dag_file(path, timeout)
        if asked[0]:
            self._context_read.add(dag_file)
        else:
            self._context_read.discard(dag_file)
        if error is not None:
            message = f"importing DAG file {dag_file} failed, so {key.display} cannot run: {error.error}"
            raise TaskNotRunnable(ErrorInfo("DagFileImportError", message, error.traceback))
        entry = (version or digest, {d.dag_id: d for d in dags})
        self._files[dag_file] = entry
        return entry


def _put_on_sys_path(path: Path) -> None:
    """Helper modules next to a DAG file, or at the top of the DAGs folder, stay importable (as in
    ``load_dags``), but after the standard library and site-packages: they cannot shadow them."""
    roots = [path.parent.resolve()]
    folder = conf.dags_folder().expanduser().resolve()
    if folder.is_dir() and folder in path.resolve().parents:
        roots.append(folder)
    for root in roots:
        if str(root) not in sys.path:
            sys.path.append(str(root))


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process starts with (sent once, when it starts)."""

    log_folder: str
    env: dict[str, str]  # a forkserver child starts with the server's environment, not the parent's
    sys_path: list[str]
    log_file_mode: int = PRIVATE_FILE_MODE
    log_folder_mode: int = PRIVATE_FOLDER_MODE
    secrets: SecretsSource | None = None  # where tasks read Variables and Connections (the store)


def open_log(
    log_folder: str, key: TaskInstanceKey, file_mode: int = PRIVATE_FILE_MODE, folder_mode: int = PRIVATE_FOLDER_MODE
) -> TextIO:
    """Open the task's log for appending, creating it and its folders with these modes (less
    the umask); plain os calls: this runs per task."""
    path = log_file_name(log_folder, key)
    folder = os.path.dirname(path)
    try:
        os.mkdir(folder, folder_mode)
    except FileExistsError:
        pass
    except FileNotFoundError:
        make_folders(folder, folder_mode)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, file_mode)
    try:
        return open(fd, "a", encoding="utf-8", buffering=1)  # line by line: live, and kept if the worker dies
    except BaseException:
        os.close(fd)
        raise


class LogUnwritable(Exception):
    """The task's log cannot be opened or written: a fault of the machine, not of the task."""

    def __init__(self, path: str, exc: OSError) -> None:
        super().__init__(f"cannot write the task log: {exc.strerror or exc}, path {path}")
        self.errno = exc.errno


class GuardedLog:
    """A task's log file that never raises into the task: a write that fails before anything
    was written raises :class:`LogUnwritable` (the task's code has not run yet, and will not);
    once the task runs, a failed write is kept in ``error`` and later writes are dropped, so
    the task's outcome never depends on the log (no "lost sys.stderr" from a full disk)."""

    def __init__(self, handle: TextIO, path: str) -> None:
        self.handle = handle
        self.path = path
        self.written = False
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        if self.error is None:
            try:
                self.handle.write(text)  # line-buffered: a whole line reaches the file now
            except OSError as exc:
                self.error = exc
                if not self.written:
                    raise LogUnwritable(self.path, exc) from None
            else:
                self.written = True
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.handle.flush()
            except OSError as exc:
                self.error = exc

    def close(self) -> None:
        try:
            self.handle.close()
        except OSError as exc:  # what could not be flushed is lost; the fd is closed all the same
            self.error = self.error or exc

    def isatty(self) -> bool:
        return False


def log_fault_result(key: TaskInstanceKey, fault: LogUnwritable, started: datetime) -> TaskResult:
    """The outcome of a try that could not start because its log cannot be written: not run,
    its try not used (``machine_fault``)."""
    return replace(failed_result(key, ErrorInfo("TaskLogUnwritable", str(fault), ""), started), machine_fault=True)


def run_one(item: WorkItem, dags: DagCache, setup: WorkerSetup) -> TaskResult:
    """Run one WorkItem into its log file; every outcome, including a missing DAG, is a TaskResult.
    A log that cannot be opened or written before the task's code starts makes a
    ``machine_fault`` result: the task's code does not run and its try is not used."""
    started = datetime.now(UTC)
    log_folder = setup.log_folder
    if item.dag_callback is not None:
        return run_dag_callback_logged(item, dags, setup, started)
    where = log_file_name(log_folder, item.key)
    try:
        handle = open_log(log_folder, item.key, setup.log_file_mode, setup.log_folder_mode)
    except OSError as exc:
        return log_fault_result(item.key, LogUnwritable(where, exc), started)
    log = GuardedLog(handle, where)
    try:
        if os.fstat(handle.fileno()).st_size:  # this try has run before: its outcome may be there
            known = result_from_log(Path(where), item.key)
            if known is not None:  # the store lost it (e.g. a deleted SQLite WAL): never run a try twice
                try:
                    note = f"This try's outcome ({known.state}) is recorded above: it is not run again"
                    TaskLogWriter(log, item.key.display).emit("INFO", note)  # type: ignore[arg-type]
                    log.write(result_line(known))  # the outcome stays the last line
                except LogUnwritable:
                    pass
                return known
        try:
            task = dags.find_task(item)
            result = run_task(task, item, log)  # type: ignore[arg-type]
            log.write(result_line(result))  # the outcome survives a scheduler that dies now
            return result
        except LogUnwritable as fault:
            return log_fault_result(item.key, fault, started)
        except TaskNotRunnable as exc:
            error = exc.error
        except Exception as exc:  # a bug outside the user's code must not kill the worker
            error = ErrorInfo(type(exc).__name__, str(exc), traceback.format_exc())
        writer = TaskLogWriter(log, item.key.display)  # type: ignore[arg-type]
        try:
            writer.emit("ERROR", f"{error.type}: {error.message}")
            if error.traceback:
                writer.emit("ERROR", error.traceback.rstrip())
        except LogUnwritable:
            pass  # the error itself is what the scheduler records
        return failed_result(item.key, error, started)
    finally:
        log.close()


def run_dag_callback_logged(item: WorkItem, dags: DagCache, setup: WorkerSetup, started: datetime) -> TaskResult:
    """A DAG callback, its output appended to the run's ``dag_callbacks.log``. Whatever happens
    is logged there (or nowhere, if the log cannot be written): the run's state never changes."""
    path = os.path.join(setup.log_folder, dag_callback_log_relative_path(item.key))
    try:
        make_folders(os.path.dirname(path), setup.log_folder_mode)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, setup.log_file_mode)
        log = open(fd, "a", encoding="utf-8", buffering=1)
    except OSError:
        return TaskResult(item.key, TaskInstanceState.SUCCESS, started, datetime.now(UTC))
    with log:
        try:
            return run_dag_callback_item(dags.find_task(item), item, log)  # type: ignore[no-any-return]
        except Exception as exc:  # the DAG file is gone or broken: say so in the callback's log
            log.write(f"[{started:%Y-%m-%dT%H:%M:%S}] ERROR DAG callback not called: {type(exc).__name__}: {exc}\n")
            return TaskResult(item.key, TaskInstanceState.SUCCESS, started, datetime.now(UTC))


class Outbox:
    """Messages to the parent: results, sent in batches but never held back long, the start of
    a try still running ``RESULT_DELAY`` after it began, and items handed back unstarted."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._results: list[tuple[int, TaskResult]] = []
        # seqs handed back and not yet told; None when no GIVE_BACK waits for its answer. An
        # empty list is answered too: the parent asks a worker again only after an answer
        self._returned: list[int] | None = None
        # the try running now, not yet told: (seq, key, started, monotonic start); tries run
        # one at a time, so one slot
        self._running: tuple[int, TaskInstanceKey, datetime, float] | None = None
        self._where = (socket.gethostname(), os.getpid())
        self._first_at = 0.0
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self.broken = False  # the parent is gone
        threading.Thread(target=self._send_late, name="tradewind-outbox", daemon=True).start()

    def start(self, seq: int, key: TaskInstanceKey) -> None:
        """A try begins; the parent hears of it if it still runs when the next message goes."""
        with self._cond:
            now = time.monotonic()
            if not self._results and self._running is None:
                self._first_at = now
                self._cond.notify()
            self._running = (seq, key, datetime.now(UTC), now)

    def add(self, seq: int, result: TaskResult, *, now: bool) -> None:
        with self._cond:
            if self._running is not None and self._running[0] == seq:
                self._running = None  # its result tells its start
            elif not self._results and self._running is None:
                self._first_at = time.monotonic()
                self._cond.notify()
            self._results.append((seq, result))
            due = now or len(self._results) >= RESULT_BATCH
        if due:
            self.flush()

    def flush(self) -> None:
        with self._send_lock:
            with self._cond:
                batch, self._results = self._results, []
                started = []
                running = self._running
                if running is not None:
                    if time.monotonic() - running[3] >= RESULT_DELAY:
                        started.append((running[0], TaskStarted(running[1], running[2], *self._where)))
                        self._running = None
                    else:
                        self._first_at = running[3]  # the thread sends it when it is due
            if batch or started:
                self._send(_dump_results(batch, started))

    def give_back(self, seqs: list[int]) -> None:
        """Queue the seqs of items handed back; the outbox thread sends them (the inbox thread
        must never wait on the results pipe, or it could not read what the parent sends)."""
        with self._cond:
            self._returned = (self._returned or []) + seqs
            self._cond.notify()

    def _send(self, data: bytes | memoryview) -> None:
        if not self.broken:
            try:
                self._conn.send_bytes(data)
            except OSError:
                self.broken = True

    def _send_late(self) -> None:
        while not self.broken:
            with self._cond:
                while not self._results and self._returned is None and self._running is None:
                    self._cond.wait()
                returned, self._returned = self._returned, None
                wait = self._first_at + RESULT_DELAY - time.monotonic()
            if returned is not None:
                with self._send_lock:
                    self._send(ForkingPickler.dumps(("returned", returned)))
            elif wait > 0:
                time.sleep(wait)
            else:
                self.flush()


def _dump_results(batch: list[tuple[int, TaskResult]], started: list[tuple[int, TaskStarted]]) -> bytes | memoryview:
    try:
        return ForkingPickler.dumps(("results", batch, started))
    except Exception:
        pass
    safe = []
    for seq, result in batch:  # find the result that does not pickle (e.g. an odd xcom_push value)
        try:
            ForkingPickler.dumps(result)
        except Exception as exc:
            message = f"the result of {result.key.display} cannot be sent back: {type(exc).__name__}: {exc}"
            result = failed_result(result.key, ErrorInfo("ResultNotPicklable", message, ""), result.started_at)
        safe.append((seq, result))
    return ForkingPickler.dumps(("results", safe, started))


class Inbox:
    """Work received from the parent, read by a thread so that the parent can always send, and
    can take back queued items while a long task runs."""

    def __init__(self, conn: Connection, outbox: Outbox) -> None:
        self._conn = conn
        self._outbox = outbox
        self._items: deque[tuple[int, WorkItem]] = deque()
        self._closed = False
        self._cond = threading.Condition()
        threading.Thread(target=self._read, name="tradewind-inbox", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                message = None
            with self._cond:
                if message is None:
                    self._closed = True
                elif message == GIVE_BACK:
                    self._outbox.give_back([seq for seq, _ in self._items])
                    self._items.clear()
                else:
                    self._items.extend(message)
                self._cond.notify()
            if message is None:
                return

    def next(self) -> tuple[int, WorkItem] | None:
        """The next item to run, or None once the parent has closed the pipe (stop)."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            return None if self._closed else self._items.popleft()

    def empty(self) -> bool:
        return not self._items


def worker_main(tasks: Connection, results: Connection, progress: Any, setup: WorkerSetup) -> None:
    """Entry point of a worker process."""
    os.environ.clear()
    os.environ.update(setup.env)
    sys.path[:] = setup.sys_path
    # its own process group: Ctrl-C in the terminal stops the scheduler gracefully while running
    # tasks finish, and stop(wait=False) can end a task's child processes too
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    if setup.secrets is not None:
        secrets.install(setup.secrets)
    dags = DagCache()
    outbox = Outbox(results)
    inbox = Inbox(tasks, outbox)
    while not outbox.broken and (entry := inbox.next()) is not None:
        seq, item = entry
        progress[0] = seq
        outbox.start(seq, item.key)
        result = run_one(item, dags, setup)
        progress[1] = seq
        outbox.add(seq, result, now=inbox.empty())
    outbox.flush()
