"""The local stack: real functions-framework processes, free ports, a private data dir, clean stops."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.tools.conftest import stack_processes
from tools.serve import ROOT, LocalStack, StackError, available_functions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="process checks read /proc (Linux)"),
]

FREE = dict.fromkeys(("ingest", "providers", "aggregate", "report"), 0)


def _gone(marker: str, timeout: float = 10.0) -> list[int]:
    """Pids still alive after ``timeout`` (an empty list is the clean stop we want)."""
    deadline = time.monotonic() + timeout
    while (left := stack_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_each_function_answers_on_its_own_port_with_its_own_openapi(stack: LocalStack) -> None:
    assert stack.functions == available_functions()
    assert {"ingest", "providers"} <= set(stack.functions)
    ports = {url.rsplit(":", 1)[1] for url in stack.urls.values()}
    assert len(ports) == len(stack.functions)
    for name, url in stack.urls.items():
        assert requests.get(f"{url}/healthz", timeout=5).json()["status"] == "ok"
        document = requests.get(f"{url}/openapi.json", timeout=5).json()
        assert document["openapi"].startswith("3.1"), name
    # The functions are separate processes: each one's routes live only there.
    assert requests.get(f"{stack.url('ingest')}/v1/providers/x", timeout=5).status_code == 404


def test_the_stack_keeps_its_files_in_its_data_dir_and_the_admin_token_private(stack: LocalStack) -> None:
    assert stack.store_url == f"sqlite:///{stack.data_dir / 'store.sqlite3'}"
    assert stack.warehouse_url == f"duckdb:///{stack.data_dir / 'warehouse.duckdb'}"
    assert stack.admin_token_path == stack.data_dir / "admin_token"
    assert stat.S_IMODE(stack.admin_token_path.stat().st_mode) == 0o600
    token = stack.admin_token_path.read_text().strip()
    assert token == stack.admin_token and len(token) >= 32
    admin = {"Authorization": f"Bearer {token}"}
    created = requests.post(
        f"{stack.url('providers')}/v1/providers",
        json={"providerId": "stack-check", "name": "S"},
        headers=admin,
        timeout=5,
    )
    assert created.status_code == 201
    wrong = requests.get(
        f"{stack.url('providers')}/v1/providers/stack-check",
        headers={"Authorization": "Bearer nope"},
        timeout=5,
    )
    assert wrong.status_code == 401
    assert (stack.data_dir / "store.sqlite3").is_file()
    assert (stack.data_dir / "logs" / "ingest.log").is_file()


def test_stop_leaves_no_process_and_a_restart_reuses_the_admin_token(tmp_path) -> None:
    first = LocalStack(
        data_dir=tmp_path, ports=FREE, functions=["ingest", "providers"], environ={}, echo=None
    )
    with first:
        pids = first.pids
        assert len(stack_processes(str(tmp_path))) >= len(pids)  # one server process per function
        token = first.admin_token
    assert _gone(str(tmp_path)) == []
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    with LocalStack(data_dir=tmp_path, ports=FREE, functions=["providers"], environ={}, echo=None) as second:
        assert second.admin_token == token
    assert _gone(str(tmp_path)) == []


def test_settings_from_the_environment_pass_through(tmp_path) -> None:
    environ = {
        "ANALYTICS_ADMIN_TOKEN": "from-the-environment",
        "ANALYTICS_STORE": f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}",
        "ANALYTICS_MAX_BODY_BYTES": "2048",
    }
    with LocalStack(
        data_dir=tmp_path, ports=FREE, functions=["providers"], environ=environ, echo=None
    ) as stack:
        assert stack.admin_token_path is None and not (tmp_path / "admin_token").exists()
        admin = {"Authorization": "Bearer from-the-environment"}
        url = f"{stack.url('providers')}/v1/providers"
        assert (
            requests.post(
                url, json={"providerId": "env-check", "name": "E"}, headers=admin, timeout=5
            ).status_code
            == 201
        )
        too_big = requests.post(url, json={"providerId": "big", "name": "x" * 4000}, headers=admin, timeout=5)
        assert too_big.status_code == 413
    assert (tmp_path / "elsewhere.sqlite3").is_file()


def test_a_taken_port_is_reported_and_nothing_is_left_running(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = LocalStack(
            data_dir=tmp_path,
            ports={"ingest": 0, "providers": port},
            functions=["ingest", "providers"],
            environ={},
            echo=None,
        )
        with pytest.raises(StackError, match=f"port {port}"):
            stack.start()
    assert _gone(str(tmp_path)) == []


def test_a_function_that_is_not_healthy_in_time_fails_the_start_and_is_stopped(tmp_path) -> None:
    stack = LocalStack(
        data_dir=tmp_path, ports=FREE, functions=["ingest"], environ={}, echo=None, startup_timeout=0.01
    )
    with pytest.raises(StackError, match=r"ingest did not answer GET http://127\.0\.0\.1:\d+/healthz"):
        stack.start()
    assert stack.pids == {}
    assert _gone(str(tmp_path)) == []


def test_make_serve_prints_where_things_are_and_ctrl_c_stops_everything(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.serve", "--data-dir", str(tmp_path)]
        + [f"--{name}-port=0" for name in FREE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("logs in"):
                break
        printed = "".join(lines)
        urls = {line.split()[0]: line.split()[1] for line in lines if "http://127.0.0.1:" in line}
        assert set(urls) == set(available_functions()), printed
        assert f"admin token in {tmp_path / 'admin_token'}" in printed
        for url in urls.values():
            assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "stopped" in rest
    assert _gone(str(tmp_path)) == []
    for url in urls.values():
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/healthz", timeout=2)
