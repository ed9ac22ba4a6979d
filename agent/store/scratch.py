"""Scratch databases on a PostgreSQL server, for the benchmarks: created migrated, dropped after."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent.store.database import normalise_url, upgrade


def create_scratch_database(server_url: str, prefix: str) -> str:
    """The URL of a new, migrated database ``<prefix>_<pid>`` on the server of ``server_url``
    (the database that URL names is left alone)."""
    name = f"{prefix}_{os.getpid()}"
    engine = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    """Drop the database ``url`` names, closing its connections first."""
    scratch = make_url(url)
    engine = create_engine(
        normalise_url(scratch.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    engine.dispose()
