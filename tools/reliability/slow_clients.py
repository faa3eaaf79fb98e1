"""Slow clients: many connections that open, send part of a request and stay silent, against the
ingest function as ``make serve`` runs it, while another client keeps asking for answers.

The attack that stopped ingest answering anyone under gunicorn's threaded worker (8 threads, no read
timeout): each silent socket held a thread. The campaign holds ``idle`` such sockets (half of them
stop in the headers, half in the body) for ``seconds``, and meanwhile a well-behaved client sends
``GET /healthz`` and ``POST /v1/events`` one after the other on fresh connections. It measures the
same client's latencies first without slow clients (the baseline), then with them; it holds when
every probe was answered 2xx and the p99 with slow clients stays within ``max_p99_s``. It also
records how long the server took to close the silent sockets (its idle timeout) and what an oversized
request line costs.
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tools.reliability.client import Answers
from tools.reliability.load import register_provider
from tools.reliability.stack import ingest_stack


@dataclass
class Probes:
    """Latencies of the well-behaved client, seconds, and the answers it got."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def record(self, started: float, status: int) -> None:
        self.latencies.append(time.monotonic() - started)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else None
        return {
            "requests": len(self.latencies) + len(self.failures),
            "statuses": dict(sorted(self.statuses.items())),
            "failures": self.failures[:5],
            "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
            "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
        }


@dataclass
class SlowClientResult:
    idle: int
    seconds: float
    idle_timeout_s: int
    max_p99_s: float
    baseline: Probes
    under_attack: Probes
    held_open: int = 0  # silent sockets still connected when the probing ended
    closed_after_s: list[float] = field(default_factory=list)
    oversized_line: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        answers = (self.baseline, self.under_attack)
        bad = sum(n for p in answers for status, n in p.statuses.items() if not 200 <= status < 300)
        return bad + sum(len(p.failures) for p in answers)

    @property
    def p99_s(self) -> float:
        ordered = sorted(self.under_attack.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("inf")

    def as_dict(self) -> dict[str, Any]:
        closed = sorted(self.closed_after_s)
        return {
            "idle_connections": self.idle,
            "seconds": self.seconds,
            "idle_timeout_s": self.idle_timeout_s,
            "max_p99_ms": round(self.max_p99_s * 1000),
            "baseline": self.baseline.as_dict(),
            "under_attack": self.under_attack.as_dict(),
            "held_open_while_probing": self.held_open,
            "closed_by_server": len(closed),
            "closed_after_s": {
                "min": round(closed[0], 1) if closed else None,
                "max": round(closed[-1], 1) if closed else None,
            },
            "oversized_request_line": self.oversized_line,
            "errors": self.errors,
            "slow_clients_starved_others": self.p99_s > self.max_p99_s,
        }


def _silent_socket(host: str, port: int, n: int) -> socket.socket:
    """A connection that sent part of a request and will say nothing more."""
    sock = socket.create_connection((host, port), timeout=5)
    if n % 2:
        partial = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    else:
        partial = b'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"events": ['
    sock.sendall(partial)
    return sock


def _probe(base: str, key: str, probes: Probes, until: float) -> None:
    """Alternate a health check and a one-event batch, each on a fresh connection, until ``until``."""
    n = 0
    while time.monotonic() < until:
        n += 1
        started = time.monotonic()
        try:
            if n % 2:
                answer = requests.get(f"{base}/healthz", timeout=10)
            else:
                body = {
                    "conversationId": "slow-clients",
                    "providerSessionId": "s-1",
                    "events": [
                        {
                            "eventId": uuid.uuid4().hex,
                            "kpiEventName": "CallHold",
                            "eventTimestamp": datetime.now(UTC).isoformat(),
                        }
                    ],
                }
                answer = requests.post(
                    f"{base}/v1/events", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
                )
            probes.record(started, answer.status_code)
        except requests.RequestException as exc:
            probes.failures.append(f"{type(exc).__name__}: {exc}")


def _oversized_request_line(host: str, port: int, size: int) -> dict[str, Any]:
    """Send a request line of ``size`` bytes; how the server answers, and how soon."""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=10) as sock:
        # The server may answer and close before reading it all: that is the point.
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    return {
        "bytes": size,
        "answer": status_line,
        "json": b"application/json" in head.lower(),
        "seconds": round(time.monotonic() - started, 2),
    }


def run(
    data_dir: Path,
    *,
    idle: int = 50,
    seconds: float = 20.0,
    baseline_seconds: float = 5.0,
    idle_timeout_s: int = 10,
    max_p99_s: float = 1.0,
    oversized_line_bytes: int = 8 * 1024 * 1024,
) -> SlowClientResult:
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = ingest_stack(
        data_dir,
        f"sqlite:///{data_dir / 'store.sqlite3'}",
        ANALYTICS_IDLE_TIMEOUT_SECONDS=str(idle_timeout_s),
    )
    result = SlowClientResult(idle, seconds, idle_timeout_s, max_p99_s, Probes(), Probes())
    with stack:
        key = register_provider(stack.url("providers"), stack.admin_token, Answers(), "slow-clients")
        base = stack.url("ingest")
        host, port = base.removeprefix("http://").split(":")
        _probe(base, key, result.baseline, time.monotonic() + baseline_seconds)

        sockets = [_silent_socket(host, int(port), n) for n in range(idle)]
        opened = time.monotonic()
        # Probe for ``seconds``; the silent sockets are closed by the server after its idle timeout,
        # so they are re-opened as soon as that happens: ``idle`` of them are held the whole time.
        deadline = opened + seconds
        last = {i: opened for i in range(idle)}
        reopened = 0
        while time.monotonic() < deadline:
            _probe(base, key, result.under_attack, min(deadline, time.monotonic() + 1.0))
            for i, sock in enumerate(sockets):
                if _closed(sock):
                    result.closed_after_s.append(time.monotonic() - last[i])
                    sock.close()
                    sockets[i] = _silent_socket(host, int(port), i)
                    last[i] = time.monotonic()
                    reopened += 1
        result.held_open = sum(not _closed(s) for s in sockets)
        for sock in sockets:
            sock.close()
        result.oversized_line = _oversized_request_line(host, int(port), oversized_line_bytes)
        result.oversized_line["reopened_sockets"] = reopened
    return result


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (a silent socket never receives anything else)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)
