"""Benchmarks of Channel Analytics: ``make bench`` (``python -m tools.bench``).

Every figure is measured next to a floor taken in the same run on the same machine (an empty
function, a minimal validate-and-insert function, a single GROUP BY, ...), and reported as a ratio:
absolute times on shared machines drift, ratios to a floor much less so.
"""
