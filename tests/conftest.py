"""Shared fixtures: the tables are verified once per test session."""

from __future__ import annotations

import pytest

from matcalc.tablecheck import EntryResult, check_all
from matcalc.tables import Tables, load_tables


@pytest.fixture(scope="session")
def tables() -> Tables:
    return load_tables()


@pytest.fixture(scope="session")
def table_results(tables: Tables) -> dict[str, EntryResult]:
    """Every entry checked by both engines, in every layout it states."""
    return {r.key: r for r in check_all(list(tables))}
