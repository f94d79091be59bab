"""Import every DAG file of a folder, each in isolation, and collect its DAGs and import errors.

A file that raises, has a syntax error, takes too long or defines an invalid DAG becomes an
import error (file, message with line number, traceback) while every other file still loads.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tradewind.definitions import _context
from tradewind.definitions.dag import DAG
from tradewind.definitions.timetables import use_schedule_defaults
from tradewind.errors import DagDefinitionError, DagNotFound, TradewindError
from tradewind.loader import airflow_compat, dagfactory_alias, reported
from tradewind.loader.ignore import iter_dag_files
from tradewind.loader.schedule_defaults import defaults_for
from tradewind.timeouts import time_limit


@dataclass(frozen=True)
class ImportErrorInfo:
    filename: str
    error: str  # one line: "ExcType: message (line N)"
    traceback: str  # the frames inside the DAG file, most recent last

    @property
    def full(self) -> str:
        return f"{self.error}\n{self.traceback}".rstrip()


@dataclass
class DagBag:
    """The DAGs found in a folder, where each came from, and the files that failed."""

    folder: Path
    dags: dict[str, DAG] = field(default_factory=dict)
    import_errors: dict[str, ImportErrorInfo] = field(default_factory=dict)
    parse_seconds: dict[str, float] = field(default_factory=dict)

    def get_dag(self, dag_id: str) -> DAG:
        try:
            return self.dags[dag_id]
        except KeyError:
            hint = f" ({len(self.import_errors)} file(s) failed to import; see `tradewind dags list-import-errors`)"
            raise DagNotFound(
                f"DAG '{dag_id}' not found in {self.folder}" + (hint if self.import_errors else "")
            ) from None


class _FileTimeout(TradewindError):
    pass


def module_name_for(path: Path) -> str:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"tradewind_dagfile_{digest}_{stem}"


def _describe(exc: BaseException, path: Path) -> ImportErrorInfo:
    """One line naming the error and its line in the DAG file, plus the DAG file's frames."""
    resolved = str(path.resolve())
    line = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == path.resolve():
        line = exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(Path(f.filename).resolve()) == resolved]
    if line is None and frames:
        line = frames[-1].lineno
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    where = f" (line {line})" if line else ""
    text = "".join(traceback.format_list(frames))
    if isinstance(exc, SyntaxError) and exc.text:
        text += f"    {exc.text.strip()}\n"
    return ImportErrorInfo(str(path), f"{type(exc).__name__}: {message}{where}", text)


def import_dag_file(path: Path, timeout: float = 0) -> tuple[list[DAG], ImportErrorInfo | None, ModuleType | None]:
    """Import one file as its own module; return the DAGs it defines (module globals and DAGs
    entered as context managers, e.g. by a ``@dag`` function called at module level)."""
    if airflow_compat.install():
        dagfactory_alias.install()
    reported.take()  # reports on other files (YAML configs) belong to the file imported now
    reported.take_watched()
    name = module_name_for(path)
    sys.modules.pop(name, None)
    _context.take_autoregistered()
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return [], ImportErrorInfo(str(path), "ImportError: cannot import this file", ""), None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # A file that makes thousands of DAGs allocates hundreds of thousands of objects and keeps them: the cyclic
    # collector's passes over them during the import would take half its time and free nothing.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with (
            use_schedule_defaults(defaults_for(path)),
            time_limit(
                timeout,
                lambda: _FileTimeout(
                    f"importing {path.name} took longer than {timeout:g}s (dag_file_processor_timeout)"
                ),
            ),
        ):
            spec.loader.exec_module(module)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        sys.modules.pop(name, None)
        _context.take_autoregistered()
        return [], _describe(exc, path), None
    finally:
        if gc_was_enabled:
            gc.enable()
    found: dict[int, DAG] = {}  # by identity, in order of first sight: linear in the number of DAGs
    for value in (*vars(module).values(), *_context.take_autoregistered()):
        if isinstance(value, DAG):
            found.setdefault(id(value), value)
    fileloc = str(path)
    for dag in found.values():
        # the file a worker must import to find this DAG again (even if a helper module built it)
        dag.fileloc = fileloc
    return list(found.values()), None, module


def add_reported(bag: DagBag, reports: list[reported.ReportedError]) -> None:
    """Import errors a file reported on other files (one line per broken DAG of a YAML file)."""
    for report in reports:
        known = bag.import_errors.get(report.filename)
        text = f"{known.error}\n{report.error}" if known is not None else report.error
        bag.import_errors[report.filename] = ImportErrorInfo(report.filename, text, "")


def load_dags(folder: Path | str, timeout: float = 0) -> DagBag:
    """Load every DAG file under ``folder`` (a single file works too)."""
    folder = Path(folder).absolute()
    bag = DagBag(folder)
    if not folder.exists():
        raise TradewindError(f"DAGs folder {folder} does not exist (set --dags-folder or TRADEWIND__CORE__DAGS_FOLDER)")
    root = str((folder if folder.is_dir() else folder.parent).resolve())
    if root not in sys.path:
        sys.path.insert(0, root)  # DAG files may import helper modules that sit beside them
    reported.set_dags_root(root)
    for path in iter_dag_files(folder):
        if path != folder and "dag" not in path.read_text(encoding="utf-8", errors="replace").lower():
            continue  # like Airflow's safe mode: a helper module without DAGs is not imported
        started = time.perf_counter()
        dags, error, _ = import_dag_file(path, timeout)
        bag.parse_seconds[str(path)] = time.perf_counter() - started
        add_reported(bag, reported.take())
        if error is not None:
            bag.import_errors[str(path)] = error
            continue
        for dag in dags:
            try:
                dag.validate()
                if dag.dag_id in bag.dags and bag.dags[dag.dag_id] is not dag:
                    other = bag.dags[dag.dag_id].fileloc
                    raise DagDefinitionError(f"DAG id '{dag.dag_id}' is already defined in {other}")
            except DagDefinitionError as exc:
                bag.import_errors[str(path)] = ImportErrorInfo(str(path), f"{type(exc).__name__}: {exc}", "")
                continue
            bag.dags[dag.dag_id] = dag
    return bag
