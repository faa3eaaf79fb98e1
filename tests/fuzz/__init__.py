"""Fuzzing of the two provider/operator HTTP functions (``ingest`` and ``providers``).

Sized for ``make test`` by default; set ``CA_FUZZ_EXAMPLES`` for a longer run (see ``harness``).
"""
