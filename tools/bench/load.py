"""A keep-alive HTTP load generator that costs as little CPU as Python allows.

The client shares the machine with the server, so it pre-encodes every body before the clock starts,
keeps one persistent ``http.client`` connection per thread, and does nothing per request but send,
read and note the latency. The server's CPU time over the window (its whole process group, read with
psutil) says how much of the machine the function itself used.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil

from tools.bench.stats import percentile


@dataclass(frozen=True)
class LoadResult:
    requests: int
    events: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu_s: float
    client_cpu_s: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds


class LoadError(RuntimeError):
    """A request was not answered 200: the figure would measure an error path, so none is reported."""


def _cpu_seconds(pid: int) -> float:
    process = psutil.Process(pid)
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


def run_load(
    url: str,
    path: str,
    bodies: Sequence[bytes],
    events_per_body: int,
    headers: dict[str, str],
    concurrency: int,
    server_pid: int,
) -> LoadResult:
    """POST every body once over ``concurrency`` keep-alive connections; latencies per request."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    send_headers = {"Content-Type": "application/json", "Connection": "keep-alive", **headers}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures: list[str] = []
    ready = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.connect()
        mine = latencies[index]
        clock = time.perf_counter
        ready.wait()
        try:
            for body in bodies[index::concurrency]:
                started = clock()
                conn.request("POST", path, body, send_headers)
                answer = conn.getresponse()
                payload = answer.read()
                mine.append(clock() - started)
                if answer.status != 200:
                    failures.append(f"{answer.status} {payload[:300]!r}")
                    return
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    server_before = _cpu_seconds(server_pid)
    client_before = time.process_time()
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    server_cpu = _cpu_seconds(server_pid) - server_before
    if failures:
        raise LoadError(f"{len(failures)} request(s) to {url}{path} failed, first: {failures[0]}")
    flat = [x * 1000 for lane in latencies for x in lane]
    return LoadResult(
        requests=len(flat),
        events=len(flat) * events_per_body,
        seconds=seconds,
        p50_ms=percentile(flat, 50),
        p99_ms=percentile(flat, 99),
        server_cpu_s=server_cpu,
        client_cpu_s=client_cpu,
    )
