"""A throwaway tradewind home for scheduler tests: a real SQLite store, DAG files imported in this
process and stored as the DAG processor stores them (unpaused), and the scheduler running their
tasks inline until nothing is left to do."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from tradewind.definitions import secrets
from tradewind.definitions.dag import DAG
from tradewind.definitions.serialized import serialize_with_hash
from tradewind.executors.inline import InlineExecutor
from tradewind.loader.dagbag import import_dag_file
from tradewind.runtime.work import WorkItem
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import make_engine, migrate, session_scope
from tradewind.store.secrets import StoreSecrets


class SchedulerHome:
    def __init__(self, tmp_path: Path) -> None:
        self.dags_folder = tmp_path / "dags"
        self.dags_folder.mkdir()
        self.engine = make_engine()
        migrate(self.engine)
        self.gateway = StoreGateway(self.engine)
        self.tasks: dict[tuple[str, str], Any] = {}

    def store(self, name: str, source: str, paused: tuple[str, ...] = ()) -> list[DAG]:
        """Write the DAG file ``name``, import it and store its DAGs (those named in ``paused``
        paused); returns them."""
        path = self.dags_folder / name
        path.write_text(textwrap.dedent(source))
        dags, error, _ = import_dag_file(path)
        assert error is None, error
        versions = []
        for dag in dags:
            self.tasks.update({(dag.dag_id, t): task for t, task in dag.task_dict.items()})
            data, digest = serialize_with_hash(dag)
            versions.append(
                dv.DagVersionInput(dag.dag_id, digest, data, data["schedule"], [], dag.max_active_runs, False)
            )
        with session_scope(self.engine) as session:
            dv.store_versions(session, str(path), versions)
            for dag in dags:
                q.set_paused(session, dag.dag_id, dag.dag_id in paused)
        return dags

    def run_scheduler(self, **options: Any) -> str:
        """Run the scheduler (given ``options``) until idle; returns what it said."""

        def find_task(item: WorkItem) -> Any:
            return self.tasks[(item.key.dag_id, item.key.task_id)]

        log = io.StringIO()
        # the handle the scheduler gives LocalExecutor's workers; inline tasks get it here
        with secrets.installed_for(StoreSecrets(self.engine.url.render_as_string(hide_password=False))):
            Scheduler(self.gateway, InlineExecutor(find_task, log), log=log, **options).run(until_idle=True)  # type: ignore[arg-type]
        return log.getvalue()
