"""The UI's pages, read only: the DAG list, a DAG's grid and graph, a task instance with its
log and return value, and the JSON the log page polls to follow a running try.

Ids travel in query strings (``/dags/grid?dag_id=…``), never in the path, so an id holding
``/``, ``..`` or ``%`` is just a value. Pages read the store and the serialized DAGs; they never
import a DAG file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tradewind.definitions.serialized import SerializedDAG
from tradewind.runtime.logs import TaskLogNotFound, read_task_log, task_log_tries
from tradewind.store import dag_versions as dv
from tradewind.store import grid
from tradewind.store import queries as q
from tradewind.web.context import SECURITY_HEADERS, WebContext, current_user, web
from tradewind.web.graph import GraphTask, layout
from tradewind.web.render import ACTIVE_RUN_STATES, STATE_ORDER, link
from tradewind.web.session import WebUser

router = APIRouter(include_in_schema=False)

User = Annotated[WebUser, Depends(current_user)]
Web = Annotated[WebContext, Depends(web)]
Id = Annotated[str, Query(min_length=1, max_length=250)]
OptionalId = Annotated[str | None, Query(max_length=250)]
PAGE_SIZE = 100
GRID_RUNS = 25  # runs in the grid unless ?runs= asks for more
MAX_GRID_RUNS = 365
FINISHED = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


def not_found(ctx: WebContext, request: Request, user: WebUser, message: str) -> HTMLResponse:
    return ctx.render(request, "not_found.html", status_code=404, user=user, message=message)


def latest_dag(session: Any, dag_id: str) -> SerializedDAG | None:
    found = dv.latest_versions(session, [dag_id]).get(dag_id)
    return SerializedDAG(found[1], found[0]) if found is not None else None


@router.get("/")
def home() -> Response:
    return RedirectResponse("/dags", status_code=303)


@router.get("/dags", response_class=HTMLResponse)
def dag_list(
    request: Request,
    ctx: Web,
    user: User,
    search: Annotated[str, Query(max_length=250)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    with ctx.read() as session:
        dags, total = grid.dag_page(session, search=search, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        runs = grid.recent_runs(session, [d.dag_id for d in dags], per_dag=8)
        errors = [(e.filename, e.error, e.timestamp) for e in q.list_import_errors(session)]
    live = any(r.state in ACTIVE_RUN_STATES for found in runs.values() for r in found)
    return ctx.render(
        request,
        "dags.html",
        user=user,
        dags=dags,
        runs=runs,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        search=search,
        import_errors=errors,
        live=live,
    )


def _grid_tasks(dag: SerializedDAG | None, counts: dict[tuple[str, str], grid.CellCounts]) -> list[dict[str, Any]]:
    """The grid's rows: the newest version's tasks in order, then any task only older runs have."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    if dag is not None:
        for task in dag.topological_sort():
            depth = task.group_id.count(".") + 1 if task.group_id else 0
            rows.append(
                {
                    "task_id": task.task_id,
                    "group_id": task.group_id,
                    "depth": depth,
                    "mapped": task.expands_at_run_time,
                    "operator": task.operator_name,
                }
            )
            seen.add(task.task_id)
    for _, task_id in sorted(counts):
        if task_id not in seen:
            seen.add(task_id)
            rows.append({"task_id": task_id, "group_id": None, "depth": 0, "mapped": False, "operator": "?"})
    return rows


def _states_filter(state: list[str]) -> list[str | None] | None:
    return [None if s == "none" else s for s in state] or None


