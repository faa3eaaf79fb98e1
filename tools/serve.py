"""The local stack: every HTTP function in its own process, its app built as in production.

``LocalStack`` is a context manager (the demo, benchmarks and soak tests reuse it): it starts
``python -m tools.server --target NAME --source functions/NAME/main.py`` per function on 127.0.0.1
(the functions-framework app, served by a server that slow clients cannot starve: tools/server.py), passes the store, warehouse, admin token and key pepper through the environment, waits
until each answers ``GET /healthz``, prefixes their logs with the function's name, and stops each
process group on exit, on failure and on Ctrl-C.

``python -m tools.serve`` (``make serve``) runs it until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEFAULT_PORTS = {"ingest": 8081, "providers": 8082, "aggregate": 8083, "report": 8084}
DEFAULT_DATA_DIR = ROOT / ".local"
ADMIN_TOKEN_FILE = "admin_token"
# The variables the functions read (shared/config.py); the stack decides them, nothing leaks in.
STORE, WAREHOUSE, ADMIN_TOKEN, PEPPER, MAILER, ALERTS = (
    "ANALYTICS_STORE",
    "ANALYTICS_WAREHOUSE",
    "ANALYTICS_ADMIN_TOKEN",
    "ANALYTICS_KEY_PEPPER",
    "ANALYTICS_MAILER",
    "ANALYTICS_ALERTS",
)


class StackError(RuntimeError):
    """A function did not come up; the message carries the end of its log."""


def available_functions() -> list[str]:
    """The functions of this checkout, in port order (a function exists once its main.py does)."""
    return [name for name in DEFAULT_PORTS if (ROOT / "functions" / name / "main.py").is_file()]


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def admin_token_from(path: Path) -> str:
    """The local admin token kept in ``path`` (mode 0600), created on first use and reused after, so
    that ``cat .local/admin_token`` keeps working across restarts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        token = path.read_text().strip()
        if token:
            return token
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token


@dataclass
class _Function:
    name: str
    port: int
    chosen: bool  # the port was picked free by us, so a lost race can be retried on another
    process: subprocess.Popen[str] | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


