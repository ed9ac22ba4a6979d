"""A migrated SQLite database per test for a remote adapter's idempotency ledger, made fast.

Running the migrations is the slow part, so they run once per process into a template
that each test copies.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from agent.store.database import Database, upgrade


@functools.cache
def _template() -> Path:
    directory = tempfile.mkdtemp(prefix="revgate-ledger-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = Path(directory) / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def ledger_database(directory: Path) -> Database:
    """A migrated SQLite database of its own in ``directory``."""
    path = directory / "ledger.db"
    shutil.copyfile(_template(), path)
    return Database(f"sqlite:///{path}", auto_upgrade=False)
