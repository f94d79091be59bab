"""The DAG processor: every DAG file imported in a child process of its own (a file that hangs,
raises, exits, crashes or eats memory becomes an import error and nothing else), a file whose
bytes (and the bytes of the files it read under the DAGs folder) did not change is not imported
again, and what it stores: versions, DAGs made inactive, import errors."""

from __future__ import annotations

import json
import os
import py_compile
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.errors import DagNotFound
from tradewind.processor import DagProcessor
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

pytestmark = pytest.mark.slow  # every test starts processor children


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    return folder


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def chain_dag(dag_id: str, task_ids: list[str], comment: str = "") -> str:
    """A DAG file: EmptyOperators chained in the order given."""
    lines = [
        f"# {comment}" if comment else "# a DAG file",
        "from datetime import datetime",
        "from tradewind import DAG, EmptyOperator, chain",
        "",
        f"with DAG({dag_id!r}, start_date=datetime(2025, 1, 1), schedule=None) as the_dag:",
        f"    chain(*[EmptyOperator(task_id=t) for t in {task_ids!r}])",
        "",
    ]
    return "\n".join(lines)


def import_errors(engine: Engine) -> dict[str, str]:
    """File name -> recorded import error."""
    with session_scope(engine) as session:
        return {Path(e.filename).name: e.error for e in q.list_import_errors(session)}


def stored_file(engine: Engine, path: Path) -> dv.StoredFile:
    with session_scope(engine) as session:
        return dv.stored_files(session)[str(path)]


# -- isolation ------------------------------------------------------------------------------------

GOOD = """
    from datetime import datetime
    from tradewind import dag, task

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def good():
        @task
        def one():
            return 1

        one()

    good()
"""

# Each of these must mention "dag", or safe mode would not even import it.
BAD_FILES = {
    "hangs.py": """
        # not a dag: hangs
        import time
        time.sleep(60)
    """,
    "ignores_the_alarm.py": """
        # not a dag: hangs and ignores the import time limit's alarm, so it must be killed
        import signal
        import time
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        time.sleep(60)
    """,
    "raises.py": """
        # not a dag: raises
        raise ValueError("this DAG file is broken on purpose")
    """,
    "sys_exit.py": """
        # not a dag: exits politely
        import sys
        sys.exit(3)
    """,
    "os_exit.py": """
        # not a dag: exits at once, without unwinding
        import os
        os._exit(3)
    """,
    "segfault.py": """
        # not a dag: crashes the interpreter
        import ctypes
        ctypes.string_at(0)
    """,
    "memory_hog.py": """
        # not a dag: allocates 2 GB under a 500 MB limit
        hog = bytearray(2 * 1024 * 1024 * 1024)
    """,
}

CAUSES = {  # file -> what its import error must say
    "hangs.py": ["took longer than 2s"],
    "ignores_the_alarm.py": ["TimeoutError", "took longer than 7s"],  # killed at import_timeout + 5
    "raises.py": ["ValueError: this DAG file is broken on purpose"],
    "sys_exit.py": ["SystemExit: 3"],
    "os_exit.py": ["exited with code 3"],
    "segfault.py": ["SIGSEGV"],
    "memory_hog.py": ["MemoryError"],
}


def test_bad_files_become_import_errors_naming_the_cause_and_the_good_dag_is_stored(engine: Engine, dags: Path) -> None:
    write(dags / "good.py", GOOD)
    for name, source in BAD_FILES.items():
        write(dags / name, source)
    me = os.getpid()
    processor = DagProcessor(
        dags, engine, parallelism=len(BAD_FILES) + 1, import_timeout=2, kill_timeout=1, memory_limit_mb=500
    )

    report = processor.run_once()

    assert os.getpid() == me  # still the same, living process: nothing reached it
    assert (report.imported, report.errors, report.new_versions) == (len(BAD_FILES) + 1, len(BAD_FILES), 1)
    gateway = StoreGateway(engine)
    dag = gateway.get_dag("good")
    assert sorted(dag.task_dict) == ["one"]
    assert list(gateway.latest_dags()) == ["good"]
    errors = import_errors(engine)
    assert sorted(errors) == sorted(BAD_FILES)
    for name, words in CAUSES.items():
        for word in words:
            assert word in errors[name], f"{name}: {errors[name]!r} does not say {word!r}"
    assert not processor.busy
    # the good DAG's file is recorded; a second look imports nothing, not even the broken files
    assert stored_file(engine, dags / "good.py").dag_ids == ["good"]
    processor.run_once()
    assert processor.imports == len(BAD_FILES) + 1


def test_a_file_that_is_fixed_loses_its_import_error(engine: Engine, dags: Path) -> None:
    path = write(dags / "later.py", 'raise RuntimeError("not yet a dag")\n')
    processor = DagProcessor(dags, engine)
    processor.run_once()
    assert "RuntimeError: not yet a dag" in import_errors(engine)["later.py"]
    with pytest.raises(DagNotFound, match="failed to import"):
        StoreGateway(engine).get_dag("later")

    path.write_text(chain_dag("later", ["a"]))
    processor.run_once()

    assert import_errors(engine) == {}
    assert sorted(StoreGateway(engine).get_dag("later").task_dict) == ["a"]


