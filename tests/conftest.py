"""Shared fixtures: the tables are verified once per test session."""

from __future__ import annotations

import pytest

from matcalc.tablecheck import EntryResult, check_all
from matcalc.tables import Tables, load_tables


#: fixtures that check every table entry or every corpus item: a test using one is slow
TABLE_WIDE = frozenset({"table_results", "corpus_results"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the table-wide tests ``slow`` (``-m 'not slow'`` leaves them out)."""
    for item in items:
        if TABLE_WIDE & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tables() -> Tables:
    return load_tables()


@pytest.fixture(scope="session")
def table_results(tables: Tables) -> dict[str, EntryResult]:
    """Every entry checked by both engines, in every layout it states."""
    return {r.key: r for r in check_all(list(tables))}


@pytest.fixture(autouse=True)
def every_json_document_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever any test makes the command print with --json is checked against
    the published schema (matcalc/data/verdict.schema.json) on its way out."""
    import json

    from matcalc import cli
    from matcalc.rendering.jsondoc import schema

    from schemacheck import errors

    printer = cli.print_json
    published = schema()

    def checked(value: dict) -> None:
        plain = json.loads(json.dumps(value, allow_nan=False))
        problems = errors(plain, published)
        assert not problems, "\n".join(problems[:10])
        printer(value)

    monkeypatch.setattr(cli, "print_json", checked)
