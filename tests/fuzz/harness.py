"""What every fuzz test shares: the case budget, campaign bookkeeping and the HTTP contract checks.

Budget
------
Each fuzz test runs a CI-sized number of cases by default (a few thousand over the whole fuzz suite,
about two minutes on two cores), so the suite belongs in ``make test``. For a longer run, e.g. a
nightly ``make reliability``-style target, set::

    CA_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/fuzz

``CA_FUZZ_EXAMPLES=N`` makes *every* fuzz test run N generated cases instead of its default; the
per-test pytest timeout grows with it.

Campaigns
---------
A fuzz test does not stop at its first finding: every generated case runs, each contract violation is
recorded under a short signature with the smallest request that produced it, and the test fails at
the end listing every distinct finding with a reproduction. The number of cases each test actually
ran (and the statuses it saw) is printed in the pytest terminal summary as ``fuzz: ...`` lines.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, settings

ENV = "CA_FUZZ_EXAMPLES"
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
TRACEBACK = "Traceback (most recent call last)"

REPORT: list[Campaign] = []


def examples(default: int) -> int:
    """The number of cases a fuzz test runs: its CI default, or ``CA_FUZZ_EXAMPLES``."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{ENV} must be a positive integer, not {raw!r}")
    return value


def timeout_for(default: int, seconds_per_case: float) -> int:
    """A pytest timeout that fits the configured budget (never below the project's 300 s)."""
    return max(300, math.ceil(examples(default) * seconds_per_case * 3))


def fuzz_settings(default: int) -> settings:
    """Hypothesis settings for a campaign: generate only (findings are collected, not shrunk)."""
    return settings(
        max_examples=examples(default),
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
        print_blob=False,
    )


@dataclass
class Finding:
    signature: str
    repro: str
    count: int = 0


@dataclass
class Campaign:
    """Counts the cases of one fuzz test and collects its distinct findings."""

    name: str
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    findings: dict[str, Finding] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    def case(self, status: int | None = None) -> None:
        self.cases += 1
        if status is not None:
            self.statuses[status] += 1

    def fail(self, signature: str, repro: str) -> None:
        """Record a violation; the shortest reproduction per signature is kept."""
        found = self.findings.get(signature)
        if found is None:
            found = self.findings[signature] = Finding(signature, repro)
        elif len(repro) < len(found.repro):
            found.repro = repro
        found.count += 1

    def finish(self) -> None:
        """Publish the figures and fail with every distinct finding, if any."""
        self.elapsed = time.monotonic() - self.started
        REPORT.append(self)
        assert self.cases > 0, f"{self.name}: the campaign ran no case"
        if self.findings:
            lines = [f"{self.name}: {len(self.findings)} distinct finding(s) in {self.cases} cases"]
            for f in sorted(self.findings.values(), key=lambda f: f.signature):
                lines.append(f"- [{f.count}x] {f.signature}\n    {f.repro}")
            raise AssertionError("\n".join(lines))

    def summary(self) -> str:
        statuses = ", ".join(f"{s}x{n}" for s, n in sorted(self.statuses.items()))
        verdict = f"{len(self.findings)} finding(s)" if self.findings else "no finding"
        return f"fuzz: {self.name}: {self.cases} cases in {self.elapsed:.1f}s [{statuses}] {verdict}"


# -- the HTTP contract ------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(body: bytes) -> Any:
    """Parse a response body as strict JSON (UTF-8, no NaN/Infinity); raises ``ValueError``."""
    return json.loads(body.decode("utf-8"), parse_constant=_no_constant)


