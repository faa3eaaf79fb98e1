"""Which warehouse tables and views BI users may read: the rule of the reporting dataset.

The cloud deployment gives BI tools a dataset of their own (infra/reporting.tf, docs/deploy.md "BI
access") holding one authorized view per exposed relation; readers of that dataset see the KPIs and
nothing else. The rule is by name, so a table or view declared later joins (or stays out)
without anyone editing a list:

- every table and view the warehouse declares is exposed,
- except names starting with ``raw_`` (copies of the operational store) or ``fact_`` (one row per
  conversation or session): they hold pseudonymised customer ids and provider-chosen ids row by
  row, for drill-down by analysts who are granted the warehouse itself,
- and except the operational records in ``PRIVATE`` (not KPIs).

A safety net under the rule: an exposed relation must not have a column that identifies a
customer (``CUSTOMER_COLUMNS``). ``make infra-gen`` and the tests fail on such a declaration, so a
new per-customer table cannot reach BI users through a naming slip: name it ``raw_``/``fact_`` or
list it in ``PRIVATE``.
"""

from __future__ import annotations

from collections.abc import Iterable

PRIVATE_PREFIXES = ("raw_", "fact_")
PRIVATE = {
    "customer_erasures": "erasure receipts, an operational record and not a KPI",
}
# Columns that identify one customer (pseudonymised in the warehouse, docs/privacy.md).
CUSTOMER_COLUMNS = frozenset({"customer_id", "contact_id"})


def private_reason(name: str) -> str | None:
    """Why ``name`` stays out of the reporting dataset, or ``None`` when it is exposed."""
    if name.startswith("raw_"):
        return "a copy of the operational store, with pseudonymised customer ids row by row"
    if name.startswith("fact_"):
        return "one row per conversation or session, with pseudonymised customer ids"
    return PRIVATE.get(name)


def is_exposed(name: str) -> bool:
    return private_reason(name) is None


def customer_columns(columns: Iterable[str]) -> list[str]:
    """The columns of an exposed relation that would identify a customer (must be none)."""
    return sorted(set(columns) & CUSTOMER_COLUMNS)
