"""Shared, read-only reference data for the enrichment tests (built once: parsing is not free)."""

from __future__ import annotations

import pytest

from agent.enrich import DomainParser, Geography, ReferenceLists, load_reference_lists


@pytest.fixture(scope="session")
def domains() -> DomainParser:
    return DomainParser()


@pytest.fixture(scope="session")
def lists() -> ReferenceLists:
    return load_reference_lists()


@pytest.fixture(scope="session")
def geography() -> Geography:
    return Geography()