# -- what is imported again -----------------------------------------------------------------------


def test_an_unchanged_file_is_not_imported_again_by_this_or_another_processor(engine: Engine, dags: Path) -> None:
    path = dags / "steady.py"
    path.write_text(chain_dag("steady", ["a", "b"]))
    processor = DagProcessor(dags, engine)
    first = processor.run_once()
    assert (processor.imports, first.imported, first.new_versions) == (1, 1, 1)

    again = processor.run_once()
    assert (processor.imports, again.imported, again.new_versions) == (1, 0, 0)

    # what was imported is in the store, not in the processor: a new one starts from it
    fresh = DagProcessor(dags, engine)
    fresh.run_once()
    assert fresh.imports == 0

    # touched (same bytes, newer mtime): not imported; the new stamp is remembered
    stamp = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(stamp, stamp))
    fresh.run_once()
    assert fresh.imports == 0
    assert stored_file(engine, path).fingerprint[0][1] == stamp
    third = DagProcessor(dags, engine)
    third.run_once()
    assert third.imports == 0

    # new bytes: imported once
    path.write_text(chain_dag("steady", ["a", "b"], comment="edited"))
    third.run_once()
    third.run_once()
    assert third.imports == 1
    assert processor.imports == 1


FACTORY = """
    # builds one dag per entry of dags.json, beside this file
    import json
    from datetime import datetime
    from pathlib import Path

    from tradewind import DAG, EmptyOperator

    for entry in json.loads(Path(__file__).with_name("dags.json").read_text()):
        with DAG(f"made_{entry}", start_date=datetime(2025, 1, 1), schedule=None) as made:
            EmptyOperator(task_id="work")
        globals()[f"dag_{entry}"] = made
"""


def test_a_factory_is_imported_again_when_the_config_it_reads_changes(engine: Engine, dags: Path) -> None:
    write(dags / "factory.py", FACTORY)
    config = dags / "dags.json"
    config.write_text(json.dumps(["one", "two"]))
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    assert sorted(gateway.latest_dags()) == ["made_one", "made_two"]
    tracked = [entry[0] for entry in stored_file(engine, dags / "factory.py").fingerprint]
    assert tracked == [str(dags / "factory.py"), str(config)]

    processor.run_once()
    assert processor.imports == 1  # nothing changed

    config.write_text(json.dumps(["one", "three"]))
    report = processor.run_once()

    assert processor.imports == 2
    assert report.new_versions == 1  # made_three; made_one did not change
    assert sorted(gateway.latest_dags()) == ["made_one", "made_three"]
    with pytest.raises(DagNotFound):
        gateway.get_dag("made_two")  # inactive: its history stays, it is not scheduled
    assert sorted(stored_file(engine, dags / "factory.py").dag_ids) == ["made_one", "made_three"]

    # a new processor does not import it again: the config it read is tracked in the store
    fresh = DagProcessor(dags, engine)
    fresh.run_once()
    assert fresh.imports == 0


HELPER_FACTORY = """
    # builds one dag per name the helper module beside it lists
    from datetime import datetime

    from tradewind import DAG, EmptyOperator
    from names_helper import NAMES

    for name in NAMES:
        with DAG(f"made_{name}", start_date=datetime(2025, 1, 1), schedule=None) as made:
            EmptyOperator(task_id="work")
        globals()[f"dag_{name}"] = made
"""


def test_a_dag_file_is_imported_again_when_a_helper_module_it_imports_changes(engine: Engine, dags: Path) -> None:
    helper = dags / "names_helper.py"
    helper.write_text('NAMES = ["one", "two"]\n')
    # bytecode for the helper already exists, as after any earlier import with bytecode writing on
    # (a worker, `tradewind dags test`, the user's own tools)
    py_compile.compile(str(helper), doraise=True)
    write(dags / "factory.py", HELPER_FACTORY)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    assert sorted(gateway.latest_dags()) == ["made_one", "made_two"]

    helper.write_text('NAMES = ["one", "three", "four"]\n')  # another size: the .pyc is stale
    processor.run_once()

    assert sorted(gateway.latest_dags()) == ["made_four", "made_one", "made_three"]


# -- versions -------------------------------------------------------------------------------------