class LocalStack:
    """The functions of this checkout, each as its own functions-framework process.

    ``ports`` maps a function to its port (0: any free port; default 8081/8082/8083/8084); ``data_dir``
    holds the admin token file and the logs, and the embedded store and warehouse unless
    ``store_url``/``warehouse_url`` say otherwise. ``environ`` is where settings are read from
    (default ``os.environ``; tests pass their own so a developer's shell cannot redirect them).
    Each function's output goes to ``data_dir/logs/NAME.log`` and, prefixed, to ``echo``.
    """

    def __init__(
        self,
        *,
        data_dir: Path | str = DEFAULT_DATA_DIR,
        ports: Mapping[str, int] | None = None,
        functions: Sequence[str] | None = None,
        store_url: str | None = None,
        warehouse_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        echo: TextIO | None = sys.stderr,
        startup_timeout: float = 30.0,
    ):
        source = os.environ if environ is None else environ
        self.data_dir = Path(data_dir).resolve()
        names = list(functions) if functions is not None else available_functions()
        unknown = sorted(set(names) - set(DEFAULT_PORTS))
        if unknown:
            raise ValueError(f"unknown function(s) {unknown}: known are {sorted(DEFAULT_PORTS)}")
        wanted = {**DEFAULT_PORTS, **(ports or {})}
        self._functions = {
            name: _Function(name, wanted[name] or free_port(), chosen=wanted[name] == 0) for name in names
        }
        self.store_url = store_url or source.get(STORE) or f"sqlite:///{self.data_dir / 'store.sqlite3'}"
        self.warehouse_url = (
            warehouse_url or source.get(WAREHOUSE) or f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"
        )
        # Report e-mails and alerts land in the data directory unless configured otherwise.
        self.mailer_url = source.get(MAILER) or f"file://{self.data_dir / 'outbox'}"
        self.alerts_url = source.get(ALERTS) or f"file://{self.data_dir / 'alerts.jsonl'}"
        self.admin_token_path: Path | None = (
            None if source.get(ADMIN_TOKEN) else self.data_dir / ADMIN_TOKEN_FILE
        )
        self._admin_token = source.get(ADMIN_TOKEN) or None
        self._pepper = source.get(PEPPER, "")
        # Other ANALYTICS_* settings (limits, grace periods) pass through as given.
        self._extra = {k: v for k, v in source.items() if k.startswith("ANALYTICS_")}
        self._echo = echo
        self._echo_lock = threading.Lock()
        self._timeout = startup_timeout
        self._started = False

    # -- what callers use ------------------------------------------------------------------------------

    @property
    def admin_token(self) -> str:
        if self._admin_token is None:
            assert self.admin_token_path is not None
            self._admin_token = admin_token_from(self.admin_token_path)
        return self._admin_token

    @property
    def functions(self) -> list[str]:
        return list(self._functions)

    @property
    def urls(self) -> dict[str, str]:
        return {name: fn.url for name, fn in self._functions.items()}

    def url(self, name: str) -> str:
        return self._functions[name].url

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the running functions (each leads its own process group)."""
        return {n: fn.process.pid for n, fn in self._functions.items() if fn.process is not None}

    def exited(self) -> list[str]:
        """Functions of a started stack whose process has ended."""
        return [
            n for n, fn in self._functions.items() if fn.process is not None and fn.process.poll() is not None
        ]

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        """Start every function and wait until each is healthy; on any failure stop what started."""
        if self._started:
            return self
        self._started = True
        try:
            for fn in self._functions.values():
                if not fn.chosen and not port_is_free(fn.port):
                    raise StackError(
                        f"port {fn.port} for {fn.name} is already in use (is another local stack running?)"
                    )
            env = self._environment()
            (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
            for fn in self._functions.values():
                self._launch(fn, env)
            for fn in self._functions.values():
                self._await_health(fn, env)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM each process group, then SIGKILL whatever is still there after ``timeout``."""
        running = [fn for fn in self._functions.values() if fn.process is not None]
        for fn in running:
            _signal_group(fn.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for fn in running:
            assert fn.process is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                fn.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # The group may hold a worker that outlived its parent: make sure nothing is left.
            _signal_group(fn.process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                fn.process.wait(timeout=5)
            if fn.reader is not None:
                fn.reader.join(timeout=5)
            fn.process = None
        self._started = False

    # -- how ----------------------------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
        env.update(self._extra)
        env.update(
            {
                STORE: self.store_url,
                WAREHOUSE: self.warehouse_url,
                MAILER: self.mailer_url,
                ALERTS: self.alerts_url,
                ADMIN_TOKEN: self.admin_token,
                PEPPER: self._pepper,
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _launch(self, fn: _Function, env: dict[str, str]) -> None:
        command = [
            sys.executable,
            "-m",
            "tools.server",
            "--target",
            fn.name,
            "--source",
            str(ROOT / "functions" / fn.name / "main.py"),
            "--host",
            HOST,
            "--port",
            str(fn.port),
        ]
        # Its own session (process group): the server and anything it starts stop together, and a
        # Ctrl-C in the terminal reaches us only, so shutdown happens in one place, in order.
        fn.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        fn.reader = threading.Thread(target=self._pump, args=(fn, fn.process), daemon=True)
        fn.reader.start()

    def _pump(self, fn: _Function, process: subprocess.Popen[str]) -> None:
        """Copy a function's output to its log file and, prefixed, to ``echo``."""
        assert process.stdout is not None
        with open(self.log_path(fn.name), "a", encoding="utf-8") as log:
            for line in process.stdout:
                fn.tail.append(line.rstrip("\n"))
                log.write(line)
                log.flush()
                if self._echo is not None:
                    with self._echo_lock:
                        self._echo.write(f"[{fn.name}] {line}")
                        self._echo.flush()

    def _await_health(self, fn: _Function, env: dict[str, str]) -> None:
        deadline = time.monotonic() + self._timeout
        attempts = 1
        while True:
            assert fn.process is not None
            code = fn.process.poll()
            if code is not None:
                if fn.chosen and attempts < 3 and not port_is_free(fn.port):
                    # Someone took the free port between our probe and the bind: try another one.
                    if fn.reader is not None:
                        fn.reader.join(timeout=5)
                    fn.port, attempts = free_port(), attempts + 1
                    self._launch(fn, env)
                    continue
                if fn.reader is not None:
                    fn.reader.join(timeout=5)
                raise StackError(
                    f"{fn.name} exited with status {code} while starting:\n" + "\n".join(fn.tail)
                )
            if _healthy(fn.url):
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{fn.name} did not answer GET {fn.url}/healthz within {self._timeout:.0f} s:\n"
                    + "\n".join(fn.tail)
                )
            time.sleep(0.1)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _signal_group(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    # start_new_session made the child the leader of a group whose id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


@contextlib.contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end the program like Ctrl-C does, so ``finally`` blocks stop the stack."""

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.serve", description="Run the local stack until interrupted (Ctrl-C)."
    )
    for name, port in DEFAULT_PORTS.items():
        parser.add_argument(
            f"--{name}-port", type=int, default=port, help=f"default {port}; 0 = any free port"
        )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default .local")
    args = parser.parse_args(argv)
    ports = {name: getattr(args, f"{name}_port") for name in DEFAULT_PORTS}
    with interrupts_as_keyboard_interrupt():
        try:
            with LocalStack(data_dir=args.data_dir, ports=ports, echo=sys.stdout) as stack:
                for name, url in stack.urls.items():
                    print(f"{name:<10} {url}")
                missing = sorted(set(DEFAULT_PORTS) - set(stack.functions))
                if missing:
                    print(f"not started (no functions/NAME/main.py in this checkout): {', '.join(missing)}")
                print(f"store      {stack.store_url}")
                print(f"warehouse  {stack.warehouse_url}")
                print(f"mailer     {stack.mailer_url}")
                print(f"alerts     {stack.alerts_url}")
                if stack.admin_token_path is not None:
                    print(
                        f"admin token in {_shown(stack.admin_token_path)} (Authorization: Bearer $(cat ...))"
                    )
                else:
                    print(f"admin token from ${ADMIN_TOKEN}")
                print("logs in", _shown(stack.data_dir / "logs"), "- Ctrl-C stops everything", flush=True)
                while not stack.exited():
                    time.sleep(0.5)
                print(f"{', '.join(stack.exited())} exited; stopping the stack", file=sys.stderr)
                return 1
        except KeyboardInterrupt:
            print("\nstopped")
            return 0
        except StackError as exc:
            print(f"make serve: {exc}", file=sys.stderr)
            return 1


def _shown(path: Path) -> str:
    """A path relative to the current directory where that is shorter."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
