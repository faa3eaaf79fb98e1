"""The catalog: every KPI the product pins, once, in its family, with valid units and dimensions; and
the reference's own units and thresholds agree with it (the reference never reads the catalog)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.kpi.catalog import CATALOG, SERVICE_LEVEL_SECONDS, by_name
from shared.kpi.families import FAMILIES, FAMILY_KPIS
from shared.kpi.model import Kpi, count, total
from shared.kpi.reference import FAMILY_REFERENCES
from shared.kpi.reference.conversations import SERVICE_LEVELS_S

# The names docs/PRODUCT pins for "Contact center — conversations" and "— sessions", verbatim.
CONVERSATION_NAMES = {
    "incoming_conversations", "outgoing_conversations", "conversations_handled", "conversations_abandoned",
    "abandon_rate", "avg_speed_to_answer_s", "avg_time_to_abandon_s", "service_level_10s_rate",
    "service_level_20s_rate", "service_level_30s_rate", "service_level_60s_rate", "service_level_120s_rate",
    "avg_handle_time_s", "avg_hold_time_s", "avg_wrap_up_time_s", "avg_conversation_time_s", "transfer_rate",
    "avg_first_response_time_s", "csat_rate", "nps", "first_contact_resolution_rate",
}  # fmt: skip
SESSION_NAMES = {
    "incoming_sessions", "sessions_engaged", "sessions_rejected", "session_rejection_rate",
    "sessions_timed_out", "session_timeout_rate", "sessions_transferred", "session_transfer_rate",
    "avg_session_time_to_accept_s", "avg_session_time_to_reject_s", "avg_session_handle_time_s",
    "avg_session_wait_time_s", "consults_requested", "consults_accepted", "consult_acceptance_rate",
}  # fmt: skip
# "Chatbot engagement", verbatim: session KPIs on the start day, every other one on the event's day.
CHAT_SESSION_NAMES = {
    "chat_sessions", "chat_sessions_with_conversation", "chat_bounces", "chat_bounce_rate",
    "screen_time_min", "chat_sessions_mobile", "chat_sessions_desktop",
}  # fmt: skip
CHAT_EVENT_NAMES = {
    "chat_starts", "participants", "participations", "new_customers", "webpush_asked",
    "webpush_optins_single", "webpush_optins_double", "reminder_optins_single", "reminder_optins_double",
    "shares_facebook", "shares_email", "shares_native", "shares_twitter", "shares_whatsapp",
    "advent_calendar_opened", "chat_nps", "chat_nps_detractors", "chat_nps_passives", "chat_nps_promoters",
    *(f"chat_nps_score_{n}" for n in range(11)), "pins_sent", "pins_succeeded", "pins_failed",
}  # fmt: skip


def test_every_pinned_name_is_declared_once_in_its_family():
    names = [kpi.name for kpi in CATALOG]
    assert len(names) == len(set(names))
    assert {k.name for k in CATALOG if k.family == "conversation"} == CONVERSATION_NAMES
    assert {k.name for k in CATALOG if k.family == "session"} == SESSION_NAMES
    assert {k.name for k in CATALOG if k.family == "chat_session"} == CHAT_SESSION_NAMES
    assert {k.name for k in CATALOG if k.family == "chat_event"} == CHAT_EVENT_NAMES
    assert {k.name for k in CATALOG if k.family == "erasure"} == {"customers_deleted"}


def test_the_reference_knows_every_kpi_in_the_catalog_unit():
    """The reference declares its own units (it must not read them from the catalog, or a wrong unit
    would pass on both sides); here the two independent declarations meet."""
    assert set(FAMILY_REFERENCES) == set(FAMILIES) == set(FAMILY_KPIS)
    for family, (_, units) in FAMILY_REFERENCES.items():
        assert units == {k.name: k.unit for k in CATALOG if k.family == family}, family


def test_the_reference_service_levels_are_the_catalog_ones():
    assert SERVICE_LEVELS_S == SERVICE_LEVEL_SECONDS


def test_units_follow_the_naming_convention():
    for kpi in CATALOG:
        if kpi.name.endswith("_s"):
            assert kpi.unit == "seconds", kpi.name
        elif kpi.name.endswith("_rate"):
            assert kpi.unit == "ratio", kpi.name
        elif kpi.name.endswith("_min"):
            assert kpi.unit == "minutes", kpi.name
        elif kpi.name in ("nps", "chat_nps"):
            assert kpi.unit == "score"
        else:
            assert kpi.unit == "count", kpi.name


def test_every_kpi_slices_by_its_product_dimensions():
    for kpi in CATALOG:
        if kpi.family in ("conversation", "session"):
            assert kpi.dimensions == ("channel", "queue_id", "agent_id"), kpi.name
        else:
            assert kpi.dimensions == ("experience_id",), kpi.name


def test_only_distinct_counts_are_not_additive():
    assert {k.name for k in CATALOG if not k.additive} == {"participants"}


def test_formulas_read_in_words():
    kpis = by_name()
    assert kpis["abandon_rate"].formula_in_words() == (
        "(number of rows where `incoming AND abandoned`) ÷ (number of rows where `incoming`)"
    )
    assert kpis["nps"].formula_in_words().startswith("100 × (sum of `nps_promoters - nps_detractors`)")


def _declare(**changes) -> Kpi:
    fields = dict(
        name="example_rate", family="session", kind="ratio", unit="ratio",
        description="An example ratio for validation tests.",
        numerator=count("accepted"), denominator=count("incoming"),
    )  # fmt: skip
    fields.update(changes)
    return Kpi(**fields)


def test_a_valid_declaration_is_accepted():
    assert _declare().name == "example_rate"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"numerator": count("acepted")}, "not columns of fact_sessions"),
        ({"numerator": total("SUM(")}, "not a SQL expression"),
        ({"unit": "seconds"}, "measured in ratio"),
        ({"name": "example_ratio"}, "ratios end in _rate"),
        ({"denominator": None}, "counts and totals have no denominator"),
        ({"dimensions": ("channel",)}, "sliced by"),
        ({"family": "chatbot"}, "family"),
        ({"name": "Example Rate"}, "pattern"),
    ],
)
def test_invalid_declarations_are_refused(changes, message):
    with pytest.raises(ValidationError, match=message):
        _declare(**changes)


def test_stored_families_partition_their_facts_by_the_attribution_day():
    for family in (f for f in FAMILIES.values() if f.stored):
        columns = {c.name: c for c in family.fact.columns}
        assert columns[family.day_column].type == "TIMESTAMP"
        assert family.fact.partition_by == family.day_column
        assert family.fact.cluster_by == ("provider_id",)


def test_the_generator_aims_at_the_catalog_thresholds():
    """tests/kpi/traffic.py hits each service level's threshold on purpose, from its own list."""
    from tests.kpi.traffic import SERVICE_LEVELS_S as GENERATED

    assert GENERATED == SERVICE_LEVEL_SECONDS
