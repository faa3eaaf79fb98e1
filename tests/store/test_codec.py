"""The time text of the stores: the fast ``isoformat``/``fromisoformat`` path writes and reads exactly
what the ``strftime``/``strptime`` formulation did, for every instant and offset a store is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.store.codec import ISO_WIDTH, from_iso, to_iso

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# Aware instants anywhere in years 1000..9999 (four-digit years: the fixed width), with microseconds
# and any whole-minute UTC offset a client may send; naive values are taken as UTC.
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(1000, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.none() | st.just(UTC) | offsets,
)


def _reference_text(dt: datetime) -> str:
    at = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return at.strftime(FORMAT)


@given(instants)
def test_to_iso_writes_the_fixed_width_text(dt: datetime) -> None:
    text = to_iso(dt)
    assert text == _reference_text(dt)
    assert text is not None and len(text) == ISO_WIDTH


@given(instants)
def test_from_iso_reads_back_the_same_instant_in_utc(dt: datetime) -> None:
    text = to_iso(dt)
    assert text is not None
    parsed = from_iso(text)
    assert parsed == datetime.strptime(text, FORMAT).replace(tzinfo=UTC)
    assert parsed is not None and parsed.tzinfo is UTC
    assert parsed == (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt)


@given(st.lists(instants, min_size=2, max_size=2))
def test_text_order_is_time_order(pair: list[datetime]) -> None:
    first, second = (to_iso(dt) or "" for dt in pair)
    a, b = (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt for dt in pair)
    assert (first < second) == (a < b)


# Text of the stored width, made of the characters ISO text uses: the fast path must accept exactly
# what the strict parser accepts, and read it the same.
near_iso = st.text(alphabet="0123456789-:.TZ+ ", min_size=ISO_WIDTH, max_size=ISO_WIDTH) | instants.map(
    lambda dt: to_iso(dt) or ""
).flatmap(
    lambda text: st.tuples(st.integers(0, ISO_WIDTH - 1), st.sampled_from("0123456789-:.TZ+ ")).map(
        lambda edit: text[: edit[0]] + edit[1] + text[edit[0] + 1 :]
    )
)


@given(near_iso)
def test_from_iso_accepts_only_what_the_strict_format_accepts(text: str) -> None:
    try:
        expected = datetime.strptime(text, FORMAT).replace(tzinfo=UTC)
    except ValueError:
        with pytest.raises(ValueError):
            from_iso(text)
    else:
        assert from_iso(text) == expected


@pytest.mark.parametrize("text", ["2026-03-04T05:06:07Z", "2026-03-04T05:06:07.000001+00:00", "2026-03-04"])
def test_other_iso_forms_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        from_iso(text)


def test_none_stays_none() -> None:
    assert to_iso(None) is None and from_iso(None) is None


def test_text_of_the_stored_width_that_only_strptime_reads_is_still_read() -> None:
    # A space-padded day: fromisoformat refuses it, the strict format has always read it.
    assert from_iso("2026-03- 4T05:06:07.000089Z") == datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)
