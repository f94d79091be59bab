"""What an operation refuses, grouped by what the caller must change: the API turns each into
its HTTP status (404, 409, 400), the CLI and the UI into a message."""

from __future__ import annotations

from tradewind.errors import TradewindError


class ControlError(TradewindError):
    """An operation could not be done as asked; the message says why and what to do."""


class NotFound(ControlError):
    """The DAG, run, task or instance named does not exist."""


class Conflict(ControlError):
    """The request is valid but clashes with the current state (a run_id taken, a run running)."""


class InvalidRequest(ControlError):
    """An argument is wrong (a conf that breaks the DAG's params, an unknown task id, a bad state)."""