def contract_problems(status: int, header: Callable[[str], str | None], body: bytes) -> list[str]:
    """Everything wrong with one response under the v1 HTTP contract, as short stable signatures.

    - never a 5xx for anything a client sent;
    - every body is JSON; every non-2xx body is ``{"error": {"code", "message", "details": [...]}}``
      with a specific snake_case code and no Python traceback;
    - the security headers are present (``nosniff``, a CSP, ``Cache-Control: no-store``).
    """
    problems: list[str] = []
    if status >= 500:
        problems.append(f"server error {status}")
    ctype = (header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        problems.append(f"{status} with Content-Type {ctype or 'none'} (not application/json)")
    text = body.decode("utf-8", "replace")
    if TRACEBACK in text:
        problems.append(f"{status} body shows a Python traceback")
    if header("X-Content-Type-Options") != "nosniff":
        problems.append(f"{status} without X-Content-Type-Options: nosniff")
    if not header("Content-Security-Policy"):
        problems.append(f"{status} without Content-Security-Policy")
    if "no-store" not in (header("Cache-Control") or ""):
        problems.append(f"{status} without Cache-Control: no-store")
    if status >= 300 or status < 200:
        problems.extend(error_body_problems(status, body))
    elif body:
        try:
            strict_json(body)
        except ValueError:
            problems.append(f"{status} body is not strict JSON")
    return problems


def error_body_problems(status: int, body: bytes) -> list[str]:
    try:
        doc = strict_json(body)
    except ValueError:
        return [f"{status} error body is not JSON"]
    err = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(err, dict) or set(doc) != {"error"}:
        return [f"{status} error body is not {{'error': {{...}}}}"]
    problems = []
    code = err.get("code")
    if not isinstance(code, str) or not SNAKE_CASE.fullmatch(code):
        problems.append(f"{status} error code {code!r} is not snake_case")
    elif status < 500 and code == "internal_error":
        problems.append(f"{status} with the generic code internal_error")
    if not isinstance(err.get("message"), str) or not err["message"]:
        problems.append(f"{status} error without a message")
    if not isinstance(err.get("details"), list) or not all(isinstance(d, dict) for d in err["details"]):
        problems.append(f"{status} error details is not a list of objects")
    return problems


def error_code(body: bytes) -> str | None:
    try:
        doc = strict_json(body)
    except ValueError:
        return None
    err = doc.get("error") if isinstance(doc, dict) else None
    return err.get("code") if isinstance(err, dict) else None


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality that does not confuse ``true`` with ``1`` (Python's ``True == 1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def short(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


# -- the world a fuzz test runs in ------------------------------------------------------------------


@dataclass
class World:
    """Both functions over one fresh embedded store, with the operator token at hand."""

    ingest: Any
    providers: Any
    admin: dict[str, str]
    store_url: str
    serial: int = 0

    def new_provider(
        self, analytics: bool = True, prefix: str = "fz", provider_id: str | None = None
    ) -> tuple[str, str]:
        """Register a provider through the operator API; its id and API key."""
        self.serial += 1
        provider_id = provider_id or f"{prefix}{self.serial}"
        created = self.providers.post(
            "/v1/providers",
            json={"providerId": provider_id, "name": provider_id, "enableAnalytics": analytics},
            headers=self.admin,
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        return provider_id, created.json["apiKey"]

    def failed_events(self, provider_id: str) -> list[dict[str, Any]]:
        """Every failed event of a provider, as an operator lists them over HTTP."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query: dict[str, Any] = {"limit": 500}
            if cursor:
                query["cursor"] = cursor
            page = self.providers.get(
                f"/v1/providers/{provider_id}/failed-events", query_string=query, headers=self.admin
            )
            assert page.status_code == 200, page.get_data(as_text=True)
            doc = strict_json(page.get_data())
            items.extend(doc["items"])
            cursor = doc.get("nextCursor")
            if not cursor:
                return items


def _real_conflict(store: Any, provider_id: str, raw: Any, result: dict[str, Any]) -> bool:
    """A valid event refused as ``event_id_conflict`` is right only when an event with its id is
    stored with other content (the generator reuses ids, in one batch and across cases)."""
    from shared.ingest.events import content_digest

    event_id = raw.get("eventId") if isinstance(raw, dict) else None
    stored = store.get_event(provider_id, event_id) if isinstance(event_id, str) else None
    details = (result.get("error") or {}).get("details") or [{}]
    return (
        stored is not None
        and details[0].get("storedDigest") == (stored.digest or content_digest(stored))
        and details[0].get("receivedDigest") != details[0].get("storedDigest")
    )


def check_batch(
    campaign: Campaign,
    world: World,
    provider_id: str,
    kind: str,
    body: Any,
    answer: Any,
    repro: str,
    must_reject: dict[int, bool] | None = None,
) -> None:
    """The per-item results of a 200 from ``/v1/events`` (kind ``event``) or ``/v1/activities``
    (kind ``activity``) against what was sent and what the store kept.

    Every item rejected at the item level must be in the failed-events store with its reason and
    its raw payload; every accepted event must be stored; nothing else may appear among the
    failed events. ``must_reject`` names items known to be invalid (True) or valid (False).
    """
    from shared.store import store_for

    label = "/v1/events" if kind == "event" else "/v1/activities"
    items = body["events" if kind == "event" else "activities"]
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != len(items):
        campaign.fail(f"POST {label}: 200 without one result per item", repro)
        return
    ok_states = ("accepted", "duplicate") if kind == "event" else ("created", "updated")
    tally = Counter(r.get("status") for r in results)
    counts = (
        {"accepted": "accepted", "duplicate": "duplicates", "rejected": "rejected"}
        if kind == "event"
        else {"created": "created", "updated": "updated", "rejected": "rejected"}
    )
    if any(answer.get(total) != tally.get(state, 0) for state, total in counts.items()):
        campaign.fail(f"POST {label}: totals disagree with the per-item results", repro)
    failed = world.failed_events(provider_id)
    store = store_for(world.store_url)
    matched: set[int] = set()
    whole = repro
    for index, (raw, result) in enumerate(zip(items, results, strict=True)):
        status = result.get("status")
        repro = f"item {index} = {short(raw, 500)} -> {short(result, 300)}; in {whole}"
        if result.get("index") != index:
            campaign.fail(f"POST {label}: result {index} carries index {result.get('index')!r}", repro)
        expected = (must_reject or {}).get(index)
        if expected is True and status != "rejected":
            campaign.fail(f"POST {label}: an invalid {kind} was answered {status!r}", repro)
        if expected is False and status == "rejected":
            code = (result.get("error") or {}).get("code")
            if code != "event_id_conflict" or not _real_conflict(store, provider_id, raw, result):
                campaign.fail(f"POST {label}: a valid {kind} was rejected ({code})", repro)
        if status == "rejected":
            error = result.get("error") or {}
            if not isinstance(error.get("code"), str) or not SNAKE_CASE.fullmatch(error["code"]):
                campaign.fail(f"POST {label}: rejected {kind} without a snake_case code", repro)
            hits = [
                i
                for i, f in enumerate(failed)
                if _kept(f, raw)
                and f.get("code") == error.get("code")
                and f.get("message")
                and _same_envelope(kind, f.get("envelope"), body)
            ]
            if not hits:
                campaign.fail(
                    f"POST {label}: rejected {kind} ({error.get('code')}) missing from the failed-events "
                    "store (or kept without its reason / raw payload)",
                    repro,
                )
            matched.update(hits)
        elif status in ok_states:
            if kind == "event" and store.get_event(provider_id, result.get("eventId") or "") is None:
                campaign.fail(f"POST {label}: an event answered {status!r} is not in the store", repro)
        else:
            campaign.fail(f"POST {label}: unknown per-item status {status!r}", repro)
    if len(matched) != len(failed):
        campaign.fail(f"POST {label}: failed-events store holds entries for items not rejected", whole)


def _kept(failed: dict[str, Any], raw: Any) -> bool:
    """The failed event keeps ``raw``: whole, or (past 64 KiB) its start with the whole one's sha256."""
    if not failed.get("payloadTruncated"):
        return json_equal(failed.get("payload"), raw)
    from shared.ingest.canonical import canonical_json

    whole = canonical_json(raw)
    return (
        failed.get("payloadDigest") == hashlib.sha256(whole.encode()).hexdigest()
        and isinstance(failed.get("payload"), str)
        and whole.startswith(failed["payload"])
    )


def _same_envelope(kind: str, envelope: Any, body: dict[str, Any]) -> bool:
    if not isinstance(envelope, dict):
        return False
    if kind == "activity":
        return envelope.get("kind") == "activity"
    return (
        envelope.get("kind") == "event"
        and envelope.get("conversationId") == body.get("conversationId")
        and envelope.get("providerSessionId") == body.get("providerSessionId")
        # "" counts as not sent (CIF)
        and envelope.get("participantId") == (body.get("participantId") or None)
        and envelope.get("clientSessionId") == (body.get("clientSessionId") or None)
    )
