"""Fault campaigns and the load soak: what ``make reliability`` runs long and ``make test`` runs short.

Each campaign is a function that takes its size, starts the real processes it needs (functions under
functions-framework as ``tools.serve`` runs them, ``tools.aggregate`` subprocesses, the Firestore
emulator), injects its fault, checks the outcome and returns its figures. ``python -m tools.reliability``
runs them all and writes the figures that RELIABILITY.md quotes; ``tests/reliability`` runs them small.
"""
