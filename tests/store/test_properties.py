"""Property: however a provider's retries interleave and reorder, the stored set is the same."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store.records import event

IDS = [f"e-{i}" for i in range(10)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_retried_and_reordered_inserts_store_each_event_exactly_once(store, data):
    # Each example writes under its own provider, so examples never see each other's events.
    provider_id = f"p-{uuid.uuid4().hex[:12]}"
    requests = data.draw(
        st.lists(st.lists(st.sampled_from(IDS), min_size=1, max_size=6), min_size=1, max_size=4)
    )
    retries = data.draw(st.lists(st.sampled_from(requests), max_size=3))
    sends = data.draw(st.permutations(requests + retries))
    events = {
        event_id: event(event_id, provider_id=provider_id, ingested=n) for n, event_id in enumerate(IDS)
    }

    first_stored: dict[str, int] = {}
    for attempt, ids in enumerate(sends):
        for event_id, new in zip(ids, store.insert_events([events[i] for i in ids]), strict=True):
            if new:
                assert event_id not in first_stored, f"{event_id} stored twice"
                first_stored[event_id] = attempt

    sent = {event_id for ids in sends for event_id in ids}
    assert set(first_stored) == sent  # every event sent was stored by exactly one call
    for event_id in IDS:
        assert store.get_event(provider_id, event_id) == (events[event_id] if event_id in sent else None)
