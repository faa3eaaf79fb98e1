"""A small router for one HTTP function: match, authenticate, call, render — and never leak a 500
for something the client sent.

Each function's ``main.py`` builds one ``Api`` and hands it the Flask request.

A call may carry CIF's ``correlationId`` (a GUID grouping related calls for diagnostic telemetry) as
``X-Correlation-Id``: the answer echoes it, and the call is written as one structured log line with it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import flask
from flask import Request, Response
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from shared.auth.guard import authenticate_admin, authenticate_provider
from shared.config import Settings, settings
from shared.errors import ApiError
from shared.http.ratelimit import provider_limiter
from shared.store import store_for
from shared.store.errors import StoreUnavailable
from shared.store.port import Store
from shared.store.records import Provider

log = logging.getLogger("channel_analytics.http")

Auth = Literal["public", "provider", "admin"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Frame-Options": "DENY",
}
_SECURITY_ITEMS = tuple(SECURITY_HEADERS.items())

CORRELATION_HEADER = "X-Correlation-Id"
# A GUID (with or without braces) and the other usual trace-id shapes; nothing that could break a
# header or a log line.
CORRELATION_PATTERN = r"^[A-Za-z0-9._:;=+/{}-]{1,128}$"
_CORRELATION = re.compile(CORRELATION_PATTERN)
_INVALID = object()  # an X-Correlation-Id that is sent but unusable: 400 once the caller is known


def correlation_id(request: Request) -> str | object | None:
    """The call's correlation id, ``None`` without one, ``_INVALID`` for a bad one (or several)."""
    values = request.headers.getlist(CORRELATION_HEADER)
    if not values:
        return None
    if len(values) == 1 and _CORRELATION.match(values[0]):
        return values[0]
    return _INVALID


def log_call(
    function: str, request: Request, response: Response, correlation: str, trace: dict[str, Any]
) -> None:
    """One structured line on stdout (Cloud Logging reads it as a JSON entry with its severity)."""
    status = response.status_code
    entry = {
        "severity": "INFO" if status < 400 else "WARNING" if status < 500 else "ERROR",
        "message": f"{request.method} {request.path} {status}",
        "function": function,
        "method": request.method,
        "path": request.path,
        "status": status,
        "correlationId": correlation,
        **trace,
    }
    print(json.dumps(entry, separators=(",", ":"), default=str), file=sys.stdout, flush=True)


