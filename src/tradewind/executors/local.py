"""The local executor: a pool of long-lived worker processes on this machine.

Each worker (``local_worker``) imports a DAG file once and then runs many task instances.
The parent keeps the queue: it sends items to workers in batches, one message per worker, at
most ``cap`` items outstanding per worker, where ``cap`` follows the observed task durations
(about 20 ms of work queued per worker: 1 for slow tasks, up to 64 for tiny ones), topping a
worker up once it is down to half of that. A worker stuck on a long task while another is idle
hands back the items queued behind it. Results come back in small batches within 2 ms of a
task's end (at once when the worker runs out of work), with the start (time, host, pid) of a
task that has run 2 ms and not ended (``take_started``); ``next_results`` waits on every worker's
result pipe and process sentinel at once, so it wakes for a result or a dead worker alike. A
worker that dies fails the task it was running (retryable), gives the items it had not started
back to the queue, and is replaced. Use an executor from one thread.

``kill(keys, reason)`` (a run ended by ``dagrun_timeout`` or ``fail_fast``) ends a try that is
running by ending its worker's process group (SIGTERM; SIGKILL after ``KILL_GRACE_SECONDS``);
the worker is replaced and the items it had not started go back to the queue, as for a worker
that died, and the try's log ends with why it was killed. A killed try not yet started never
starts: dropped from the queue, or asked back from its worker (``GIVE_BACK``) first.

Workers are started with "forkserver" (or "spawn" where that is missing), never "fork": the
scheduler holds database connections and threads that a forked child must not inherit. Nothing
in the current folder or a DAGs folder can shadow a library in them: the fork server starts
without '' on its path (``PYTHONSAFEPATH``), and workers start with ``worker_sys_path()``.
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing import connection as mp_connection
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from tradewind.config import conf, home, make_folders
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.secrets import SecretsSource
from tradewind.errors import ConfigError
from tradewind.executors.local_worker import (
    GIVE_BACK,
    WorkerSetup,
    failed_result,
    log_file_path,
    open_log,
    worker_main,
)
from tradewind.processes import starting_cleanly
from tradewind.runtime.logs import TaskLogWriter
from tradewind.runtime.work import ErrorInfo, TaskResult, TaskStarted, WorkItem

QUEUED_SECONDS = 0.02  # work to keep queued in each worker, from the average task duration
MAX_OUTSTANDING = 64  # items sent to one worker and not yet answered, at most
GIVE_BACK_AFTER = 0.05  # a worker silent this long has items queued behind a long task
STOP_GRACE_SECONDS = 5.0  # stop(wait=False): SIGTERM, then SIGKILL after this
KILL_GRACE_SECONDS = 5.0  # kill(): SIGTERM to the worker's process group, then SIGKILL after this
FORKSERVER_PRELOAD = ["tradewind.executors.local_worker", "pendulum", "jinja2", "runpy"]


def default_log_folder() -> Path:
    folder = conf.get("logging", "base_log_folder")
    return Path(folder).expanduser() if folder else home() / "logs"


def task_log_path(item: WorkItem, log_folder: Path | None = None) -> Path:
    """Where the log of this try of this task instance is written."""
    return log_file_path(log_folder or default_log_folder(), item.key)


def _mp_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # the server imports the worker code (and what the runtime imports lazily) once; each
        # worker is then a cheap fork of it
        ctx.set_forkserver_preload(FORKSERVER_PRELOAD + _imported_by_main())
        return ctx
    return multiprocessing.get_context("spawn")


def _imported_by_main() -> list[str]:
    """The modules the main script imports at its top level. Each worker runs the main script
    again (as ``__mp_main__``; Python 3.11's forkserver does not preload it although it says
    so): with these already imported in the server, that costs next to nothing, even when the
    main script is the ``tradewind`` command."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    try:
        tree = ast.parse(Path(path).read_bytes()) if path else None
    except (OSError, SyntaxError, ValueError):
        tree = None
    names: set[str] = set()
    for node in tree.body if tree else ():
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return sorted(name for name in names if name in sys.modules)  # known to import cleanly


