"""The committed data dictionary is exactly what the catalog and table declarations generate."""

from __future__ import annotations

from shared.kpi.catalog import CATALOG
from shared.kpi.dictionary import DICTIONARY, declared_tables, render_dictionary


def test_committed_dictionary_is_current():
    assert DICTIONARY.read_text(encoding="utf-8") == render_dictionary(), (
        "docs/data-dictionary.md is out of date: run python -m shared.kpi.dictionary"
    )


def test_dictionary_documents_every_kpi_table_and_column():
    text = render_dictionary()
    for kpi in CATALOG:
        assert f"| `{kpi.name}` | {kpi.unit} |" in text
    for table in declared_tables():
        assert f"### `{table.name}`" in text
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} |" in text
    assert "fact_sessions" in {t.name for t in declared_tables()}
