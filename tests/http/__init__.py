"""End-to-end HTTP tests of the provider and operator functions (``ingest``, ``providers``)."""
