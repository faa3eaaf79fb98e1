"""The KPI catalog: every KPI declared once, as data (see ``shared.kpi.model``).

Names, units and meanings follow the product contract. Conversation and session KPIs are attributed
to the UTC day the conversation (session) closed and can be sliced by channel, queue and agent.
To add a KPI, append a declaration here; the SQL, the data dictionary and the catalog tests pick it
up, and the reference implementation (``shared.kpi.reference``) must learn it for the tests to pass.
"""

from __future__ import annotations

from shared.kpi.model import Kpi, average_of, count, total

SERVICE_LEVEL_SECONDS: tuple[int, ...] = (10, 20, 30, 60, 120)


def _counted(name: str, family: str, description: str, filter: str) -> Kpi:
    return Kpi(
        name=name, family=family, kind="count", unit="count", description=description, numerator=count(filter)
    )


def _rate(name: str, family: str, description: str, numerator: str, denominator: str) -> Kpi:
    return Kpi(
        name=name,
        family=family,
        kind="ratio",
        unit="ratio",
        description=description,
        numerator=count(numerator),
        denominator=count(denominator),
    )


def _average(name: str, family: str, description: str, expr: str, filter: str | None = None) -> Kpi:
    numerator, denominator = average_of(expr, filter)
    return Kpi(
        name=name,
        family=family,
        kind="average",
        unit="seconds",
        description=description,
        numerator=numerator,
        denominator=denominator,
    )


CONVERSATION_KPIS: tuple[Kpi, ...] = (
    _counted(
        "incoming_conversations",
        "conversation",
        "Inbound conversations closed that day in which an agent was offered a session.",
        "incoming",
    ),
    _counted(
        "outgoing_conversations",
        "conversation",
        "Outbound conversations closed that day.",
        "direction = 'outbound'",
    ),
    _counted(
        "conversations_handled",
        "conversation",
        "Conversations closed that day in which an agent accepted a session.",
        "handled",
    ),
    _counted(
        "conversations_abandoned",
        "conversation",
        "Inbound conversations closed that day that no agent accepted.",
        "abandoned",
    ),
    _rate(
        "abandon_rate",
        "conversation",
        "Share of incoming conversations that were abandoned (offered to an agent, never accepted).",
        "incoming AND abandoned",
        "incoming",
    ),
    _average(
        "avg_speed_to_answer_s",
        "conversation",
        "Seconds from the first queue entry (else the conversation start) to the first agent accept, "
        "over handled inbound conversations.",
        "speed_to_answer_s",
    ),
    _average(
        "avg_time_to_abandon_s",
        "conversation",
        "Seconds from the first queue entry (else the conversation start) to the close, over abandoned "
        "conversations.",
        "time_to_abandon_s",
    ),
    *(
        _rate(
            f"service_level_{seconds}s_rate",
            "conversation",
            f"Share of handled inbound conversations answered within {seconds} s (≤ {seconds} s).",
            f"speed_to_answer_s <= {seconds}",
            "speed_to_answer_s IS NOT NULL",
        )
        for seconds in SERVICE_LEVEL_SECONDS
    ),
    _average(
        "avg_handle_time_s",
        "conversation",
        "Handle seconds summed over the accepted primary-agent sessions, averaged over handled "
        "conversations.",
        "handle_s",
        "handled",
    ),
    _average(
        "avg_hold_time_s",
        "conversation",
        "CallHold to CallUnhold seconds summed per conversation, averaged over handled conversations.",
        "hold_s",
        "handled",
    ),
    _average(
        "avg_wrap_up_time_s",
        "conversation",
        "WrapUpStarted to session close, summed over the accepted agent sessions, averaged over "
        "handled conversations.",
        "wrap_up_s",
        "handled",
    ),
    _average(
        "avg_conversation_time_s",
        "conversation",
        "Seconds from conversation start to close, over closed conversations.",
        "conversation_time_s",
    ),
    _rate(
        "transfer_rate",
        "conversation",
        "Share of handled conversations with an agent session that closed with reason Transferred.",
        "handled AND transferred",
        "handled",
    ),
    _average(
        "avg_first_response_time_s",
        "conversation",
        "Seconds from the first customer message to the first agent message after it.",
        "first_response_s",
    ),
    Kpi(
        name="csat_rate",
        family="conversation",
        kind="ratio",
        unit="ratio",
        description="Share of csat answers (1-5) that are 4 or 5 (top-2 box); missing answers are excluded.",
        numerator=total("csat_top2"),
        denominator=total("csat_answers"),
    ),
    Kpi(
        name="nps",
        family="conversation",
        kind="score",
        unit="score",
        description="Net promoter score: % promoters (9-10) minus % detractors (0-6) of the nps answers.",
        numerator=total("nps_promoters - nps_detractors"),
        denominator=total("nps_answers"),
    ),
    _rate(
        "first_contact_resolution_rate",
        "conversation",
        "Share of resolved conversations (of a known customer) whose customer opened no other inbound "
        "conversation in the 72 hours after the close.",
        "first_contact_resolved",
        "fcr_eligible",
    ),
)

