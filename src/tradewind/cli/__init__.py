"""The ``tradewind`` command line. Thin: parses arguments and calls the layers below."""

from tradewind.cli.main import main

__all__ = ["main"]
