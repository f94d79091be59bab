"""``tradewind info``: where everything is, for a newcomer and for a bug report."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

import click

from tradewind import __version__
from tradewind.cli.output import output_option, print_json
from tradewind.config import conf, home


def _database() -> dict[str, Any]:
    """The store's URL (password masked) and its schema revision, without creating anything."""
    from sqlalchemy.engine import make_url

    from tradewind.store.engine import current_revision, database_url, describe_url, make_engine, shipped_head

    url = database_url()
    found: dict[str, Any] = {"url": describe_url(url), "revision": None, "head": shipped_head(), "status": ""}
    target = make_url(url)
    if target.get_backend_name() == "sqlite" and target.database not in (None, "", ":memory:"):
        if not Path(target.database).expanduser().exists():
            found["status"] = "not created yet (`tradewind db migrate`, or any command that needs it, creates it)"
            return found
    try:
        engine = make_engine(url)
        found["revision"] = current_revision(engine)
        engine.dispose()
    except Exception as exc:  # an unreachable server is something to report, not a crash
        found["status"] = f"cannot be read: {' '.join(str(exc).split())[:200]}"
        return found
    if found["revision"] is None:
        found["status"] = "empty (`tradewind db migrate` creates the schema)"
    elif found["revision"] == found["head"]:
        found["status"] = f"schema up to date (revision {found['revision']})"
    else:
        found["status"] = (
            f"schema at revision {found['revision']}, this version needs {found['head']}: run `tradewind db migrate`"
        )
    return found


def gather() -> dict[str, Any]:
    """What ``tradewind info`` prints, as a dict (its JSON output)."""
    from tradewind.executors.local import default_log_folder

    config_file = home() / "tradewind.toml"
    overrides = sorted(name for name in os.environ if name.startswith("TRADEWIND__"))
    parallelism = conf.get("core", "parallelism")
    return {
        "version": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "home": str(home()),
        "home_from": "TRADEWIND_HOME" if os.environ.get("TRADEWIND_HOME") else "default (~/tradewind)",
        "config_file": str(config_file),
        "config_file_exists": config_file.is_file(),
        "environment_overrides": overrides,
        "database": _database(),
        "executor": "local",
        "parallelism": int(parallelism) if parallelism else os.cpu_count() or 1,
        "dags_folder": str(conf.dags_folder()),
        "dags_folder_exists": conf.dags_folder().is_dir(),
        "logs_folder": str(default_log_folder()),
    }


@click.command("info")
@output_option
def info(output: str) -> None:
    """Print the version, home, config file, database, executor and DAGs folder in use."""
    found = gather()
    if output == "json":
        print_json(found)
        return
    db = found["database"]
    config = found["config_file"] + ("" if found["config_file_exists"] else "  (not found: defaults in use)")
    lines = [
        ("tradewind", found["version"]),
        ("python", found["python"]),
        ("platform", found["platform"]),
        ("home", f"{found['home']}  (from {found['home_from']})"),
        ("config file", config),
        ("overrides", ", ".join(found["environment_overrides"]) or "none (TRADEWIND__SECTION__KEY variables)"),
        ("database", f"{db['url']}: {db['status']}"),
        ("executor", f"{found['executor']}, {found['parallelism']} worker process(es)"),
        ("DAGs folder", found["dags_folder"] + ("" if found["dags_folder_exists"] else "  (does not exist)")),
        ("task logs", found["logs_folder"]),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        click.echo(f"{name.ljust(width)}  {value}")
