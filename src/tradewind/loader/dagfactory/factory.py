"""``load_yaml_dags`` and ``DagFactory``: dag-factory 1.x's entry points, built on tradewind.

A loader file in the DAGs folder calls ``load_yaml_dags(globals_dict=globals(), ...)``; each
YAML file it reads gives DAGs into those globals. Unlike dag-factory, a DAG whose config is
wrong does not stop the others, nor disappear into a log: it becomes an import error on the
YAML file, naming the DAG, the key path and the line, and every other DAG still loads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tradewind.config import conf
from tradewind.definitions.dag import DAG
from tradewind.errors import DagDefinitionError
from tradewind.loader import reported
from tradewind.loader.dagfactory import _yaml
from tradewind.loader.dagfactory.builder import DagBuilder, at, import_string
from tradewind.loader.dagfactory.schema import ConfigProblem, Key, kind
from tradewind.loader.ignore import IGNORE_FILE, is_ignored

DEFAULTS_FILE_NAMES = ("defaults.yml", "defaults.yaml")
SYSTEM_KEYS = ("default", "task_groups")  # top-level keys that are not DAGs (as in dag-factory)


class DagFactoryConfigError(DagDefinitionError):
    """A dag-factory config that cannot be built: names the DAG, the key path and the line."""


def _default_folder(loader_file: str | None = None) -> str:
    """dag-factory's default folder is Airflow's DAGs folder: the folder being loaded, else the
    configured one if the loader file is in it, else the loader file's own folder (a worker
    importing the file for one task knows only the file and the configuration)."""
    root = reported.dags_root()
    if root:
        return root
    configured = os.path.abspath(conf.dags_folder())
    if loader_file is None or os.path.abspath(loader_file).startswith(configured.rstrip(os.sep) + os.sep):
        return configured
    return os.path.dirname(os.path.abspath(loader_file))


class _Reads:
    """What one ``load_yaml_dags`` call read once for all its YAML files: folder listings and
    defaults.yml files (a thousand configs in one folder share them)."""

    def __init__(self) -> None:
        self.listings: dict[str, list[str]] = {}
        self.defaults: dict[tuple[Path, ...], dict[str, Any]] = {}
        self.defaults_files: dict[tuple[str | None, str], list[Path]] = {}

    def listing(self, folder: Path) -> list[str]:
        """The names in ``folder`` (watched: adding a file there re-imports the loader)."""
        key = str(folder)
        if key not in self.listings:
            reported.watch_folder(key)
            try:
                self.listings[key] = sorted(os.listdir(folder))
            except OSError:
                self.listings[key] = []
        return self.listings[key]


def cast_types(value: Any, key: Key = ()) -> Any:
    """``{__type__: datetime.timedelta, hours: 1}`` -> the object; ``__args__`` are positional;
    ``{__type__: builtins.list, items: [...]}`` -> a list (as dag-factory)."""
    if isinstance(value, list):
        return [cast_types(item, (*key, i)) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if value.get("__type__") == "builtins.list" and "items" in value:
        return cast_types(value["items"], (*key, "items"))
    fields = {k: cast_types(v, (*key, k)) for k, v in value.items() if k not in ("__type__", "__args__")}
    if "__type__" not in value:
        return fields
    args = cast_types(value.get("__args__") or [], (*key, "__args__"))
    if not isinstance(args, list):
        raise ConfigProblem((*key, "__args__"), f"must be a list, not {kind(args)}")
    with at((*key, "__type__")):
        target = import_string(str(value["__type__"]))
        return target(*args, **fields)


def _merge(config: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """dag-factory's merge: the config's keys win; mappings are merged key by key."""
    merged = dict(config)
    for key, value in defaults.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _merge(merged[key], value)
    return merged


class DagFactory:
    """The DAGs of one dag-factory config (a YAML file, or a dict).

    >>> DagFactory("/dags/orders.yml").generate_dags(globals())  # doctest: +SKIP
    """

    def __init__(
        self,
        config_filepath: str | None = None,
        config: dict[str, Any] | None = None,
        *,
        config_dict: dict[str, Any] | None = None,
        defaults_config_path: str | None = None,
        defaults_config_dict: dict[str, Any] | None = None,
        _reads: _Reads | None = None,
    ) -> None:
        self.reads = _reads or _Reads()
        config = config if config is not None else config_dict
        if bool(config_filepath) == (config is not None):
            raise DagFactoryConfigError("DagFactory(): give either config_filepath or config_dict, not both or neither")
        if defaults_config_dict is not None and defaults_config_path is not None:
            raise DagFactoryConfigError(
                "DagFactory(): give defaults_config_path or defaults_config_dict, not both "
                "(a dict replaces defaults.yml)"
            )
        self.path = str(config_filepath) if config_filepath else None
        self.document: _yaml.Document | None = None
        self.error: str | None = None
        if self.path is not None:
            try:
                self.document = _yaml.read(self.path)
            except _yaml.YamlFileError as exc:
                self.error = f"DagFactoryConfigError: {exc.message}" + (f" (line {exc.line})" if exc.line else "")
            except OSError as exc:
                raise DagFactoryConfigError(f"DagFactory(): cannot read {self.path}: {exc.strerror}") from None
            raw: Any = self.document.data if self.document else {}
            if self.error is None and not isinstance(raw, dict):
                self.error = (
                    "DagFactoryConfigError: the file must be a mapping of DAG names to configs, "
                    f"not {kind(raw)} (line 1)"
                )
            self.config: dict[str, Any] = raw if isinstance(raw, dict) and self.error is None else {}
        else:
            self.config = dict(config or {})
        self.defaults_config_path = defaults_config_path or _default_folder()
        self.defaults_config_dict = defaults_config_dict

    # -- defaults
    def _defaults_files(self) -> list[Path]:
        """defaults.yml files from the YAML's folder up to the defaults folder, nearest first."""
        key = (os.path.dirname(self.path) if self.path else None, self.defaults_config_path)
        if key not in self.reads.defaults_files:
            self.reads.defaults_files[key] = self._find_defaults_files()
        return self.reads.defaults_files[key]

    def _find_defaults_files(self) -> list[Path]:
        root = Path(os.path.abspath(self.defaults_config_path))
        parents = list(Path(os.path.abspath(self.path)).parents) if self.path else []
        if root in parents:
            folders = parents[: parents.index(root) + 1]
        elif parents:
            folders = [parents[0], root]
        else:
            folders = [root]
        found = []
        for folder in folders:
            names = self.reads.listing(folder)
            for name in DEFAULTS_FILE_NAMES:
                if name in names:
                    found.append(folder / name)
                    break
        return found

    def _global_defaults(self) -> dict[str, Any]:
        if self.defaults_config_dict is not None:
            return dict(self.defaults_config_dict)
        files = tuple(self._defaults_files())
        if files not in self.reads.defaults:
            self.reads.defaults[files] = self._read_defaults(files)
        found = self.reads.defaults[files]
        return {**found, "default_args": dict(found["default_args"])}

    def _read_defaults(self, files: tuple[Path, ...]) -> dict[str, Any]:
        merged: dict[str, Any] = {"default_args": {}}
        for path in reversed(files):  # farthest first: the nearest wins
            try:
                data = _yaml.read(path).data or {}
            except _yaml.YamlFileError as exc:
                reported.report(
                    str(path), f"DagFactoryConfigError: {exc.message}" + (f" (line {exc.line})" if exc.line else "")
                )
                continue
            if not isinstance(data, dict):
                continue
            for key, value in data.items():
                if key == "default_args" and isinstance(value, dict):
                    merged["default_args"].update(value)
                elif key == "tags" and isinstance(value, list):
                    merged["tags"] = sorted(set(merged.get("tags", [])) | set(value))
                else:
                    merged[key] = value
        return merged

    def dag_configs(self) -> dict[str, Any]:
        return {name: value for name, value in self.config.items() if name not in SYSTEM_KEYS}

    # -- building
    def _merged(self, name: str, config: Any, defaults: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(config, dict):
            raise ConfigProblem((), f"a DAG's config must be a mapping, not {kind(config)}")
        default_block = dict(block)
        default_block["default_args"] = {**defaults.get("default_args", {}), **(block.get("default_args") or {})}
        dag_level = {k: v for k, v in defaults.items() if k != "default_args"}
        merged = _merge({**dag_level, **config}, default_block)
        typed = cast_types(merged)
        return typed if isinstance(typed, dict) else merged

    def build_dags(self) -> dict[str, DAG]:
        """Build every DAG of the config; a DAG that cannot be built is reported as an import
        error on the YAML file (or, for a dict config, raises)."""
        if self.error is not None and self.path:
            reported.report(self.path, self.error)
            return {}
        block = self.config.get("default") or {}
        base = str(Path(self.path).parent) if self.path else _default_folder()
        dags: dict[str, DAG] = {}
        defaults: dict[str, Any] | None = None
        for name, config in self.dag_configs().items():
            try:
                if not isinstance(block, dict):
                    raise ConfigProblem(("default",), f"must be a mapping, not {kind(block)}")
                if defaults is None:
                    defaults = self._global_defaults()
                dags[str(name)] = DagBuilder(str(name), self._merged(str(name), config, defaults, block), base).build()
            except ConfigProblem as problem:
                self._fail(str(name), problem)
        return dags

    def _fail(self, dag: str, problem: ConfigProblem) -> None:
        key = problem.key
        shown = [str(part) for part in key if not isinstance(part, int)]
        path = ".".join(shown) if shown else dag
        line = self._line(dag, key)
        where = f" (line {line})" if line else ""
        allowed = f"; {problem.allowed}" if problem.allowed else ""
        message = f"`{path}`: {problem.problem} in DAG `{dag}`{where}{allowed}"
        if self.path is None:
            raise DagFactoryConfigError(message)
        reported.report(self.path, f"DagFactoryConfigError: {message}", dag)

    def _line(self, dag: str, key: Key) -> int | None:
        if self.document is None:
            return None
        lines = self.document.lines
        for prefix in ((dag,), ("default",)):
            probe = (*prefix, *key)
            while len(probe) > len(prefix):
                if probe in lines:
                    return lines[probe]
                probe = probe[:-1]
        return lines.get((dag,))

    def generate_dags(self, globals: dict[str, Any]) -> None:  # dag-factory's argument name
        for dag_id, dag in self.build_dags().items():
            globals[dag_id] = dag

    _generate_dags = generate_dags  # dag-factory 1.x's private name


def _ignore_patterns(folder: Path, reads: _Reads) -> list[str]:
    patterns: list[str] = []
    names = reads.listing(folder)
    for ignore in (".airflowignore", IGNORE_FILE):
        if ignore in names:
            for line in (folder / ignore).read_text(encoding="utf-8").splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    patterns.append(line.rstrip("/"))
    return patterns


def config_files(folder: Path, suffixes: list[str], reads: _Reads) -> list[Path]:
    """The YAML files under ``folder`` (sorted, ignore files honoured, defaults.yml left out)."""
    found: list[Path] = []

    def walk(directory: Path, rules: list[tuple[Path, list[str]]]) -> None:
        rules = [*rules, (directory, _ignore_patterns(directory, reads))]
        for name in reads.listing(directory):
            entry = directory / name
            if name.startswith(".") or name == "__pycache__":
                continue
            if any(is_ignored(entry.relative_to(base), patterns) for base, patterns in rules if patterns):
                continue
            if entry.is_dir():
                walk(entry, rules)
            elif any(name.endswith(s) for s in suffixes) and name not in DEFAULTS_FILE_NAMES:
                found.append(entry)

    if folder.is_dir():
        walk(folder, [])
    return found


def load_yaml_dags(
    globals_dict: dict[str, Any],
    dags_folder: str | None = None,
    config_filepath: str | None = None,
    defaults_config_path: str | None = None,
    config_dict: dict[str, Any] | None = None,
    defaults_config_dict: dict[str, Any] | None = None,
    suffix: list[str] | None = None,
) -> None:
    """dag-factory's loader: the DAGs of one YAML file (``config_filepath``), of a dict
    (``config_dict``), or of every ``*.yaml``/``*.yml`` under ``dags_folder`` (default: the
    DAGs folder), put into ``globals_dict``."""
    folder = _default_folder(globals_dict.get("__file__"))
    # Every DAG is built, also in a worker that runs one task: the worker keeps what the file
    # built for its next tasks. (Building only the DAG asked for, through get_parsing_context,
    # would make the worker import the file again for each DAG: 30x slower at 1,000 DAGs.)
    reads = _Reads()
    options: dict[str, Any] = {
        "defaults_config_path": defaults_config_path or (None if defaults_config_dict is not None else folder),
        "defaults_config_dict": defaults_config_dict,
        "_reads": reads,
    }
    if config_filepath:
        paths = [Path(config_filepath)]
    elif config_dict:
        DagFactory(config_dict=config_dict, **options).generate_dags(globals_dict)
        return
    else:
        paths = config_files(Path(os.path.abspath(dags_folder or folder)), suffix or [".yaml", ".yml"], reads)
    owners: dict[str, str] = {}
    for path in paths:
        factory = DagFactory(str(path.absolute()), **options)
        for dag_id, dag in factory.build_dags().items():
            if dag_id in owners:
                line = factory._line(dag_id, ())
                where = f" (line {line})" if line else ""
                reported.report(
                    str(path),
                    f"DagFactoryConfigError: DAG `{dag_id}`{where} is already defined in {owners[dag_id]}",
                    dag_id,
                )
                continue
            owners[dag_id] = str(path)
            globals_dict[dag_id] = dag
