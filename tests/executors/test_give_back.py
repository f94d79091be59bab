"""A worker answers every request to hand back queued items, even when it has none left.

The parent asks a worker stuck on a long task to hand back the items queued behind it, and
asks it again only after an answer. A worker that had already started its last queued item
used to stay silent: the parent then never asked it again, and items sent to it later waited
behind its next long task while another worker stood idle (seen in CI as a flaky
``test_an_idle_worker_takes_over_the_items_queued_behind_a_long_task``). These tests speak the
worker's side of the protocol (its inbox and outbox threads) over a real pipe, in process."""

from __future__ import annotations

import multiprocessing
from datetime import datetime

from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.executors.local_worker import GIVE_BACK, Inbox, Outbox
from tradewind.runtime.work import WorkItem
from tradewind.scheduler.dag_test import make_run_context


def item(task_id: str) -> WorkItem:
    context = make_run_context(DAG("d"), datetime(2025, 1, 1))
    return WorkItem(key=TaskInstanceKey("d", context.run_id, task_id), context=context, dag_file="d.py")


def worker_side():  # type: ignore[no-untyped-def]
    to_worker_r, to_worker_w = multiprocessing.Pipe(duplex=False)
    from_worker_r, from_worker_w = multiprocessing.Pipe(duplex=False)
    inbox = Inbox(to_worker_r, Outbox(from_worker_w))
    return inbox, to_worker_w, from_worker_r


def test_a_worker_with_nothing_queued_still_answers_a_give_back() -> None:
    inbox, send, receive = worker_side()
    send.send([(1, item("running"))])
    assert inbox.next() is not None  # the worker starts its only item
    send.send(GIVE_BACK)
    assert receive.poll(5), "the worker never answered"
    assert receive.recv() == ("returned", [])


def test_a_worker_hands_back_what_it_has_not_started_and_can_be_asked_again() -> None:
    inbox, send, receive = worker_side()
    send.send([(1, item("long")), (2, item("a")), (3, item("b"))])
    assert inbox.next() is not None
    send.send(GIVE_BACK)
    assert receive.poll(5) and receive.recv() == ("returned", [2, 3])
    send.send([(4, item("c")), (5, item("d"))])
    send.send(GIVE_BACK)
    assert receive.poll(5) and receive.recv() == ("returned", [4, 5])
    assert inbox.empty()