def test_a_changed_structure_is_a_new_version_and_an_edited_comment_is_not(engine: Engine, dags: Path) -> None:
    path = dags / "versioned.py"
    path.write_text(chain_dag("versioned", ["a", "b"]))
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    first = gateway.get_dag("versioned").version
    assert dict(gateway.version_numbers("versioned")) == {first: 1}

    path.write_text(chain_dag("versioned", ["a", "b", "c"]))
    report = processor.run_once()
    second = gateway.get_dag("versioned")
    assert report.new_versions == 1
    assert sorted(second.task_dict) == ["a", "b", "c"]
    assert dict(gateway.version_numbers("versioned")) == {first: 1, second.version: 2}

    path.write_text(chain_dag("versioned", ["a", "b", "c"], comment="only this comment changed"))
    report = processor.run_once()
    assert (processor.imports, report.imported, report.new_versions) == (3, 1, 0)  # imported, nothing new
    assert gateway.get_dag("versioned").version == second.version
    assert dict(gateway.version_numbers("versioned")) == {first: 1, second.version: 2}

    # back to the first structure: the DAG points at version 1 again, no third version
    path.write_text(chain_dag("versioned", ["a", "b"], comment="reverted"))
    processor.run_once()
    assert gateway.get_dag("versioned").version == first
    assert dict(gateway.version_numbers("versioned")) == {first: 1, second.version: 2}


# -- a DAG id in two files, a file deleted --------------------------------------------------------


def test_a_dag_id_defined_in_a_second_file_is_an_import_error_naming_the_first(engine: Engine, dags: Path) -> None:
    first = dags / "first.py"
    first.write_text(chain_dag("twice", ["from_first"]))
    processor = DagProcessor(dags, engine)
    processor.run_once()
    (dags / "second.py").write_text(chain_dag("twice", ["from_second"]))

    report = processor.run_once()

    assert report.errors == 1
    errors = import_errors(engine)
    assert list(errors) == ["second.py"]
    assert "twice" in errors["second.py"] and str(first) in errors["second.py"]
    dag = StoreGateway(engine).get_dag("twice")
    assert sorted(dag.task_dict) == ["from_first"]  # the first file keeps the DAG
    assert dag.fileloc == str(first)


def test_the_second_file_takes_over_a_dag_id_once_the_first_file_is_deleted(engine: Engine, dags: Path) -> None:
    first = dags / "first.py"
    first.write_text(chain_dag("twice", ["from_first"]))
    processor = DagProcessor(dags, engine)
    processor.run_once()
    (dags / "second.py").write_text(chain_dag("twice", ["from_second"]))
    processor.run_once()
    assert list(import_errors(engine)) == ["second.py"]

    first.unlink()
    processor.run_once()

    assert import_errors(engine) == {}
    assert sorted(StoreGateway(engine).get_dag("twice").task_dict) == ["from_second"]


def test_a_dag_moved_from_one_file_to_another_in_one_edit_stays_defined(engine: Engine, dags: Path) -> None:
    old_home, new_home = dags / "z_old_home.py", dags / "a_new_home.py"  # the new home is imported first
    old_home.write_text(chain_dag("moving", ["a"]))
    new_home.write_text(chain_dag("staying", ["a"]))
    processor = DagProcessor(dags, engine, parallelism=1)
    processor.run_once()

    old_home.write_text(chain_dag("renamed", ["a"]))
    new_home.write_text(chain_dag("staying", ["a"]) + chain_dag("moving", ["b"]).replace("the_dag", "moved"))
    processor.run_once()
    processor.run_once()

    assert import_errors(engine) == {}
    assert sorted(StoreGateway(engine).latest_dags()) == ["moving", "renamed", "staying"]
    assert sorted(StoreGateway(engine).get_dag("moving").task_dict) == ["b"]


def test_a_deleted_file_makes_its_dags_inactive_and_drops_its_import_error(engine: Engine, dags: Path) -> None:
    kept = dags / "kept.py"
    kept.write_text(chain_dag("kept", ["a"]))
    doomed = dags / "doomed.py"
    doomed.write_text(chain_dag("doomed", ["a"]))
    broken = write(dags / "broken.py", 'raise RuntimeError("a broken dag file")\n')
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    assert sorted(gateway.latest_dags()) == ["doomed", "kept"]
    assert list(import_errors(engine)) == ["broken.py"]

    # a file that imported once, then broke: its DAG stays as it was, with an import error
    doomed.write_text('raise RuntimeError("broke after a good import: a dag file")\n')
    processor.run_once()
    assert sorted(gateway.latest_dags()) == ["doomed", "kept"]
    assert sorted(import_errors(engine)) == ["broken.py", "doomed.py"]

    doomed.unlink()
    broken.unlink()
    processor.run_once()

    assert sorted(gateway.latest_dags()) == ["kept"]
    with pytest.raises(DagNotFound):
        gateway.get_dag("doomed")
    assert import_errors(engine) == {}
    with session_scope(engine) as session:
        assert sorted(dv.stored_files(session)) == [str(kept)]
    assert [s.dag_id for s in gateway.dag_changes(None) if not s.is_active] == ["doomed"]
    # a new processor agrees: nothing to import, nothing to forget
    fresh = DagProcessor(dags, engine)
    fresh.run_once()
    assert fresh.imports == 0
