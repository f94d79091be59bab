"""Make ``import dagfactory`` in DAG files resolve to tradewind's own dag-factory.

A loader file written for astronomer's dag-factory (``from dagfactory import load_yaml_dags``)
runs unchanged: while tradewind loads DAG files (with its ``airflow`` alias active, so without
the real Airflow), ``dagfactory`` and its public modules come from ``tradewind.loader.dagfactory``.
The finder is light; the implementation (PyYAML, pendulum) is imported when a file asks for it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

# module -> names taken from tradewind.loader.dagfactory
MODULES: dict[str, tuple[str, ...]] = {
    "dagfactory": ("load_yaml_dags", "DagFactory", "__version__"),
    "dagfactory.dagfactory": ("load_yaml_dags", "DagFactory"),
    "dagfactory.exceptions": ("DagFactoryException", "DagFactoryConfigException"),
}


class _DagFactoryFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "dagfactory" and not fullname.startswith("dagfactory."):
            return None
        if fullname not in MODULES:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: tradewind runs dag-factory configs without dag-factory installed "
                f"and provides only these modules: {', '.join(sorted(MODULES))}",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        implementation = importlib.import_module("tradewind.loader.dagfactory")
        module.__path__ = []
        module.__dict__.update({name: getattr(implementation, name) for name in MODULES[module.__name__]})


_finder = _DagFactoryFinder()


def install() -> None:
    """Serve ``dagfactory`` from tradewind (call when the ``airflow`` alias is active)."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
