"""dag-factory 1.x's YAML format, read natively: ``load_yaml_dags`` and ``DagFactory``.

DAG files import these as ``dagfactory`` (see ``tradewind.loader.dagfactory_alias``); the
format, what is supported and what differs are in docs/dag-factory.md.
"""

from tradewind.loader.dagfactory.factory import DagFactory, DagFactoryConfigError, load_yaml_dags

__version__ = "1.1.0+tradewind"

# dag-factory's exception names, for loader files that catch them
DagFactoryException = DagFactoryConfigError
DagFactoryConfigException = DagFactoryConfigError

__all__ = ["DagFactory", "DagFactoryConfigError", "DagFactoryConfigException", "DagFactoryException", "load_yaml_dags"]
