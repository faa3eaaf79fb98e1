"""The BigQuery API emulator for a fixture's scope (``tools/bigquery_emulator.py`` installs and runs it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.bigquery_emulator import BigQueryEmulator, EmulatorMissing


def running_emulator() -> Iterator[BigQueryEmulator]:
    """A started emulator, or a skip with the reason it cannot be had here (not installable)."""
    emulator = BigQueryEmulator()
    try:
        emulator.start()
    except EmulatorMissing as exc:
        pytest.skip(str(exc))
    try:
        yield emulator
    finally:
        emulator.stop()
