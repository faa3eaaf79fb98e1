"""Provider-facing ingestion: conversations, KPI events, activities."""
