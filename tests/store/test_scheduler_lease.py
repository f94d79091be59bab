"""The scheduler lease (tradewind.store.lease) on SQLite and PostgreSQL: one holder at a time,
renewal, takeover of a lapsed lease or of one whose process is gone, and no race."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from tradewind.store.lease import LeaseHeld, acquire, current, release, renew, this_process


def test_a_second_holder_is_refused_with_the_holders_name(engine: Engine) -> None:
    first, second = this_process(), this_process()
    taken = acquire(engine, first, 30)
    assert taken.previous is None and taken.holder.token == first.token
    with pytest.raises(LeaseHeld) as refused:
        acquire(engine, second, 30)
    message = str(refused.value)
    assert message.startswith("another scheduler is running on this database: ")
    assert f"pid {first.pid} on host {first.hostname}, since " in message
    assert refused.value.holder.token == first.token
    assert "\n" not in message


def test_renewal_extends_the_lease_and_a_holder_can_take_its_own_lease_again(engine: Engine) -> None:
    me = this_process()
    acquire(engine, me, 30)
    before = current(engine)
    assert before is not None and before.expires_at is not None
    time.sleep(0.05)
    assert renew(engine, me.token, 60) is None
    after = current(engine)
    assert after is not None and after.expires_at is not None and after.started_at == before.started_at
    assert after.expires_at - before.expires_at > timedelta(seconds=29)
    assert acquire(engine, me, 30).previous is None


def test_a_lapsed_lease_is_taken_over_and_its_old_holder_learns_it_on_renewal(engine: Engine) -> None:
    old, new = this_process(), this_process()
    acquire(engine, old, 0.3)
    with pytest.raises(LeaseHeld):
        acquire(engine, new, 30)
    time.sleep(0.5)
    taken = acquire(engine, new, 30)
    assert taken.previous is not None and taken.previous.token == old.token
    assert taken.why is not None and taken.why.startswith("its lease lapsed at ")
    holder = renew(engine, old.token, 30)
    assert holder is not None and holder.token == new.token
    release(engine, old.token)  # not its lease any more: nothing happens
    found = current(engine)
    assert found is not None and found.token == new.token


def test_a_lease_whose_process_is_gone_on_this_machine_is_taken_at_once(engine: Engine) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = replace(this_process(), pid=int(child.stdout))
    acquire(engine, dead, 3600)
    taken = acquire(engine, this_process(), 30)
    assert taken.previous is not None and taken.previous.pid == dead.pid
    assert taken.why == "its process is gone"


def test_a_live_holder_elsewhere_is_not_taken_over_before_its_lease_lapses(engine: Engine) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    elsewhere = replace(this_process(), pid=int(child.stdout), host_key="another-machine/pid:[1]")
    acquire(engine, elsewhere, 3600)
    with pytest.raises(LeaseHeld):
        acquire(engine, this_process(), 30)


def test_release_lets_the_next_holder_in_at_once(engine: Engine) -> None:
    first, second = this_process(), this_process()
    acquire(engine, first, 3600)
    release(engine, first.token)
    assert current(engine) is None
    assert acquire(engine, second, 30).previous is None


def test_many_contenders_at_once_leave_exactly_one_holder(engine: Engine) -> None:
    contenders = [this_process() for _ in range(8)]
    winners: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(contenders))

    def contend(me_index: int) -> None:
        me = contenders[me_index]
        barrier.wait()
        try:
            acquire(engine, me, 30)
            winners.append(me.token)
        except LeaseHeld:
            refused.append(me.token)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(contenders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(winners) == 1 and len(refused) == len(contenders) - 1
    found = current(engine)
    assert found is not None and found.token == winners[0]
