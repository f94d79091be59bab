"""The DAG processor: imports DAG files in isolated child processes and stores their DAGs as
serialized versions (see processor.py)."""

from tradewind.processor.processor import DagProcessor, ProcessorReport

__all__ = ["DagProcessor", "ProcessorReport"]
