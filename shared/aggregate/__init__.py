"""The scheduled aggregation: operational store → warehouse raw tables → facts → ``kpi_daily``.

``run_aggregation(store, warehouse, now, days=None)`` is the one entry point; see docs/aggregation.md.
"""
