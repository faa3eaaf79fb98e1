"""No raw customer identifier reaches the warehouse, and pseudonyms keep what KPIs need of them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from shared.config import reset_settings, settings
from shared.privacy.pseudonym import SALT_FILE, Pseudonymizer, PseudonymSaltMissing, pseudonymizer
from tests.privacy.identifiers import customer_identifiers


def _text_cells(path: str) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text cell of every table in the DuckDB file."""
    cells = []
    with duckdb.connect(path, read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND data_type IN ('VARCHAR', 'JSON')"
        ).fetchall()
        for table, column in columns:
            for (value,) in con.execute(f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}"').fetchall():
                if value is not None:
                    cells.append((table, column, value))
    return cells


def test_no_raw_customer_identifier_reaches_any_warehouse_table(env, day_of_traffic, aggregate):
    report = aggregate()
    assert report.status == "ok" and report.kpi_rows_written > 0
    raw_ids = customer_identifiers(day_of_traffic)
    assert len(raw_ids) > 20  # the day really carries customers, contacts and customer parties
    cells = _text_cells(env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///"))
    assert {t for t, _, _ in cells} >= {"raw_conversations", "raw_events", "raw_activities", "kpi_daily"}
    leaks = [(t, c, v) for t, c, v in cells for raw in raw_ids if raw in v]
    assert leaks == []
    pseudonymous = [v for t, c, v in cells if (t, c) == ("raw_conversations", "customer_id")]
    assert pseudonymous and all(v.startswith("ps_") for v in pseudonymous)


def test_pseudonyms_group_conversations_exactly_as_the_customer_ids_do(env, day_of_traffic, aggregate, store):
    """First-contact resolution only compares customers: the grouping it sees must be unchanged."""
    aggregate()
    path = env["ANALYTICS_WAREHOUSE"].removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute("SELECT conversation_id, customer_id FROM raw_conversations").fetchall()
        fcr = con.execute(
            "SELECT COUNT(*) FROM kpi_daily WHERE kpi = 'first_contact_resolution_rate' AND denominator > 0"
        ).fetchone()[0]
    by_pseudonym: dict[str | None, set[str]] = defaultdict(set)
    by_customer: dict[str | None, set[str]] = defaultdict(set)
    for conversation_id, pseudonym in rows:
        by_pseudonym[pseudonym].add(conversation_id)
        stored = store.get_conversation("acme", conversation_id)
        assert stored is not None
        by_customer[stored.data.get("customerId")].add(conversation_id)
    assert sorted(map(sorted, by_pseudonym.values())) == sorted(map(sorted, by_customer.values()))
    assert any(len(group) > 1 for key, group in by_customer.items() if key)  # repeat customers exist
    assert fcr > 0


def test_pseudonyms_are_keyed_and_separated_per_provider():
    one, other = Pseudonymizer(b"k" * 32), Pseudonymizer(b"j" * 32)
    assert one("acme", "cust-1") == one("acme", "cust-1")
    assert one("acme", "cust-1") != one("globex", "cust-1")  # domain separation by provider
    assert one("acme", "cust-1") != other("acme", "cust-1")  # another salt, unrelated pseudonyms
    assert "cust-1" not in one("acme", "cust-1")
    with pytest.raises(ValueError, match="at least 16"):
        Pseudonymizer(b"short")


def test_embedded_setup_creates_one_private_salt_beside_the_store(env):
    first = pseudonymizer()
    path = Path(settings().store_url.removeprefix("sqlite:///")).parent / SALT_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert pseudonymizer()("acme", "c") == first("acme", "c")  # read back, not regenerated


def test_the_cloud_refuses_without_a_salt_and_uses_the_configured_one(monkeypatch):
    monkeypatch.setenv("ANALYTICS_STORE", "firestore://demo-project")
    monkeypatch.delenv("ANALYTICS_PSEUDONYM_SALT", raising=False)
    reset_settings()
    try:
        with pytest.raises(PseudonymSaltMissing, match="ANALYTICS_PSEUDONYM_SALT"):
            pseudonymizer()
        monkeypatch.setenv("ANALYTICS_PSEUDONYM_SALT", "a-long-enough-secret-salt")
        reset_settings()
        assert pseudonymizer() == Pseudonymizer(b"a-long-enough-secret-salt")
    finally:
        reset_settings()


def test_the_aggregate_function_answers_503_without_a_salt(env, monkeypatch, admin):
    from tests.support.functions import function_client

    monkeypatch.setenv("ANALYTICS_STORE", "sqlite:///:memory:")
    reset_settings()
    # An in-memory store has a process salt; a cloud store has none: simulate the cloud's refusal.
    monkeypatch.setattr("shared.aggregate.run.pseudonymizer", _missing)
    answer = function_client("aggregate").post("/", headers=admin)
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "privacy_not_configured"


def _missing() -> Pseudonymizer:
    raise PseudonymSaltMissing("ANALYTICS_PSEUDONYM_SALT is not set")
