"""``operator.render_template(content, context)`` as Airflow offers it inside a running task.

Rendering needs Jinja and the task's template environment, which live in the runtime
(``runtime/templating.py``); the runtime registers its renderer here when it is imported, so
operators (definitions) can call it without importing a higher layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tradewind.errors import TradewindError

Renderer = Callable[[Any, Any, Mapping[str, Any]], Any]  # (operator, content, context) -> rendered
_renderer: list[Renderer] = []


def register(renderer: Renderer) -> None:
    _renderer[:] = [renderer]


def render(operator: Any, content: Any, context: Mapping[str, Any]) -> Any:
    if not _renderer:
        raise TradewindError(
            f"{operator!r}.render_template(): templates are rendered only while a task runs; "
            "call it from execute() or a task function, with the task's context"
        )
    return _renderer[0](operator, content, context)
