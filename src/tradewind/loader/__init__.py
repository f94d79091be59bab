"""Finding and importing DAG files; the ``airflow`` import alias lives here."""

from tradewind.loader.dagbag import DagBag, ImportErrorInfo, load_dags

__all__ = ["DagBag", "ImportErrorInfo", "load_dags"]
