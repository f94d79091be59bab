"""``get_current_context()``: the template context of the task running in this thread.

The runtime sets it around each task; it lives here, in the bottom layer, so that DAG files and
the ``airflow`` alias can import it without importing the runtime.
"""

from __future__ import annotations

import contextvars
from typing import Any

from tradewind.errors import TradewindError

_current: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("tradewind_context")


def get_current_context() -> dict[str, Any]:
    """The context of the task running now; call it from inside a task."""
    try:
        return _current.get()
    except LookupError:
        raise TradewindError(
            "get_current_context() was called outside a running task; call it inside the task function"
        ) from None


def set_current_context(context: dict[str, Any]) -> contextvars.Token[dict[str, Any]]:
    return _current.set(context)


def reset_current_context(token: contextvars.Token[dict[str, Any]]) -> None:
    _current.reset(token)
