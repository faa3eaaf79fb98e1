"""Test helpers shared by the suites (no product code lives here)."""
