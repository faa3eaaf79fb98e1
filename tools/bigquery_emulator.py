"""A local BigQuery API emulator: ``bqemulator`` from PyPI (REST and Storage Write gRPC over DuckDB),
installed on demand, started and stopped by the tests (like the Firestore emulator) and by
``make bench``'s event sink section.

It pins an older sqlglot than the project, so it lives in its own virtual environment, created once
under ``.local/`` (pinned version, pip's cache makes a re-install quick) and run as a process through
``bqemulator_launch.py``, which works around its known defects in its own process. Where it cannot be
installed (no package index reachable) the tests that need it skip and say why; an emulator that is
installed but does not come up is a failure (tests/support/bigquery_emulator.py has the fixture).

What it proves: the adapters' wiring through Google's own clients (load jobs, scripts, transactions,
Storage Write appends, result shapes) and that the BigQuery SQL means what the DuckDB SQL means, on
DuckDB underneath; not BigQuery's own execution, quotas or costs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

VERSION = "1.4.0"
# numpy: imported by the emulator but not declared by it.
REQUIREMENTS = (f"bqemulator=={VERSION}", "numpy==2.4.6")
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".local" / f"bqemulator-{VERSION}"
LAUNCHER = Path(__file__).with_name("bqemulator_launch.py")
PROJECT = "demo-analytics"
START_TIMEOUT_S = 60.0
INSTALL_TIMEOUT_S = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatorMissing(RuntimeError):
    """The emulator could not be installed here (the reason is the message)."""


def emulator_python() -> Path:
    """The emulator's interpreter, installing it first if needed (``EmulatorMissing`` if it cannot)."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if stamp.exists() and python.exists():
        return python
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=120
            )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
            check=True,
            capture_output=True,
            timeout=INSTALL_TIMEOUT_S,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        output = getattr(exc, "stderr", b"") or b""
        tail = output.decode(errors="replace").strip().splitlines()[-3:]
        raise EmulatorMissing(
            f"the BigQuery emulator ({' '.join(REQUIREMENTS)}) could not be installed: {exc} {tail}"
        ) from exc
    stamp.touch()
    return python


class BigQueryEmulator:
    """One emulator process (its own process group), ephemeral: its data lives as long as it does."""

    def __init__(self, project: str = PROJECT):
        self.project = project
        self.rest_port = free_port()
        self.grpc_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.gettempdir()) / f"bqemulator-{os.getpid()}-{id(self)}.log"

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def grpc(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def warehouse_url(self, dataset: str) -> str:
        return f"bigquery://{self.project}/{dataset}?endpoint={self.rest}&partition_expiration_days=0"

    def sink_url(self, dataset: str) -> str:
        return f"bigquery-write://{self.project}/{dataset}?endpoint={self.grpc}"

    def start(self) -> None:
        python = emulator_python()
        command = [
            str(python),
            str(LAUNCHER),
            "start",
            "--rest-port",
            str(self.rest_port),
            "--grpc-port",
            str(self.grpc_port),
            "--project",
            self.project,
            "--log-level",
            "warning",
        ]
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                if requests.get(f"{self.rest}/bigquery/v2/projects/{self.project}/datasets", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        tail = self._log.read_text(errors="replace")[-3000:] if self._log.exists() else ""
        self.stop()
        raise RuntimeError(f"the BigQuery emulator did not start on {self.rest}:\n{tail}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._log.unlink(missing_ok=True)