@functools.cache
def _interpreter_path() -> tuple[str, ...] | None:
    """The sys.path of a fresh interpreter like this one, started with ``-P``: PYTHONPATH, the
    standard library, site-packages (and what their .pth files add), in that order; None if
    it cannot be asked."""
    flags = ["-I"] if sys.flags.isolated else ["-E"] * sys.flags.ignore_environment + ["-s"] * sys.flags.no_user_site
    flags += ["-S"] * sys.flags.no_site
    try:
        done = subprocess.run(
            [sys.executable, *flags, "-P", "-c", "import sys; print(repr(sys.path))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found = ast.literal_eval(done.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError, SyntaxError):
        return None
    return tuple(entry for entry in found if isinstance(entry, str)) if isinstance(found, list) else None


def worker_sys_path() -> list[str]:
    """The sys.path a worker starts with: the interpreter's own (PYTHONPATH, the standard library,
    site-packages) first, then the other folders on this process's path (the main script's
    folder, DAGs folders...), never '' or the current folder (unless the main script is there):
    a module in the current folder or a DAGs folder cannot shadow a library."""
    cwd = os.path.realpath(os.getcwd())
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    main_dir = os.path.realpath(os.path.dirname(os.path.abspath(main_file))) if main_file else None
    base = _interpreter_path() or ()
    chosen = list(base)
    for entry in sys.path:
        if not isinstance(entry, str) or not entry or entry in chosen:
            continue
        real = os.path.realpath(entry)
        if real == cwd and real != main_dir:
            continue
        chosen.append(entry)
    return chosen


def _describe(item: WorkItem) -> str:
    key = item.key
    return f"{key.display} (DAG '{key.dag_id}', run '{key.run_id}', try {key.try_number})"


def _killed_result(item: WorkItem, message: str, started: datetime | None = None) -> TaskResult:
    result = failed_result(item.key, ErrorInfo("TaskKilled", message, ""), started)
    return replace(result, retryable=False)


def _signal_name(exit_code: int | None) -> str:
    if exit_code is None or exit_code >= 0:
        return ""
    try:
        return f", {signal.Signals(-exit_code).name}"
    except ValueError:
        return ""


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    tasks: Connection  # parent -> worker
    results: Connection  # worker -> parent
    progress: Any  # shared ints: seq of the last item the worker started, and of the last it finished
    outstanding: dict[int, tuple[WorkItem, datetime]] = field(default_factory=dict)  # seq -> item, sent at
    eof: bool = False  # the results pipe is closed: only the sentinel is left to wait on
    last_heard: float = 0.0  # monotonic time of its last message (or of work sent to it while idle)
    asked_back: bool = False  # GIVE_BACK sent, no answer yet
    killed_at: float | None = None  # monotonic time kill() sent SIGTERM to its process group


class LocalExecutor:
    """Runs task instances in ``parallelism`` long-lived worker processes."""

    def __init__(self, parallelism: int | None = None, log_folder: Path | None = None) -> None:
        if parallelism is None:
            configured = conf.get("core", "parallelism")
            parallelism = int(configured) if configured else (os.cpu_count() or 1)
        if parallelism < 1:
            raise ConfigError(f"parallelism must be at least 1, got {parallelism}")
        self.parallelism = parallelism
        self.log_folder = Path(log_folder or default_log_folder()).absolute()
        self.log_file_mode, self.log_folder_mode = conf.log_modes()
        self._ctx = _mp_context()
        self._workers: list[_Worker] = []
        self._pending: deque[WorkItem] = deque()
        self._ready: list[TaskResult] = []
        self._began: list[TaskStarted] = []  # starts reported, not yet taken
        self._seq = itertools.count()
        self._avg_duration: float | None = None
        self._fruitless_deaths = 0  # workers in a row that died before starting any item
        self._started = False
        self._secrets: SecretsSource | None = None
        self._cancelled: dict[TaskInstanceKey, str] = {}  # tries kill() ended, not yet answered: why

    def use_secrets(self, source: SecretsSource) -> None:
        """Workers started from now on read Variables and Connections through ``source``."""
        self._secrets = source

    # -- the executor interface
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        make_folders(self.log_folder, self.log_folder_mode)
        for _ in range(self.parallelism):
            self._workers.append(self._start_worker())

    def submit(self, items: Sequence[WorkItem]) -> None:
        self.start()
        self._pending.extend(items)
        self._dispatch()

    def next_results(self, timeout: float | None = None) -> list[TaskResult]:
        """Results that are ready, as soon as there is one; [] after ``timeout`` seconds. With
        nothing submitted this waits out the timeout (the scheduler uses it as its idle sleep),
        except that ``timeout=None`` then returns at once instead of waiting forever."""
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._dispatch()
            recheck = self._rebalance()
            kill_check = self._enforce_kills()
            if kill_check is not None:
                recheck = kill_check if recheck is None else min(recheck, kill_check)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._ready:
                remaining = 0.0  # only collect what else has already arrived
            elif remaining is None and not self._pending and not self._in_flight():
                return []
            self._poll(min((t for t in (remaining, recheck) if t is not None), default=None))
            if self._ready or remaining == 0.0:
                results, self._ready = self._ready, []
                self._dispatch()  # keep the workers busy while the caller handles these
                return results

    def take_started(self) -> list[TaskStarted]:
        """Tries that began and had run for ``RESULT_DELAY`` (2 ms) when their worker last
        reported; a shorter try is told by its result alone."""
        began, self._began = self._began, []
        return began

    def kill(self, keys: Collection[TaskInstanceKey], reason: str) -> None:
        """End these tries (see the module's docstring); each gets a failed ``TaskKilled`` result."""
        held = {item.key for item in self._pending}
        held.update(item.key for worker in self._workers for item, _ in worker.outstanding.values())
        for key in set(keys) & held:
            self._cancelled[key] = reason
        self._drop_cancelled()
        self._enforce_kills()

    def stop(self, wait: bool = True) -> None:
        """``wait=True``: running tasks finish, queued ones never start. ``wait=False``: terminate."""
        self._pending.clear()
        self._cancelled.clear()
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.tasks.close()  # the worker finishes its current task and exits
        if wait:
            alive = list(workers)
            while alive:
                waitables: list[Any] = [w.process.sentinel for w in alive]
                waitables += [w.results for w in alive if not w.eof]
                ready = set(mp_connection.wait(waitables, None))
                for worker in alive:
                    if not worker.eof and worker.results in ready:
                        self._drain(worker)  # a worker blocked on sending its result could not exit
                alive = [w for w in alive if w.process.sentinel not in ready]
        else:
            for worker in workers:
                self._terminate(worker)
        for worker in workers:
            worker.process.join(STOP_GRACE_SECONDS)
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join()
            worker.results.close()
            worker.process.close()
        self._started = False

    # -- workers
    def _start_worker(self) -> _Worker:
        task_reader, task_writer = self._ctx.Pipe(duplex=False)
        result_reader, result_writer = self._ctx.Pipe(duplex=False)
        progress = self._ctx.RawArray("q", [-1, -1])  # type: ignore[attr-defined]
        path = worker_sys_path()
        setup = WorkerSetup(
            str(self.log_folder), dict(os.environ), path, self.log_file_mode, self.log_folder_mode, self._secrets
        )
        process = self._ctx.Process(  # type: ignore[attr-defined]
            target=worker_main,
            args=(task_reader, result_writer, progress, setup),
            name="tradewind-worker",
            daemon=True,
        )
        with starting_cleanly(path):
            process.start()
        task_reader.close()
        result_writer.close()
        return _Worker(process, task_writer, result_reader, progress)

    def _terminate(self, worker: _Worker, how: signal.Signals = signal.SIGTERM) -> None:
        if worker.process.exitcode is not None:
            return
        try:  # the worker leads its own process group: end the task's child processes too
            os.killpg(worker.process.pid or 0, how)
        except (ProcessLookupError, PermissionError):
            worker.process.kill() if how is signal.SIGKILL else worker.process.terminate()  # no group yet

    def _drop_cancelled(self) -> None:
        """Answer the killed tries still queued here: they never start."""
        if not self._cancelled or not self._pending:
            return
        kept: deque[WorkItem] = deque()
        for item in self._pending:
            reason = self._cancelled.pop(item.key, None)
            if reason is None:
                kept.append(item)
            else:
                self._ready.append(_killed_result(item, f"not started: {reason}"))
        self._pending = kept

    def _enforce_kills(self) -> float | None:
        """End the workers running a killed try (SIGKILL once the grace has passed); ask those
        holding one not started to give it back. Returns the seconds until a SIGKILL is due."""
        if not self._cancelled:
            return None
        now = time.monotonic()
        next_check = None
        for worker in self._workers:
            if worker.killed_at is not None:
                left = worker.killed_at + KILL_GRACE_SECONDS - now
                if left <= 0:
                    self._terminate(worker, signal.SIGKILL)
                else:
                    next_check = left if next_check is None else min(next_check, left)
                continue
            started, finished = worker.progress[0], worker.progress[1]
            for seq, (item, _) in worker.outstanding.items():
                if item.key not in self._cancelled or seq <= finished:
                    continue  # not killed, or ended already: its result is on its way
                if seq == started:
                    worker.killed_at = now
                    self._terminate(worker)
                    next_check = KILL_GRACE_SECONDS if next_check is None else min(next_check, KILL_GRACE_SECONDS)
                    break
                if not worker.asked_back and not worker.eof:
                    try:  # its answer brings the item back here, where it is dropped
                        worker.tasks.send(GIVE_BACK)
                        worker.asked_back = True
                    except OSError:
                        pass  # dead: its sentinel says so
        return next_check

    def _in_flight(self) -> bool:
        return any(w.outstanding for w in self._workers)

    def _cap(self) -> int:
        if self._avg_duration is None:
            return 2
        return max(1, min(MAX_OUTSTANDING, int(QUEUED_SECONDS / max(self._avg_duration, 1e-6))))

    def _dispatch(self) -> None:
        """Send queued items to the workers with room, in one message per worker, sharing evenly."""
        if not self._pending or not self._started:
            return
        cap = self._cap()
        # top up a worker once it is down to half its cap: fewer, larger messages
        low_water = cap // 2
        open_workers = sorted(
            (w for w in self._workers if len(w.outstanding) <= low_water and not w.eof),
            key=lambda w: len(w.outstanding),
        )
        for position, worker in enumerate(open_workers):
            if not self._pending:
                return
            share = math.ceil(len(self._pending) / (len(open_workers) - position))
            count = min(cap - len(worker.outstanding), share)
            batch = [(next(self._seq), self._pending.popleft()) for _ in range(count)]
            try:
                data = ForkingPickler.dumps(batch)
            except Exception:
                self._set_aside_unpicklable(batch)
                continue
            sent_at = datetime.now(UTC)
            if not worker.outstanding:
                worker.last_heard = time.monotonic()
            for seq, item in batch:
                worker.outstanding[seq] = (item, sent_at)
            try:
                worker.tasks.send_bytes(data)
            except OSError:
                pass  # the worker is dead: its sentinel fires and these items go back to the queue

    def _set_aside_unpicklable(self, batch: list[tuple[int, WorkItem]]) -> None:
        for _, item in reversed(batch):
            try:
                ForkingPickler.dumps(item)
            except Exception as exc:
                message = f"{item.key.display} cannot be sent to a worker process: {type(exc).__name__}: {exc}"
                self._ready.append(failed_result(item.key, ErrorInfo("WorkItemNotPicklable", message, "")))
            else:
                self._pending.appendleft(item)

    def _poll(self, timeout: float | None) -> None:
        by_waitable: dict[Any, _Worker] = {}
        for worker in self._workers:
            by_waitable[worker.process.sentinel] = worker
            if not worker.eof:
                by_waitable[worker.results] = worker
        ready = mp_connection.wait(list(by_waitable), timeout)
        dead = []
        for waitable in ready:
            worker = by_waitable[waitable]
            if waitable is worker.results:
                self._drain(worker)
            else:
                dead.append(worker)
        for worker in dead:
            self._replace(worker)

    def _drain(self, worker: _Worker) -> None:
        """Take every result the worker has sent so far, without blocking."""
        try:
            while worker.results.poll():
                message = worker.results.recv()
                kind, payload = message[0], message[1]
                worker.last_heard = time.monotonic()
                if kind == "returned":
                    worker.asked_back = False
                    returned = [worker.outstanding.pop(seq)[0] for seq in payload if seq in worker.outstanding]
                    self._pending.extendleft(reversed(returned))
                    self._drop_cancelled()
                    continue
                for seq, began in message[2]:  # before the results: a try's start never comes after its end
                    if seq in worker.outstanding:
                        self._began.append(began)
                for seq, result in payload:
                    if worker.outstanding.pop(seq, None) is None:
                        continue
                    self._cancelled.pop(result.key, None)  # it ended before it could be killed
                    self._ready.append(result)
                    self._fruitless_deaths = 0
                    avg = self._avg_duration
                    self._avg_duration = result.duration if avg is None else 0.8 * avg + 0.2 * result.duration
        except (EOFError, OSError):
            worker.eof = True

    def _rebalance(self) -> float | None:
        """While a worker is idle and nothing waits here, ask each worker that has items queued
        behind a task running for GIVE_BACK_AFTER seconds to hand them back. Returns the seconds
        until the next such check is due, if any."""
        if self._pending or all(w.outstanding for w in self._workers):
            return None
        now = time.monotonic()
        next_check = None
        for worker in self._workers:
            if len(worker.outstanding) < 2 or worker.asked_back or worker.eof:
                continue
            wait = worker.last_heard + GIVE_BACK_AFTER - now
            if wait > 0:
                next_check = wait if next_check is None else min(next_check, wait)
                continue
            try:
                worker.tasks.send(GIVE_BACK)
                worker.asked_back = True
            except OSError:
                pass  # dead: its sentinel says so
        return next_check

    def _replace(self, worker: _Worker) -> None:
        """A worker died: fail what it was running, queue again what it had not started, restart it."""
        self._drain(worker)
        worker.process.join()
        code = worker.process.exitcode
        started, finished = worker.progress[0], worker.progress[1]
        self._fruitless_deaths = 0 if started >= 0 else self._fruitless_deaths + 1
        # workers that keep dying before they start anything must not pass the same items on forever
        give_up = self._fruitless_deaths > 2 * self.parallelism + 2
        died = f"worker process {worker.process.pid} died (exit code {code}{_signal_name(code)})"
        requeue = []
        for seq, (item, sent_at) in worker.outstanding.items():
            reason = self._cancelled.pop(item.key, None)
            if reason is not None:  # ended by kill(), or never to start
                running = started == seq > finished
                if running:
                    self._note_in_task_log(item, f"Killed: {reason}")
                self._ready.append(_killed_result(item, reason if running else f"not started: {reason}", sent_at))
                continue
            if seq <= finished:
                what = f"{died} after running task {_describe(item)}, before sending its result"
            elif seq == started:
                what = f"{died} while running task {_describe(item)}"
            elif give_up:
                what = (
                    f"{died} before running task {_describe(item)}, as did the {self._fruitless_deaths - 1} before it"
                )
            else:
                requeue.append(item)
                continue
            self._note_in_task_log(item, what)
            self._ready.append(failed_result(item.key, ErrorInfo("WorkerDied", what, ""), sent_at))
        self._pending.extendleft(reversed(requeue))
        worker.tasks.close()
        worker.results.close()
        worker.process.close()
        self._workers[self._workers.index(worker)] = self._start_worker()

    def _note_in_task_log(self, item: WorkItem, message: str) -> None:
        try:
            with open_log(str(self.log_folder), item.key, self.log_file_mode, self.log_folder_mode) as log:
                TaskLogWriter(log, item.key.display).emit("ERROR", message)
        except OSError:
            pass
