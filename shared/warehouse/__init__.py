"""The warehouse: one port, a DuckDB and a BigQuery adapter; tables declared once in ``tables.py``."""
