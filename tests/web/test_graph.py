"""The graph layout: columns by longest path, groups kept together and framed, edges routed."""

from __future__ import annotations

import pytest

from tradewind.web.graph import COLUMN_GAP, NODE_WIDTH, GraphTask, layout


def _task(task_id: str, *upstream: str, group: str | None = None, mapped: bool = False) -> GraphTask:
    return GraphTask(task_id, frozenset(upstream), group, mapped, "@task")


def _columns(tasks: list[GraphTask]) -> dict[str, int]:
    return {n.task.task_id: (n.x - layout(tasks).nodes[0].x) // (NODE_WIDTH + COLUMN_GAP) for n in layout(tasks).nodes}


@pytest.mark.parametrize(
    ("tasks", "columns"),
    [
        ([_task("a")], {"a": 0}),
        ([_task("a"), _task("b", "a"), _task("c", "b")], {"a": 0, "b": 1, "c": 2}),
        # a task goes one column right of its furthest upstream
        ([_task("a"), _task("b", "a"), _task("c", "a", "b")], {"a": 0, "b": 1, "c": 2}),
        ([_task("a"), _task("b"), _task("c", "a", "b")], {"a": 0, "b": 0, "c": 1}),
    ],
)
def test_columns_follow_the_longest_path(tasks: list[GraphTask], columns: dict[str, int]) -> None:
    assert _columns(tasks) == columns


def test_tasks_of_a_group_sit_together_inside_its_frame() -> None:
    tasks = [
        _task("start"),
        _task("x", "start"),
        _task("g.one", "start", group="g"),
        _task("y", "start"),
        _task("g.two", "start", group="g", mapped=True),
    ]
    drawn = layout(tasks, {"g.two": "failed"})
    rows = {n.task.task_id: n.y for n in drawn.nodes if n.x > drawn.nodes[0].x}
    order = sorted(rows, key=rows.__getitem__)
    assert order == ["x", "y", "g.one", "g.two"]  # ungrouped first, then the group's tasks together
    (frame,) = drawn.frames
    assert frame.group_id == "g"
    inside = [
        n
        for n in drawn.nodes
        if frame.x <= n.x and n.x + NODE_WIDTH <= frame.x + frame.width and frame.y <= n.y <= frame.y + frame.height
    ]
    assert {n.task.task_id for n in inside} == {"g.one", "g.two"}
    labels = {n.task.task_id: n.label for n in drawn.nodes}
    assert labels["g.two"] == "two" and labels["start"] == "start"
    assert {n.task.task_id: n.state for n in drawn.nodes}["g.two"] == "failed"
    assert len(drawn.edges) == 4
    assert drawn.width >= max(n.x for n in drawn.nodes) + NODE_WIDTH


def test_nested_groups_get_one_frame_each() -> None:
    tasks = [_task("outer.a", group="outer"), _task("outer.inner.b", "outer.a", group="outer.inner")]
    frames = {f.group_id: f for f in layout(tasks).frames}
    assert set(frames) == {"outer", "outer.inner"}
    outer, inner = frames["outer"], frames["outer.inner"]
    assert outer.x < inner.x and outer.x + outer.width > inner.x + inner.width


def test_an_upstream_outside_the_shown_tasks_draws_no_edge() -> None:
    assert layout([_task("b", "gone")]).edges == []
    assert layout([]).nodes == [] and layout([]).width > 0
