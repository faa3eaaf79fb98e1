"""A provider's well-behaved HTTP client, instrumented: it retries 503/429 after ``Retry-After`` and
keeps count of every status it was answered, so a campaign can show what clients actually saw."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

# Statuses a retry loop may see while the store is down: anything else is an error of the run.
RETRYABLE = (429, 503)
MAX_RESETS = 3  # connection errors in a row before the server counts as gone


class ClientError(RuntimeError):
    """An answer no retry fixes (or a 503 without ``Retry-After``): the campaign failed."""


@dataclass
class Answers:
    """Every status answered (retries included), the retries and the contract violations seen."""

    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    slowest_s: float = 0.0  # the longest single answer: what a client waits while the store hangs
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def saw(self, status: int, seconds: float) -> None:
        with self._lock:
            self.statuses[status] += 1
            self.slowest_s = max(self.slowest_s, seconds)

    def violated(self, what: str) -> None:
        with self._lock:
            self.violations[what] += 1

    def retried(self) -> None:
        with self._lock:
            self.retries += 1

    def transport(self, what: str) -> None:
        with self._lock:
            self.transport_errors[what] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "retries": self.retries,
            "violations": dict(self.violations),
            "transport_errors": dict(self.transport_errors),
            "slowest_answer_s": round(self.slowest_s, 2),
        }


class RetryingClient:
    """One keep-alive session to one function. ``call`` repeats a request answered 503/429 (the API says
    repeating it is safe) after waiting its ``Retry-After`` (capped at ``max_wait_s``), until
    ``give_up_after_s`` has passed."""

    def __init__(
        self,
        base_url: str,
        token: str,
        answers: Answers,
        *,
        max_wait_s: float = 30.0,
        give_up_after_s: float = 120.0,
        timeout_s: float = 60.0,
    ):
        self.base_url = base_url
        self.answers = answers
        self._headers = {"Authorization": f"Bearer {token}"}
        self._max_wait = max_wait_s
        self._give_up = give_up_after_s
        self._timeout = timeout_s
        self._http = requests.Session()

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, body: Any = None, expect: tuple[int, ...] = (200, 201)) -> Any:
        """The JSON answer of the first attempt that is not a 503/429; ``ClientError`` otherwise."""
        deadline = time.monotonic() + self._give_up
        resets = 0
        while True:
            sent = time.monotonic()
            try:
                answer = self._http.request(
                    method, self.base_url + path, json=body, headers=self._headers, timeout=self._timeout
                )
            except requests.ConnectionError as exc:
                # the server closes a keep-alive connection left idle (tools/server.py); a request sent on it at that
                # moment is reset unread. Every request of the API is safe to repeat, so a client sends
                # it again on a fresh connection; a server that is gone fails every attempt.
                self.answers.transport(type(exc).__name__)
                resets += 1
                if resets > MAX_RESETS:
                    raise ClientError(f"{method} {path}: {exc}") from exc
                continue
            resets = 0
            self.answers.saw(answer.status_code, time.monotonic() - sent)
            if answer.status_code in RETRYABLE:
                retry_after = answer.headers.get("Retry-After")
                if retry_after is None or not retry_after.isdigit():
                    self.answers.violated(f"{answer.status_code} without a numeric Retry-After")
                    raise ClientError(f"{method} {path}: {answer.status_code} without Retry-After")
                if time.monotonic() > deadline:
                    raise ClientError(f"{method} {path}: still {answer.status_code} after {self._give_up} s")
                self.answers.retried()
                time.sleep(min(int(retry_after), self._max_wait))
                continue
            if answer.status_code not in expect:
                self.answers.violated(f"{method} {path} answered {answer.status_code}")
                raise ClientError(f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
            return answer.json()
