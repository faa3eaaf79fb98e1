"""What the local server refuses before the app sees it is answered like every API error: JSON with
a specific code and the security headers, never waitress's or gunicorn's plain text or HTML."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import pytest

from tools.serve import LocalStack


def _raw(stack: LocalStack, request: bytes) -> tuple[str, dict[str, str], dict]:
    host, port = stack.url("ingest").removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        time.sleep(0.3)  # as a client waiting for its answer: the server has read everything by then
        data = b""
        with contextlib.suppress(ConnectionResetError):  # the close may reset after the answer
            while chunk := sock.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "headers_too_large"),
        (b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", 413, "body_too_large"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "malformed_request"),
    ],
)
def test_server_refusals_are_json_errors(
    stack: LocalStack, request_bytes: bytes, status: int, code: str
) -> None:
    line, headers, body = _raw(stack, request_bytes)
    assert f" {status} " in line
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert body["error"]["code"] == code and body["error"]["message"] and body["error"]["details"] == []
