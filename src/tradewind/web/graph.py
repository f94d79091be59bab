"""A DAG drawn as boxes and arrows, laid out on the server (the page shows it as plain SVG).

Tasks go left to right in columns by their longest path from a root; within a column, tasks of
one task group sit together and each task sits near the tasks it depends on. A task group is a
dashed frame around its tasks, a mapped task a stack of boxes. Pure: tasks in, shapes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NODE_WIDTH = 190
NODE_HEIGHT = 38
COLUMN_GAP = 70
ROW_GAP = 18
MARGIN = 24


@dataclass(frozen=True)
class GraphTask:
    task_id: str
    upstream: frozenset[str]
    group_id: str | None
    is_mapped: bool
    operator: str


@dataclass(frozen=True)
class Node:
    task: GraphTask
    x: int
    y: int
    state: str | None

    @property
    def label(self) -> str:
        """The task id without its group's prefix (the frame names the group)."""
        group = self.task.group_id
        if group and self.task.task_id.startswith(group + "."):
            return self.task.task_id[len(group) + 1 :]
        return self.task.task_id


@dataclass(frozen=True)
class Edge:
    path: str  # SVG path data


@dataclass(frozen=True)
class Frame:
    group_id: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Layout:
    nodes: list[Node]
    edges: list[Edge]
    frames: list[Frame]
    width: int
    height: int


def _columns(tasks: Sequence[GraphTask]) -> dict[str, int]:
    """task_id -> its column: the length of the longest path from a root (tasks come upstream first)."""
    column: dict[str, int] = {}
    known = {t.task_id for t in tasks}
    for task in tasks:
        column[task.task_id] = max((column.get(u, 0) + 1 for u in task.upstream if u in known), default=0)
    return column


def _group_path(group_id: str | None) -> tuple[str, ...]:
    return tuple(group_id.split(".")) if group_id else ()


def layout(tasks: Sequence[GraphTask], states: Mapping[str, str | None] | None = None) -> Layout:
    """Place ``tasks`` (every upstream before its downstream) and route their edges."""
    states = states or {}
    column = _columns(tasks)
    by_column: dict[int, list[GraphTask]] = {}
    for task in tasks:
        by_column.setdefault(column[task.task_id], []).append(task)
    row: dict[str, float] = {}
    for index in sorted(by_column):
        members = by_column[index]

        def weight(task: GraphTask) -> float:
            ups = [row[u] for u in task.upstream if u in row]
            return sum(ups) / len(ups) if ups else 0.0

        members.sort(key=lambda t: (_group_path(t.group_id), weight(t), t.task_id))
        for position, task in enumerate(members):
            row[task.task_id] = float(position)
    nodes = [
        Node(
            task,
            MARGIN + column[task.task_id] * (NODE_WIDTH + COLUMN_GAP),
            MARGIN + 16 + int(row[task.task_id]) * (NODE_HEIGHT + ROW_GAP),
            states.get(task.task_id),
        )
        for task in tasks
    ]
    where = {node.task.task_id: node for node in nodes}
    edges = []
    for node in nodes:
        for upstream in sorted(node.task.upstream):
            source = where.get(upstream)
            if source is None:
                continue
            x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT // 2
            x2, y2 = node.x - 4, node.y + NODE_HEIGHT // 2
            bend = (x2 - x1) // 2
            edges.append(Edge(f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"))
    frames = _frames(nodes)
    width = max((n.x + NODE_WIDTH for n in nodes), default=0) + MARGIN + 8
    height = max((n.y + NODE_HEIGHT for n in nodes), default=0) + MARGIN + 8
    return Layout(nodes, edges, frames, width, height)


def _frames(nodes: Sequence[Node]) -> list[Frame]:
    """One frame per task group around its tasks (and those of its inner groups)."""
    members: dict[str, list[Node]] = {}
    for node in nodes:
        path = _group_path(node.task.group_id)
        for depth in range(1, len(path) + 1):
            members.setdefault(".".join(path[:depth]), []).append(node)
    frames = []
    for group_id, inside in sorted(members.items(), key=lambda item: item[0].count(".")):
        pad = 10 - 3 * group_id.count(".")
        x = min(n.x for n in inside) - pad
        y = min(n.y for n in inside) - pad - 14
        right = max(n.x + NODE_WIDTH for n in inside) + pad
        bottom = max(n.y + NODE_HEIGHT for n in inside) + pad
        frames.append(Frame(group_id, x, y, right - x, bottom - y))
    return frames
