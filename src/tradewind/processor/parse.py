"""What runs inside a DAG processor child: import one DAG file, serialise its DAGs, report.

A child is a fresh process per file (forked from a server that has tradewind's own modules
loaded), so a file that hangs, exits, segfaults or eats memory takes only its child down. The
child records every file it opens under the DAGs folder while importing (configs a factory
reads, helper modules it imports): the processor re-imports the file when any of them changes.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tradewind.definitions import secrets
from tradewind.definitions.serialized import serialize_with_hash
from tradewind.definitions.timetables.serialization import precomputing_at, refresh_after
from tradewind.errors import DagDefinitionError
from tradewind.loader import reported
from tradewind.loader.dagbag import import_dag_file
from tradewind.store.secrets import existing_store_secrets


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform
        pass


def _track_reads(root: str, own: str, reads: set[str]) -> None:
    """Remember every file under ``root`` that the import opens (except the file itself and
    compiled caches)."""
    prefix = root.rstrip(os.sep) + os.sep

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not args or not isinstance(args[0], (str, os.PathLike)):
            return
        path = os.path.abspath(os.fspath(args[0]))
        if not path.startswith(prefix):
            return
        folder, name = os.path.split(path)
        if os.path.basename(folder) == "__pycache__":
            # a module imported from its bytecode: the source is what the user edits
            path = os.path.join(os.path.dirname(folder), name.split(".", 1)[0] + ".py")
        if path != own and os.path.isfile(path):
            reads.add(path)

    sys.addaudithook(hook)


def parse_in_child(path: str, root: str, timeout: float, memory_mb: int, now: datetime | None = None) -> dict[str, Any]:
    """Import ``path`` and return what the processor stores: serialised DAGs with their hashes,
    or the import error; the files it read; how long it took; when to import it again although
    unchanged (``refresh_after``: a user's own timetable's runs, computed from ``now``, run out)."""
    _limit_memory(memory_mb)
    reads: set[str] = set()
    _track_reads(root, path, reads)
    # never the current directory; helper modules beside the file, after the libraries
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    for folder in (str(Path(path).parent), root):
        if folder not in sys.path:
            sys.path.append(folder)
    reported.set_dags_root(root)
    started = time.perf_counter()
    dags, error, _ = import_dag_file(Path(path), timeout)
    # import errors the file reported on the configs it read (dag-factory YAML), and the folders
    # it listed: both are part of what the processor watches
    file_errors = [{"filename": r.filename, "error": r.error, "dag_id": r.dag_id} for r in reported.take()]
    reads.update(p for p in reported.take_watched() if p == root or p.startswith(root.rstrip(os.sep) + os.sep))
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    refresh: list[datetime] = []
    if error is None:
        # the DAGs stay alive to the end of this short-lived process: collecting garbage among
        # them while serialising (a collection walks every one) would cost more than it frees
        gc.disable()
        try:
            for dag in dags:
                if dag.dag_id in seen:
                    raise DagDefinitionError(f"DAG id '{dag.dag_id}' is defined twice in this file")
                seen.add(dag.dag_id)
                dag.validate()
                with precomputing_at(now):
                    data, digest = serialize_with_hash(dag)
                found.append({"data": data, "hash": digest})
                when = refresh_after(data["timetable"])
                if when is not None:
                    refresh.append(when)
        except DagDefinitionError as exc:
            message = f"{type(exc).__name__}: {exc}"
            return {"dags": [], "error": message, "reads": sorted(reads), "seconds": time.perf_counter() - started}
    failure = error.full if error is not None else None
    return {
        "dags": found,
        "error": failure,
        "reads": sorted(reads),
        "seconds": time.perf_counter() - started,
        "file_errors": file_errors,
        "refresh_after": min(refresh).isoformat() if refresh else None,
    }


def child_main(conn: Any, path: str, root: str, timeout: float, memory_mb: int, env: dict[str, str], now: str) -> None:
    """Entry point of a processor child: parse, send the JSON result, exit. ``now``: the
    processor's clock (ISO), which a user's own timetable is asked from."""
    os.environ.clear()
    os.environ.update(env)
    source = existing_store_secrets()  # top-level Variable.get reads the store too, as in Airflow
    if source is not None:
        secrets.install(source)
    try:
        result = parse_in_child(path, root, timeout, memory_mb, datetime.fromisoformat(now))
        payload = json.dumps(result).encode()
    except MemoryError:
        payload = json.dumps({"dags": [], "error": "MemoryError: the import ran out of memory", "reads": []}).encode()
    conn.send_bytes(payload)
    conn.close()
