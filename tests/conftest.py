"""Shared fixtures: a clean environment, and a real database on SQLite and PostgreSQL.

PostgreSQL tests run when ``REVGATE_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) answers. With
``REVGATE_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) an unreachable server fails
the run instead of skipping, so a PostgreSQL test can never be skipped silently.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from agent.store.database import Database, normalise_url, upgrade

_ENV_PREFIXES = ("SLACK_", "ANTHROPIC_", "REVGATE_", "HUBSPOT_", "SALESFORCE_", "SF_")
_KEEP = {"REVGATE_TEST_POSTGRES_URL", "REVGATE_REQUIRE_POSTGRES"}
_PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a developer's Slack, Anthropic or CRM credentials."""
    for name in list(os.environ):
        if (name.startswith(_ENV_PREFIXES) and name not in _KEEP) or name == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)


def _postgres_admin_url() -> str:
    return normalise_url(os.environ.get("REVGATE_TEST_POSTGRES_URL", _PG_DEFAULT))


def _postgres_reachable() -> str | None:
    """None when reachable, else why not."""
    try:
        engine = sa.create_engine(_postgres_admin_url(), poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "not reachable"
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test gets a fresh copy of it."""
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("REVGATE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    # One template per pytest process, so parallel runs never share (or drop) it.
    template = f"revgate_test_template_{os.getpid()}"
    admin = sa.create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {template}"))
    template_url = make_url(_postgres_admin_url()).set(database=template).render_as_string(False)
    upgrade(template_url)
    yield template
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    name = f"revgate_test_{os.getpid()}_{next(_counter)}"
    admin = sa.create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    yield make_url(_postgres_admin_url()).set(database=name).render_as_string(False)
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'revgate.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on an embedded SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, auto_upgrade=False)
    if not database.is_current():
        upgrade(database_url)
    yield database
    database.dispose()


@pytest.fixture
def stack(database_url: str) -> Iterator[object]:
    """The whole agent over a fresh database (SQLite and PostgreSQL)."""
    from tests.support.stack import Stack

    built = Stack(database_url)
    yield built
    built.close()
