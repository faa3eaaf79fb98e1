"""Contact-center KPIs: the catalog (each KPI declared once), its SQL for DuckDB and BigQuery, the
fact tables it reads, and a plain-Python reference implementation that the tests hold the SQL to."""
