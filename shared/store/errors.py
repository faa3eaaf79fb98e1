"""Errors every store adapter raises, so the HTTP layer maps them the same way for each backend."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for store failures."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or is overloaded; the client should retry later (HTTP 503)."""

    def __init__(self, message: str = "the operational store is unavailable", retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after


class AlreadyExists(StoreError):
    """A create hit an existing object (HTTP 409)."""


class NotFound(StoreError):
    """The object does not exist for this provider (HTTP 404)."""
