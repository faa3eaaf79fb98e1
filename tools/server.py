"""One function served locally the way its cloud front end serves it: slow clients cannot starve it.

``python -m tools.server --target NAME --source functions/NAME/main.py --host H --port P`` builds the
function's app exactly as Cloud Functions does (``functions_framework.create_app``) and serves it
with waitress instead of functions-framework's gunicorn. Why: gunicorn's threaded worker reads each
request in one of its threads with no read timeout and no request-line limit (functions-framework
sets ``limit_request_line=0``), so eight sockets that send half a request and stay silent hold all
eight threads and nobody else gets an answer. In the cloud the instance only ever talks to Google's
front end, which terminates the client connections (docs/deploy.md); locally this server plays that
part:

- a request reaches a worker thread only once it is complete: the server reads headers and body
  itself, asynchronously, so an idle or slow socket holds no thread;
- a connection quiet for ``ANALYTICS_IDLE_TIMEOUT_SECONDS`` (default 10 s) is closed, whether it is
  between requests or half-way through one; up to 1,000 connections are held at once;
- the request line and headers are bounded together (32 KiB) and the body by
  ``ANALYTICS_MAX_BODY_BYTES``, checked before it is read;
- what the server refuses itself (malformed, too large) is answered in the API's JSON error shape,
  with the same security headers as every other answer.

``make serve`` (``tools/serve.py``) starts each function this way; Cloud Functions deployments are
not affected (they run the same app under functions-framework behind Google's front end).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import functions_framework
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from shared.config import settings
from shared.http.api import SECURITY_HEADERS

MAX_HEADER_BYTES = 32 * 1024
CONNECTION_LIMIT = 1000
DEFAULT_IDLE_TIMEOUT_S = 10

# What the server itself refuses, as the API's error codes (docs/api.md).
_CODES = {
    400: "malformed_request",
    413: "body_too_large",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}


class JsonErrorTask(ErrorTask):
    """waitress answers what it refuses in plain text; the API answers every error in JSON."""

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        message = {
            431: f"the request line and headers exceed {MAX_HEADER_BYTES} bytes",
            413: "the body is larger than this server accepts",
        }.get(status, f"{error.reason}: {error.body}")
        body = json.dumps(
            {"error": {"code": _CODES.get(status, "bad_request"), "message": message, "details": []}},
            separators=(",", ":"),
        ).encode()
        self.status = f"{status} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), *SECURITY_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def server_options(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """waitress's settings for one function (``THREADS`` as functions-framework reads it)."""
    source = os.environ if environ is None else environ
    return {
        "threads": int(source.get("THREADS") or (os.cpu_count() or 1) * 4),
        "channel_timeout": int(source.get("ANALYTICS_IDLE_TIMEOUT_SECONDS") or DEFAULT_IDLE_TIMEOUT_S),
        "cleanup_interval": 1,
        "connection_limit": CONNECTION_LIMIT,
        "max_request_header_size": MAX_HEADER_BYTES,
        # waitress refuses a body of this size or more: one byte over the API's own limit.
        "max_request_body_size": settings().max_body_bytes + 1,
        "asyncore_use_poll": True,  # select() stops at 1,024 descriptors
        "recv_bytes": 65536,  # a 500-event body in a few reads, not dozens
        "ident": "channel-analytics",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.server", description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # Whatever this process creates (the embedded store's files, the warehouse's log) is private.
    os.umask(0o077)
    app = functions_framework.create_app(target=args.target, source=args.source)
    server = create_server(app, host=args.host, port=args.port, **server_options())
    server.channel_class = JsonErrorChannel
    # SIGTERM (how the local stack stops it) keeps its default: the process ends at once, as a killed
    # gunicorn worker would; the stores are crash-safe. Raising from a handler instead could land while
    # the server holds one of its locks, and its close would then wait for that lock forever.
    try:
        server.run()
    except KeyboardInterrupt:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
