"""Channel Analytics: the package every function imports (schema, KPIs, stores, warehouse, auth)."""