@router.get("/dags/grid", response_class=HTMLResponse)
def dag_grid(
    request: Request,
    ctx: Web,
    user: User,
    dag_id: Id,
    run_id: OptionalId = None,
    task_id: OptionalId = None,
    state: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI copies defaults)
    label: Annotated[str, Query(max_length=250)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    runs_shown: Annotated[int, Query(alias="runs", ge=1, le=MAX_GRID_RUNS)] = GRID_RUNS,
) -> Response:
    with ctx.read() as session:
        row = grid.dag_row(session, dag_id)
        if row is None:
            return not_found(ctx, request, user, f"DAG '{dag_id}' not found")
        dag = latest_dag(session, dag_id)
        runs = grid.grid_runs(session, dag_id, runs_shown)
        if run_id is not None and run_id not in {r.run_id for r in runs}:
            selected = grid.get_run(session, dag_id, run_id)
            if selected is None:
                return not_found(ctx, request, user, f"DAG '{dag_id}' has no run '{run_id}'")
            runs = [*runs[1:], selected] if len(runs) >= runs_shown else [*runs, selected]
        counts = grid.grid_counts(session, dag_id, [r.run_id for r in runs])
        panel = None
        if run_id is not None and task_id is not None:
            wanted = _states_filter(state)
            instances, matching = grid.instance_page(
                session,
                dag_id,
                run_id,
                task_id,
                states=wanted,
                label=label,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
            by_state = grid.instance_state_counts(session, dag_id, run_id, task_id)
            panel = {
                "run_id": run_id,
                "task_id": task_id,
                "instances": instances,
                "matching": matching,
                "by_state": [(s, by_state[s]) for s in STATE_ORDER if by_state.get(s)],
                "total": sum(by_state.values()),
                "mapped": (run_id, task_id) in counts and counts[(run_id, task_id)].mapped,
                "state": state,
                "label": label,
                "page": page,
                "pages": max(1, -(-matching // PAGE_SIZE)),
                "failed": by_state.get("failed", 0) + by_state.get("upstream_failed", 0),
            }
        elif run_id is not None:
            selected_run = grid.get_run(session, dag_id, run_id)
            panel = {"task_id": None, "run": selected_run}
    live = any(r.state in ACTIVE_RUN_STATES for r in runs)
    return ctx.render(
        request,
        "grid.html",
        user=user,
        dag=row,
        serialized=dag,
        runs=runs,
        tasks=_grid_tasks(dag, counts),
        counts=counts,
        run_id=run_id,
        task_id=task_id,
        panel=panel,
        live=live,
        tab="grid",
        shown=None if runs_shown == GRID_RUNS else runs_shown,
    )


@router.get("/dags/graph", response_class=HTMLResponse)
def dag_graph(request: Request, ctx: Web, user: User, dag_id: Id, run_id: OptionalId = None) -> Response:
    with ctx.read() as session:
        row = grid.dag_row(session, dag_id)
        dag = latest_dag(session, dag_id)
        if row is None or dag is None:
            return not_found(ctx, request, user, f"DAG '{dag_id}' not found")
        runs = grid.grid_runs(session, dag_id, 1) if run_id is None else []
        run = grid.get_run(session, dag_id, run_id) if run_id is not None else (runs[-1] if runs else None)
        counts = grid.grid_counts(session, dag_id, [run.run_id]) if run is not None else {}
    states = {task_id: cell.state for (_, task_id), cell in counts.items()}
    tasks = [
        GraphTask(t.task_id, frozenset(t.upstream_task_ids), t.group_id, t.expands_at_run_time, t.operator_name)
        for t in dag.topological_sort()
    ]
    return ctx.render(
        request,
        "graph.html",
        user=user,
        dag=row,
        serialized=dag,
        graph=layout(tasks, states),
        run=run,
        counts={task_id: cell for (_, task_id), cell in counts.items()},
        live=run is not None and run.state in ACTIVE_RUN_STATES,
        tab="graph",
        run_id=run.run_id if run is not None else None,
    )


@router.get("/dags/instance", response_class=HTMLResponse)
def task_instance(
    request: Request,
    ctx: Web,
    user: User,
    dag_id: Id,
    run_id: Id,
    task_id: Id,
    map_index: Annotated[int, Query(ge=-1, le=10_000_000)] = -1,
    try_number: Annotated[int | None, Query(alias="try", ge=1, le=100_000)] = None,
) -> Response:
    with ctx.read() as session:
        row = grid.dag_row(session, dag_id)
        run = grid.get_run(session, dag_id, run_id)
        ti = grid.get_instance(session, dag_id, run_id, task_id, map_index)
        if row is None or run is None or ti is None:
            where = f"{task_id}[{map_index}]" if map_index >= 0 else task_id
            return not_found(ctx, request, user, f"No task instance {where} in run '{run_id}' of DAG '{dag_id}'")
        xcoms = grid.instance_xcoms(session, dag_id, run_id, task_id, map_index)
        around = grid.neighbours(session, dag_id, run_id, task_id, map_index) if map_index >= 0 else None
    tries = task_log_tries(ctx.logs_folder, dag_id, run_id, task_id, map_index)
    shown_try = try_number or (tries[-1] if tries else max(ti.try_number, 1))
    return ctx.render(
        request,
        "instance.html",
        user=user,
        dag=row,
        run=run,
        ti=ti,
        xcoms=xcoms,
        around=around,
        tries=tries,
        shown_try=shown_try,
        log_url=link(
            "/dags/log.json", dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index, **{"try": shown_try}
        ),
        live=run.state in ACTIVE_RUN_STATES and ti.state not in FINISHED,
    )


@router.get("/dags/log.json")
def task_log(
    ctx: Web,
    user: User,
    dag_id: Id,
    run_id: Id,
    task_id: Id,
    map_index: Annotated[int, Query(ge=-1, le=10_000_000)] = -1,
    try_number: Annotated[int, Query(alias="try", ge=1, le=100_000)] = 1,
    offset: Annotated[int, Query(ge=0, le=1 << 50)] = 0,
) -> Response:
    """One piece of a try's log from ``offset``; ``done`` once the try has finished and all of
    its log has been read (the page then stops polling)."""
    with ctx.read() as session:
        ti = grid.get_instance(session, dag_id, run_id, task_id, map_index)
        run = grid.get_run(session, dag_id, run_id)
    if ti is None or run is None:
        return JSONResponse({"detail": f"No task instance {task_id}[{map_index}] in run '{run_id}'"}, 404)
    # this try may still write: it is the instance's current (or next) one, in a run not yet over
    running = try_number >= ti.try_number and ti.state not in FINISHED and run.state in ACTIVE_RUN_STATES
    try:
        text, next_offset = read_task_log(ctx.logs_folder, dag_id, run_id, task_id, map_index, try_number, offset)
    except TaskLogNotFound as exc:
        return JSONResponse(
            {"text": "", "next_offset": offset, "missing": str(exc), "state": ti.state, "done": not running},
            headers=SECURITY_HEADERS,
        )
    done = not running and next_offset == offset
    return JSONResponse(
        {"text": text, "next_offset": next_offset, "state": ti.state, "done": done}, headers=SECURITY_HEADERS
    )
