"""A floor function in its own process, launched with the same command line (``tools/server.py``),
host and environment handling as ``tools/serve.py`` launches the product's functions."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.serve import HOST, ROOT, free_port

FLOORS_SOURCE = Path(__file__).with_name("floors.py")


@dataclass(frozen=True)
class Served:
    url: str
    pid: int  # leads the process group: the server process


@contextlib.contextmanager
def floor_server(target: str, store_path: Path, startup_timeout: float = 30.0) -> Iterator[Served]:
    """Serve ``target`` of ``floors.py`` on a free port until the block ends."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    env.update(
        {
            "ANALYTICS_STORE": f"sqlite:///{store_path}",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
            "PYTHONUNBUFFERED": "1",
        }
    )
    command = [
        sys.executable,
        "-m",
        "tools.server",
        "--target",
        target,
        "--source",
        str(FLOORS_SOURCE),
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://{HOST}:{port}"
    try:
        _await(url, process, startup_timeout)
        yield Served(url, process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _await(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the floor server at {url} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered: it is up
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"the floor server at {url} did not answer within {timeout:.0f} s")
