"""The KPI catalog: every KPI declared once, as data, in the module of its family
(``shared/kpi/families/``), collected here in family order.

Names, units and meanings follow the product contract. To add a KPI, append a declaration to its
family's module; the SQL, the data dictionary and the catalog tests pick it up, and the reference
implementation (``shared.kpi.reference``) must learn it for the oracle tests to pass.
"""

from __future__ import annotations

from shared.kpi.families import FAMILY_KPIS
from shared.kpi.families.conversations import SERVICE_LEVEL_SECONDS
from shared.kpi.model import Kpi

__all__ = ["CATALOG", "SERVICE_LEVEL_SECONDS", "by_name", "of_family"]

CATALOG: tuple[Kpi, ...] = tuple(kpi for kpis in FAMILY_KPIS.values() for kpi in kpis)


def by_name() -> dict[str, Kpi]:
    return {kpi.name: kpi for kpi in CATALOG}


def of_family(name: str) -> tuple[Kpi, ...]:
    return tuple(kpi for kpi in CATALOG if kpi.family == name)


def _check_unique() -> None:
    names = [kpi.name for kpi in CATALOG]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"KPI names must be unique; declared twice: {duplicates}")


_check_unique()
