"""The one error type the HTTP layer renders: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """A client-facing error with its HTTP status and a specific snake_case code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def validation_details(exc: Any, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Per-field details from a pydantic ``ValidationError``: where, what rule, what it says."""
    out = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        out.append(
            {
                "field": ".".join(str(p) for p in (*prefix, *err["loc"])),
                "code": err["type"],
                "message": err["msg"],
            }
        )
    return out


def validate_request(model: type[M], data: Any) -> M:
    """``data`` (what the client sent) as ``model``, or ``422 validation_failed`` with per-field details.

    Request bodies go through here, and only they: a ``ValidationError`` anywhere else means a
    response the server built failed its own model, which the router answers as a 500 (a defect of
    ours, logged), never as the client's fault.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(
            422, "validation_failed", "the body has invalid fields", validation_details(exc)
        ) from exc
