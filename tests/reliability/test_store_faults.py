"""The store goes away under load: a real ingest process answers 503 + Retry-After, never a 500, and
clients that retry end with every unique event stored exactly once."""

from __future__ import annotations

import pytest

from tools.reliability import firestore_outage, sqlite_lock

ALLOWED = {200, 201, 503}


@pytest.mark.slow
def test_sqlite_locked_by_another_process(tmp_path):
    result = sqlite_lock.run(tmp_path, seconds=5, locks_every_s=1.5, hold_s=1.0, busy_timeout_ms=200)
    assert result.locks_injected >= 2
    assert set(result.answers.statuses) <= ALLOWED, result.answers.statuses
    # Every lock outlasted the busy timeout: clients were told to come back, and did.
    assert result.answers.statuses[503] >= 1
    assert result.answers.retries == result.answers.statuses[503]
    assert not result.answers.violations
    assert result.ledger.resends > 0 and result.ledger.duplicates > 0
    assert result.store["exact"], result.store
    # A SQLite batch commits whole or not at all: the server's own counts add up exactly too.
    assert result.ledger.accepted == result.ledger.unique_events


@pytest.mark.slow
@pytest.mark.emulator
def test_firestore_stopped_and_restarted_mid_load(tmp_path, firestore_emulator):
    # The store deadline (3 s) is well under the outage (6 s): calls meanwhile must end in 503.
    result = firestore_outage.run(
        tmp_path, firestore_emulator, outages=1, before_s=2.0, outage_s=6.0, after_s=1.0, store_deadline_s=3.0
    )
    assert result.outages == 1
    assert set(result.answers.statuses) <= ALLOWED, result.answers.statuses
    assert result.answers.statuses[503] >= 1  # the outage was seen by clients
    assert not result.answers.violations
    assert result.recovery_s and result.recovery_s[0] < 60
    # Sent during, before and after the outage: stored once each, nothing lost, nothing doubled.
    assert result.ledger.unique_events > 0 and result.ledger.duplicates > 0
    assert result.store["exact"], result.store
    assert firestore_emulator.running
