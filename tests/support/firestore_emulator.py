"""The real Firestore emulator for tests: start, reset between tests, stop (or restart for fault tests).

``firestore_emulator`` is a session fixture (registered for every suite in ``tests/conftest.py``). It
skips, with the reason, only where ``gcloud`` or ``java`` is missing; an emulator that is installed but
does not come up is a test failure.

Fault tests may ``stop()`` and ``start()`` it (same port, empty data) but must leave it running. After a
restart, gRPC clients of this process reconnect with a backoff of a few seconds (the connection state
is shared by every client to the same address), so calls answer ``StoreUnavailable`` until then:
retry them, as a provider's client retries a 503.

The emulator keeps its data in memory only. To come back with its data, as Firestore does after an
outage, ``export(directory)`` writes a snapshot through the emulator's export endpoint and
``start(import_data=...)`` loads it (``--import-data``). (``--export-on-exit`` is not used: the
emulator skips it when its process group is terminated, as ``stop()`` does.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

PROJECT = "demo-channel-analytics"
START_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing_tools() -> list[str]:
    return [tool for tool in ("gcloud", "java") if shutil.which(tool) is None]


class FirestoreEmulator:
    """One emulator process (in its own process group, so stopping it stops its Java child too)."""

    def __init__(self, project: str = PROJECT):
        self.project = project
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        # The emulator's output, for the failure message when it does not come up.
        self._log_path = Path(tempfile.gettempdir()) / f"firestore-emulator-{os.getpid()}-{id(self)}.log"

    @property
    def host(self) -> str:
        if self.port is None:
            raise RuntimeError("the Firestore emulator is not started")
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, port: int | None = None, import_data: Path | None = None) -> None:
        """Start on ``port`` (default: the previous port, else a free one) and wait until it answers;
        with ``import_data`` (a snapshot from ``export``) it starts with that data."""
        if self.running:
            return
        self.port = port or self.port or free_port()
        command = ["gcloud", "emulators", "firestore", "start", f"--host-port={self.host}", "--quiet"]
        if import_data is not None:
            command.append(f"--import-data={import_data}")
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if requests.get(f"http://{self.host}/", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        log = self.log_tail()
        self.stop()
        raise RuntimeError(f"the Firestore emulator did not start on {self.host}:\n{log}")

    def stop(self) -> None:
        """Stop the whole process group (gcloud's wrapper and the Java emulator)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # The Java child may outlive the wrapper's exit; make sure the port is free for a restart.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def reset(self) -> None:
        """Delete every document of the default database (the emulator's own reset endpoint)."""
        url = f"http://{self.host}/emulator/v1/projects/{self.project}/databases/(default)/documents"
        requests.delete(url, timeout=10).raise_for_status()

    def export(self, directory: Path) -> Path:
        """Snapshot every document into ``directory``; the metadata file that ``start(import_data=)``
        takes. Writes that commit while it runs may or may not be in it: pause the writers first."""
        directory.mkdir(parents=True, exist_ok=True)
        url = f"http://{self.host}/emulator/v1/projects/{self.project}:export"
        body = {
            "database": f"projects/{self.project}/databases/(default)",
            "export_directory": str(directory),
        }
        requests.post(url, json=body, timeout=60).raise_for_status()
        snapshots = sorted(directory.glob("*/*.overall_export_metadata"), key=lambda p: p.stat().st_mtime)
        if not snapshots:
            raise RuntimeError(f"the emulator exported nothing into {directory}")
        return snapshots[-1]

    def log_tail(self, lines: int = 40) -> str:
        if not self._log_path.exists():
            return ""
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        """Stop the emulator and remove its log."""
        self.stop()
        self._log_path.unlink(missing_ok=True)

    def environment(self) -> dict[str, str]:
        """What a Firestore client needs to find this emulator."""
        return {"FIRESTORE_EMULATOR_HOST": self.host, "GOOGLE_CLOUD_PROJECT": self.project}


@contextlib.contextmanager
def environment_set(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` for the block (clients and child processes read the emulator's
    address from there), then the environment as it was."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator]:
    """A running emulator for the session, with ``FIRESTORE_EMULATOR_HOST`` set while it lives."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"Firestore emulator tests need {' and '.join(missing)} on PATH")
    emulator = FirestoreEmulator()
    emulator.start()
    try:
        with environment_set(emulator.environment()):
            yield emulator
    finally:
        emulator.close()