@dataclass
class Call:
    """What a handler gets: the request, the store, settings, the clock and the caller."""

    request: Request
    store: Store
    settings: Settings
    now: datetime
    provider: Provider | None = None
    actor: str = "anonymous"
    args: dict[str, str] = field(default_factory=dict)

    def query_int(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.request.args.get(name)
        if raw is None:
            return default
        # Plain ASCII digits only: int() would also take " 5", "+5", "5_0" and other scripts' digits.
        if not re.fullmatch(r"[0-9]{1,9}", raw):
            raise ApiError(400, "invalid_query", f"query parameter {name!r} must be an integer")
        value = int(raw)
        if not low <= value <= high:
            raise ApiError(400, "invalid_query", f"query parameter {name!r} must be in {low}..{high}")
        return value


Handler = Callable[..., tuple[int, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    handler: Handler
    auth: Auth
    needs_analytics: bool = False


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, BaseModel):
        text = body.model_dump_json(by_alias=True)
    else:
        text = json.dumps(body, separators=(",", ":"), default=str)
    resp = Response(text, status=status, mimetype="application/json")
    if headers:
        for key, value in {**SECURITY_HEADERS, **headers}.items():
            resp.headers[key] = value
    else:
        # None of these is set yet: append them (``headers[key] =`` first looks for one to replace).
        resp.headers.extend(_SECURITY_ITEMS)
    return resp


def error_response(err: ApiError) -> Response:
    return json_response(err.status, err.body(), err.headers)


def framework_error(exc: HTTPException) -> Response:
    """The v1 error shape for what functions-framework answers before our router sees the request
    (it serves ``/robots.txt`` and ``/favicon.ico`` as bare HTML 404s): every error is JSON."""
    status = exc.code or 500
    if status == 404:
        return error_response(
            ApiError(404, "route_not_found", f"no route for {flask.request.method} {flask.request.path}")
        )
    code = re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")
    return error_response(ApiError(status, code, f"{status} {exc.name}"))


def _raw_path(request: Request) -> str | None:
    """The path as the client sent it (percent-escapes kept), where the server passes it on:
    gunicorn sets ``RAW_URI``, waitress and werkzeug ``REQUEST_URI``."""
    uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not isinstance(uri, str) or not uri:
        return None
    if not uri.startswith("/"):  # absolute form: http://host/path
        uri = urlsplit(uri).path or "/"
    return uri.split("?", 1)[0].split("#", 1)[0]


class Api:
    def __init__(self, name: str, routes: list[Route], openapi: Callable[[], dict[str, Any]]):
        self.name = name
        self._routes = {f"{r.method} {r.rule}": r for r in routes}
        self._map = Map(
            [Rule(r.rule, methods=[r.method], endpoint=f"{r.method} {r.rule}") for r in routes]
            + [
                Rule("/openapi.json", methods=["GET"], endpoint="openapi"),
                Rule("/healthz", methods=["GET"], endpoint="health"),
            ],
            strict_slashes=False,
            # "/v1//events" is no route of ours: werkzeug would answer it with a redirect exception.
            merge_slashes=False,
        )
        self._openapi = openapi
        # Exact (method, path) of the routes without parameters: most requests skip werkzeug's
        # matcher. Anything else (parameters, trailing slashes, HEAD, errors) still goes through it.
        self._static = {(r.method, r.rule): f"{r.method} {r.rule}" for r in routes if "<" not in r.rule}

    def __call__(self, request: Request) -> Response:
        correlation = correlation_id(request)
        if not isinstance(correlation, str):
            return self._respond(request, correlation, {})
        started = time.monotonic()
        trace: dict[str, Any] = {}
        response = self._respond(request, correlation, trace)
        response.headers[CORRELATION_HEADER] = correlation
        trace["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        log_call(self.name, request, response, correlation, trace)
        return response

    def _respond(self, request: Request, correlation: object, trace: dict[str, Any]) -> Response:
        """The answer to one request; ``trace`` collects the caller and the error code for the log."""
        try:
            return self._dispatch(request, correlation, trace)
        except ApiError as err:
            trace["errorCode"] = err.code
            return error_response(err)
        except ValidationError:
            # Request bodies are validated by ``validate_request`` (422); this is a response the server
            # built that failed its own model: a defect of ours, never the client's fault.
            log.exception("a response of %s failed its own model", self.name)
            return error_response(ApiError(500, "internal_error", "an internal error occurred"))
        except StoreUnavailable as exc:
            trace["errorCode"] = "store_unavailable"
            log.warning("store unavailable: %s", exc)
            # ANALYTICS_RETRY_AFTER_SECONDS is the floor; an adapter that knows better may ask for more.
            retry_after = max(exc.retry_after, settings().retry_after_seconds)
            return error_response(
                ApiError(
                    503,
                    "store_unavailable",
                    "the operational store is unavailable; retry the same request later",
                    headers={"Retry-After": str(retry_after)},
                )
            )
        except Exception:  # a bug of ours: log it, and never send a stack trace to the client
            trace["errorCode"] = "internal_error"
            log.exception("unhandled error in %s", self.name)
            return error_response(ApiError(500, "internal_error", "an internal error occurred"))

    def _match(self, request: Request) -> tuple[str, dict[str, str]]:
        """The endpoint and path arguments of ``request``, or the 404/405 ``ApiError``.

        The server hands over the path decoded, where ``%2F`` has become ``/``: an id that holds a
        slash (a ``customerId`` may) would no longer be one path segment. A path that encodes a
        slash is therefore matched as sent, segment by segment, and each argument decoded after."""
        raw = _raw_path(request)
        if raw is not None and "%2f" in raw.lower():
            endpoint, args = self._match_path(request, raw)
            return endpoint, {k: unquote(v, errors="replace") for k, v in args.items()}
        endpoint = self._static.get((request.method, request.path))
        if endpoint is not None:
            return endpoint, {}
        return self._match_path(request, request.path)

    def _match_path(self, request: Request, path: str) -> tuple[str, dict[str, str]]:
        adapter = self._map.bind("localhost", path_info=path, default_method="GET")
        try:
            return adapter.match(path, method=request.method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise ApiError(
                405, "method_not_allowed", f"{request.method} is not allowed here", headers={"Allow": allowed}
            ) from exc
        except (NotFound, RequestRedirect) as exc:
            raise ApiError(404, "route_not_found", f"no route for {request.method} {request.path}") from exc

    def _dispatch(self, request: Request, correlation: object, trace: dict[str, Any]) -> Response:
        endpoint, args = self._match(request)
        if endpoint == "openapi":
            return json_response(200, self._openapi(), {"Cache-Control": "public, max-age=300"})
        if endpoint == "health":
            return json_response(200, {"status": "ok", "function": self.name})
        route = self._routes[endpoint]
        cfg = settings()
        store = store_for(cfg.store_url)
        call = Call(request=request, store=store, settings=cfg, now=datetime.now(UTC), args=args)
        if route.auth == "provider":
            limiter = provider_limiter(cfg.provider_rate_limit, cfg.provider_rate_burst)
            key_id = limiter.before_auth(request) if limiter else None
            call.provider = authenticate_provider(request, store, cfg, call.now)
            if limiter:
                limiter.take(call.provider.provider_id, key_id)
            call.actor = f"provider:{call.provider.provider_id}"
            trace["providerId"] = call.provider.provider_id
            if route.needs_analytics and not call.provider.enable_analytics:
                raise ApiError(
                    403,
                    "analytics_disabled",
                    f"analytics is switched off for provider {call.provider.provider_id!r}; "
                    "an operator can switch it on",
                )
        elif route.auth == "admin":
            call.actor = authenticate_admin(request, cfg)
            trace["actor"] = call.actor
        if correlation is _INVALID:  # checked once the caller is known: credentials come first
            raise ApiError(
                400,
                "invalid_correlation_id",
                f"{CORRELATION_HEADER} must be one value of 1..128 letters, digits or ._:;=+/{{}}-, "
                "e.g. a GUID",
            )
        status, body = route.handler(call, **args)
        return json_response(status, body)
