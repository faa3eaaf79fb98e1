"""``parse_json`` checks most bodies with a walk over containers only, and the rare body with a
``\\uD8xx``-``\\uDFxx`` escape with the full walk over every string: both must refuse exactly the same
bodies for depth, and the full walk must still find lone surrogates."""

from __future__ import annotations

import json

import pytest

from shared.errors import ApiError
from shared.http.body import parse_json

# An escaped backslash followed by "ud800" is the six characters \ud800, not a surrogate: it sends
# the body down the full walk without being an error itself.
_FULL_WALK = '"\\\\ud800"'


def _nested(levels: int, leaf: str, opener: str = "[") -> str:
    close = "]" if opener == "[" else "}"
    start = "[" if opener == "[" else '{"k":'
    return start * levels + leaf + close * levels


def _outcome(text: str) -> str:
    try:
        parse_json(text.encode())
    except ApiError as err:
        return err.code
    return "ok"


@pytest.mark.parametrize("opener", ["[", "{"])
@pytest.mark.parametrize(
    ("levels", "leaf", "expected"),
    [
        (32, "1", "ok"),  # the scalar sits at level 32
        (33, "1", "json_too_deep"),  # ... and here at level 33
        (32, "[]", "ok"),  # an empty container adds no member
        (33, "[]", "json_too_deep"),  # the empty container itself sits at level 33
        (31, "[[]]", "ok"),
        (32, "[[]]", "json_too_deep"),
    ],
)
def test_both_walks_draw_the_depth_limit_at_the_same_place(
    opener: str, levels: int, leaf: str, expected: str
) -> None:
    fast = _nested(levels, leaf, opener)
    full = f"[{_FULL_WALK},{_nested(levels - 1, leaf, opener)}]" if levels else fast
    assert _outcome(fast) == expected
    assert _outcome(full) == expected


def test_an_escaped_backslash_before_ud800_is_text() -> None:
    assert parse_json(f'{{"a": {_FULL_WALK}}}'.encode()) == {"a": "\\ud800"}


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDBFF", "\\udc00", "\\uDfFf"])
def test_a_lone_surrogate_escape_is_still_refused_deep_inside(escape: str) -> None:
    body = {"events": [{"customData": [{"attribute": "a", "value": "x"}]}]}
    text = json.dumps(body).replace('"x"', f'"x{escape}"')
    assert _outcome(text) == "invalid_utf8"
    assert _outcome(text.replace('"a"', f'"{escape}"')) == "invalid_utf8"


def test_a_surrogate_pair_is_one_character() -> None:
    assert parse_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
