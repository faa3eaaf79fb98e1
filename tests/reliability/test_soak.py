"""A short soak of the ingest stack: steady traffic, re-sent batches, store locks; zero errors,
stored == unique sent, memory flat."""

from __future__ import annotations

import pytest

from tools.reliability import soak


@pytest.mark.slow
def test_soak_stores_exactly_what_was_sent_with_flat_memory(tmp_path):
    result = soak.run(tmp_path, seconds=15, units_per_s=15, lock_every_s=5, max_growth=0.10)
    assert result.errors == 0, result.as_dict()
    assert set(result.answers.statuses) <= {200, 201, 503}
    assert result.locks_injected >= 2 and result.answers.retries >= 1
    assert result.ledger.resends > 0 and result.ledger.duplicates > 0
    # A steady rate, near the target (each unit is two or three requests).
    assert result.ledger.requests / result.seconds > 15
    assert result.store["exact"], result.store
    assert result.memory.flat, result.memory.as_dict()


def test_memory_judges_growth_after_the_warm_up():
    mib = 1024 * 1024
    warm_then_flat = soak.Memory(samples=[(t, (50 if t < 4 else 100) * mib) for t in range(40)])
    assert warm_then_flat.flat and warm_then_flat.growth == 0
    leaking = soak.Memory(samples=[(t, (100 + 2 * t) * mib) for t in range(40)])
    assert not leaking.flat and leaking.growth > 0.3
    with pytest.raises(ValueError, match="too few"):
        soak.Memory(samples=[(0, mib)] * 5).quarters()
