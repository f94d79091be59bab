"""The UI's actions: trigger a run, pause or unpause a DAG, clear task instances.

Each is a form POST that must carry the session's CSRF token and comes from a user whose role
may act (op, admin); anything else is a 403 and changes nothing. The work itself is done by
:mod:`tradewind.control`, the same operations the API and the CLI call. After an action the
browser goes back where it came from, with a one-time message saying what happened.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tradewind import control
from tradewind.store import grid
from tradewind.web.context import FLASH_COOKIE, WebContext, current_user, web
from tradewind.web.login import safe_next
from tradewind.web.render import link
from tradewind.web.session import SESSION_COOKIE, WebUser

router = APIRouter(include_in_schema=False)
User = Annotated[WebUser, Depends(current_user)]
Web = Annotated[WebContext, Depends(web)]
FormId = Annotated[str, Form(min_length=1, max_length=250)]
Csrf = Annotated[str, Form(max_length=200)]
Next = Annotated[str, Form(max_length=4000)]
MAX_CONF_CHARS = 1_000_000


def refused(ctx: WebContext, request: Request, user: WebUser, csrf_token: str) -> Response | None:
    """A 403 page when the POST lacks the session's CSRF token or the user may not act."""
    if not ctx.sessions.check_csrf(request.cookies.get(SESSION_COOKIE), csrf_token):
        message = "The form's CSRF token is missing or wrong: reload the page and try again."
    elif not user.can_act:
        message = f"User '{user.username}' has role '{user.role}', which may only read: ask an admin for role op."
    else:
        return None
    return ctx.render(request, "error.html", 403, user=user, heading="Not allowed", message=message, back="/dags")


def back_with(target: str, message: str, good: bool = True) -> Response:
    response = RedirectResponse(safe_next(target), status_code=303)
    flash = base64.urlsafe_b64encode(json.dumps({"text": message[:500], "good": good}).encode()).decode()
    response.set_cookie(FLASH_COOKIE, flash, max_age=60, httponly=True, samesite="strict", path="/")
    return response


@router.post("/dags/pause")
def pause(
    request: Request,
    ctx: Web,
    user: User,
    dag_id: FormId,
    paused: Annotated[str, Form(pattern="^[01]$")],
    csrf_token: Csrf = "",
    next: Next = "/dags",
) -> Response:
    if (denied := refused(ctx, request, user, csrf_token)) is not None:
        return denied
    try:
        control.set_paused(ctx.engine, dag_id, paused == "1")
    except control.ControlError as exc:
        return back_with(next, str(exc), good=False)
    return back_with(next, f"DAG {dag_id} is {'paused' if paused == '1' else 'unpaused'}.")


def _params(dag: Any) -> list[tuple[str, dict[str, Any]]]:
    """(name, {default, description, schema}) of each of the DAG's params, by name."""
    return [
        (name, {"default": node.get("default"), "description": node.get("description"), "schema": node.get("schema")})
        for name, node in sorted(dag.data.get("params", {}).items())
    ]


def _trigger_form(
    ctx: WebContext, request: Request, user: WebUser, dag_id: str, conf_text: str | None, logical_date: str, error: str
) -> Response:
    with ctx.read() as session:
        row = grid.dag_row(session, dag_id)
    try:
        dag = control.get_serialized_dag(ctx.engine, dag_id)
    except control.NotFound as exc:
        return ctx.render(request, "not_found.html", 404, user=user, message=str(exc))
    params = _params(dag)
    if conf_text is None:
        defaults = {name: p["default"] for name, p in params}
        conf_text = json.dumps(defaults, indent=2, ensure_ascii=False, default=str)
    return ctx.render(
        request,
        "trigger.html",
        400 if error else 200,
        user=user,
        dag=row,
        params=params,
        conf_text=conf_text,
        logical_date=logical_date,
        error=error,
    )


@router.get("/dags/trigger")
def trigger_page(
    request: Request, ctx: Web, user: User, dag_id: Annotated[str, Query(min_length=1, max_length=250)]
) -> Response:
    if not user.can_act:
        message = f"User '{user.username}' has role '{user.role}', which may only read."
        return ctx.render(request, "error.html", 403, user=user, heading="Not allowed", message=message, back="/dags")
    return _trigger_form(ctx, request, user, dag_id, None, "", "")


