"""Reading a JSON request body safely: type, size, encoding, duplicate keys, NaN, nesting."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Request

from shared.errors import ApiError

_MAX_DEPTH = 32
# Longer integers than this are refused while parsing (Python's own limit is 4300 digits, past which
# int() raises a plain ValueError); the models then bound what each field accepts.
_MAX_INT_DIGITS = 1000
# A lone surrogate can only enter the parsed body through a \uD800-\uDFFF escape: the UTF-8 decoder
# refuses encoded ones. Bodies without such an escape (nearly all) skip the walk over every string.
# (An escaped backslash before "ud800" also matches: that only costs the full walk.)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ApiError(400, "duplicate_json_key", f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ApiError(400, "malformed_json", f"{name} is not valid JSON")


def _int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        raise ApiError(400, "malformed_json", f"a number in the body has more than {_MAX_INT_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: JSON has no infinity, and no store or warehouse holds one
        raise ApiError(400, "malformed_json", f"the number {text[:40]} is out of range")
    return value


def _text(value: str) -> str:
    # json accepts escaped lone surrogates ("\ud800"): they are no Unicode text and cannot be stored.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(
            400, "invalid_utf8", "the body contains an escaped lone surrogate, which is not a character"
        ) from exc
    return value


def _check(value: Any, level: int = 0) -> None:
    """Nesting depth and text that UTF-8 can carry, in one walk of the parsed body."""
    if level > _MAX_DEPTH:
        raise ApiError(400, "json_too_deep", f"the body nests deeper than {_MAX_DEPTH} levels")
    if isinstance(value, str):
        _text(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _text(k)
            _check(v, level + 1)
    elif isinstance(value, list):
        for v in value:
            _check(v, level + 1)


def _check_depth(container: dict[str, Any] | list[Any], level: int) -> None:
    """``_check`` without the text: the members of ``container`` (at ``level``) sit one level deeper,
    so only containers are visited — what refuses a body is the same, and it is the only refusal."""
    if level >= _MAX_DEPTH and container:
        raise ApiError(400, "json_too_deep", f"the body nests deeper than {_MAX_DEPTH} levels")
    for v in container.values() if type(container) is dict else container:
        if type(v) is dict or type(v) is list:
            _check_depth(v, level + 1)


def read_json(request: Request, max_bytes: int) -> Any:
    """The parsed body, or an ``ApiError`` naming exactly what is wrong with it."""
    return parse_json(read_raw_body(request, max_bytes))


def read_raw_body(request: Request, max_bytes: int) -> bytes:
    """The body's bytes, exactly as sent (what a request signature covers), once its media type,
    charset and size are acceptable; ``parse_json`` reads them."""
    mimetype = (request.mimetype or "").lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_charset", "the body must be UTF-8 encoded")
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "body_too_large", f"the body exceeds {max_bytes} bytes")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ApiError(413, "body_too_large", f"the body exceeds {max_bytes} bytes")
    if not raw:
        raise ApiError(400, "empty_body", "the request has no body")
    return raw


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body read by ``read_raw_body``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_utf8", f"the body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_int=_int,
            parse_float=_float,
        )
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "malformed_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from exc
    except RecursionError as exc:
        raise ApiError(400, "json_too_deep", "the body nests too deeply") from exc
    if _SURROGATE_ESCAPE.search(text):
        _check(value)  # the whole walk: refusals in the same order as ever
    elif type(value) is dict or type(value) is list:
        _check_depth(value, 0)
    return value


def require_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(422, "body_not_object", "the body must be a JSON object")
    return value
