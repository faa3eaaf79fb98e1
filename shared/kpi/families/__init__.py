"""The KPI families, in the order a run replaces their facts (each after those it depends on).

To add a family: declare its fact table in ``shared/warehouse/tables.py``, write one module here with
its ``Family`` and KPIs (and its fact SQL), one reference module in ``shared/kpi/reference/``, and list
both below. The aggregation, the KPI SQL, the affected days and the data dictionary follow.
"""

from __future__ import annotations

from shared.kpi.families.chat_events import CHAT_EVENT, CHAT_EVENT_KPIS
from shared.kpi.families.chat_sessions import CHAT_SESSION, CHAT_SESSION_KPIS
from shared.kpi.families.conversations import CONVERSATION, CONVERSATION_KPIS
from shared.kpi.families.erasures import ERASURE, ERASURE_KPIS
from shared.kpi.families.relationships import RELATIONSHIP
from shared.kpi.families.sessions import SESSION, SESSION_KPIS
from shared.kpi.model import Family, Kpi, Scope

FAMILIES: dict[str, Family] = {
    f.name: f for f in (SESSION, CONVERSATION, CHAT_EVENT, CHAT_SESSION, ERASURE, RELATIONSHIP)
}
# In catalog order (the data dictionary and kpi_daily's SQL follow it).
FAMILY_KPIS: dict[str, tuple[Kpi, ...]] = {
    "conversation": CONVERSATION_KPIS,
    "session": SESSION_KPIS,
    "chat_event": CHAT_EVENT_KPIS,
    "chat_session": CHAT_SESSION_KPIS,
    "erasure": ERASURE_KPIS,
    "relationship": (),  # its KPIs are the columns of the relationship snapshot tables
}


def ordered(families: dict[str, Family] | None = None) -> list[Family]:
    """``families`` (default: all) in dependency order: every family after those it depends on."""
    pending = dict(families if families is not None else FAMILIES)
    out: list[Family] = []
    while pending:
        ready = [f for f in pending.values() if all(d not in pending for d in f.depends_on)]
        if not ready:
            raise ValueError(f"families depend on each other in a cycle: {sorted(pending)}")
        for family in ready:
            out.append(pending.pop(family.name))
    return out


def scopes(families: list[Family]) -> list[Scope]:
    """The scopes the stored families need, each once and after the scopes it reads."""
    found: dict[str, Scope] = {}

    def add(scope: Scope) -> None:
        for parent in scope.parents:
            add(parent)
        found.setdefault(scope.name, scope)

    for family in families:
        if family.scope is not None:
            add(family.scope)
    return list(found.values())