SESSION_KPIS: tuple[Kpi, ...] = (
    _counted(
        "incoming_sessions", "session", "Agent sessions offered to their agent, closed that day.", "incoming"
    ),
    _counted("sessions_engaged", "session", "Agent sessions the agent accepted.", "accepted"),
    _counted("sessions_rejected", "session", "Agent sessions the agent rejected.", "rejected"),
    _rate("session_rejection_rate", "session", "Rejected ÷ incoming sessions.", "rejected", "incoming"),
    _counted("sessions_timed_out", "session", "Agent sessions whose offer timed out.", "timed_out"),
    _rate("session_timeout_rate", "session", "Timed-out ÷ incoming sessions.", "timed_out", "incoming"),
    _counted(
        "sessions_transferred",
        "session",
        "Incoming sessions that closed with reason Transferred.",
        "incoming AND transferred",
    ),
    _rate(
        "session_transfer_rate",
        "session",
        "Transferred ÷ incoming sessions.",
        "incoming AND transferred",
        "incoming",
    ),
    _average(
        "avg_session_time_to_accept_s",
        "session",
        "Seconds from the offer (NotificationReceived, else agent assigned) to the accept.",
        "time_to_accept_s",
        "accepted",
    ),
    _average(
        "avg_session_time_to_reject_s",
        "session",
        "Seconds from the offer (NotificationReceived, else agent assigned) to the reject.",
        "time_to_reject_s",
        "rejected",
    ),
    _average(
        "avg_session_handle_time_s",
        "session",
        "Focused seconds (SessionInFocus/SessionOutOfFocus) where present, else started to closed; "
        "wrap-up included; over accepted sessions.",
        "handle_s",
        "accepted",
    ),
    _average(
        "avg_session_wait_time_s",
        "session",
        "Seconds from queue assignment to the accept.",
        "wait_s",
        "accepted",
    ),
    Kpi(
        name="consults_requested",
        family="session",
        kind="count",
        unit="count",
        description="Consult agents added to sessions closed that day.",
        numerator=total("consults_requested"),
    ),
    Kpi(
        name="consults_accepted",
        family="session",
        kind="count",
        unit="count",
        description="Consult agents who accepted the consult.",
        numerator=total("consults_accepted"),
    ),
    Kpi(
        name="consult_acceptance_rate",
        family="session",
        kind="ratio",
        unit="ratio",
        description="Accepted ÷ requested consults.",
        numerator=total("consults_accepted"),
        denominator=total("consults_requested"),
    ),
)

PRIVACY_KPIS: tuple[Kpi, ...] = (
    Kpi(
        name="customers_deleted",
        family="erasure",
        kind="count",
        unit="count",
        description="Customers erased on the provider's request that day (DELETE /v1/customers/{id}); "
        "erasing a customer again counts once.",
        numerator=count(),
        dimensions=(),
    ),
)

CATALOG: tuple[Kpi, ...] = (*CONVERSATION_KPIS, *SESSION_KPIS, *PRIVACY_KPIS)


def by_name() -> dict[str, Kpi]:
    return {kpi.name: kpi for kpi in CATALOG}


def _check_unique() -> None:
    names = [kpi.name for kpi in CATALOG]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"KPI names must be unique; declared twice: {duplicates}")


_check_unique()
