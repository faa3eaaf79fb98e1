"""Operator-facing logic: providers, keys, the analytics flag, custom events, failed events."""