def parse_conf(text: str) -> dict[str, Any]:
    """The conf a form holds: a JSON object (empty text: ``{}``); ValueError saying where it breaks."""
    if not text.strip():
        return {}
    if len(text) > MAX_CONF_CHARS:
        raise ValueError(f"conf is {len(text):,} characters long; at most {MAX_CONF_CHARS:,} are accepted")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"conf is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(value, dict):
        raise ValueError(f'conf must be a JSON object such as {{"limit": 5}}, not a {type(value).__name__}')
    return value


def parse_date(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"logical date {text.strip()!r} is not an ISO 8601 date, e.g. 2025-07-01T00:00:00+00:00"
        ) from None


@router.post("/dags/trigger")
def trigger(
    request: Request,
    ctx: Web,
    user: User,
    dag_id: FormId,
    conf: Annotated[str, Form(max_length=MAX_CONF_CHARS)] = "",
    logical_date: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Csrf = "",
) -> Response:
    if (denied := refused(ctx, request, user, csrf_token)) is not None:
        return denied
    try:
        run = control.trigger_run(ctx.engine, dag_id, conf=parse_conf(conf), logical_date=parse_date(logical_date))
    except control.NotFound as exc:
        return ctx.render(request, "not_found.html", 404, user=user, message=str(exc))
    except (ValueError, control.ControlError) as exc:
        return _trigger_form(ctx, request, user, dag_id, conf, logical_date, str(exc))
    target = link("/dags/grid", dag_id=dag_id, run_id=run.run_id)
    return back_with(target, f"Queued run {run.run_id} of {dag_id}.")


@router.post("/dags/clear")
def clear(
    request: Request,
    ctx: Web,
    user: User,
    dag_id: FormId,
    run_id: FormId,
    task_id: Annotated[str | None, Form(min_length=1, max_length=250)] = None,
    map_index: Annotated[int | None, Form(ge=0, le=10_000_000)] = None,
    only_failed: Annotated[str, Form(pattern="^[01]?$")] = "",
    downstream: Annotated[str, Form(pattern="^[01]?$")] = "1",
    csrf_token: Csrf = "",
    next: Next = "/dags",
) -> Response:
    if (denied := refused(ctx, request, user, csrf_token)) is not None:
        return denied
    selector: list[Any] | None = None  # every task of the run
    if task_id is not None:
        selector = [(task_id, map_index)] if map_index is not None else [task_id]
    try:
        cleared = control.clear_task_instances(
            ctx.engine,
            dag_id,
            run_id=run_id,
            task_ids=selector,
            only_failed=only_failed == "1",
            include_downstream=downstream == "1",
            dry_run=False,
        )
    except control.ControlError as exc:
        return back_with(next, str(exc), good=False)
    what = f"{task_id}[{map_index}]" if map_index is not None else task_id or "failed tasks"
    if not cleared:
        return back_with(next, f"Nothing to clear for {what} in run {run_id}.", good=False)
    count = len(cleared)
    also = " and downstream" if downstream == "1" else ""
    return back_with(next, f"Cleared {count:,} task instance{'s' if count != 1 else ''} ({what}{also}).")


@router.post("/dags/run-state")
def run_state(
    request: Request,
    ctx: Web,
    user: User,
    dag_id: FormId,
    run_id: FormId,
    state: Annotated[str, Form(pattern="^(success|failed|queued)$")],
    csrf_token: Csrf = "",
    next: Next = "/dags",
) -> Response:
    """Mark a finished or queued run success or failed (its unfinished instances follow), or
    queue it again, as Airflow's "mark success/failed" does; a running run is the scheduler's."""
    if (denied := refused(ctx, request, user, csrf_token)) is not None:
        return denied
    try:
        control.set_run_state(ctx.engine, dag_id, run_id, state)
    except control.ControlError as exc:
        return back_with(next, str(exc), good=False)
    return back_with(next, f"Run {run_id} of {dag_id} is now {state}.")
