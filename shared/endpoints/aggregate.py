"""Route of ``functions/aggregate`` (Cloud Scheduler and operators, ``Authorization: Bearer
$ANALYTICS_ADMIN_TOKEN``; in the cloud the function is also private behind IAM/OIDC).

``POST /`` runs one aggregation. Answers:

- ``200`` the run report; ``status: "busy"`` when another run holds the lease and the request asked
  for no restatement: the running one picks up everything new, and a non-2xx would only make Cloud
  Scheduler retry into the same lease;
- ``409 aggregation_running`` when a restatement (``days``) finds the lease held: those days were NOT
  restated, so the caller must retry;
- ``503 warehouse_unavailable`` (with ``Retry-After``) when the warehouse failed: nothing was
  committed and the watermark did not move; ``503 store_unavailable`` likewise for the store;
- ``503 privacy_not_configured`` when no pseudonym salt is configured (docs/privacy.md): nothing is
  copied to the warehouse without one.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Any

from shared.aggregate.run import LeaseLost, RunReport, run_aggregation
from shared.aggregate.wire import AggregateRequest
from shared.errors import ApiError, validate_request
from shared.http.api import Api, Call, Route
from shared.http.body import read_json, require_object
from shared.openapi.spec import openapi_document
from shared.privacy.pseudonym import PseudonymSaltMissing
from shared.store.codec import to_iso
from shared.store.errors import StoreUnavailable
from shared.warehouse import open_warehouse
from shared.warehouse.port import WarehouseError, WarehouseUnavailable

log = logging.getLogger("channel_analytics.aggregate")


def _request(call: Call) -> AggregateRequest:
    """The body is optional (Cloud Scheduler may send none); when sent, it must be valid."""
    if not call.request.content_length and not call.request.headers.get("Transfer-Encoding"):
        return AggregateRequest()
    return validate_request(
        AggregateRequest, require_object(read_json(call.request, call.settings.max_body_bytes))
    )


def _warehouse_unavailable(call: Call, exc: WarehouseError) -> ApiError:
    """Any warehouse failure: the run committed nothing, so retrying the whole run is safe."""
    log.warning("warehouse unavailable: %s", exc)
    retry_after = exc.retry_after if isinstance(exc, WarehouseUnavailable) else 30
    return ApiError(
        503,
        "warehouse_unavailable",
        "the warehouse is unavailable; nothing was committed, retry later",
        headers={"Retry-After": str(max(retry_after, call.settings.retry_after_seconds))},
    )


# The key that marks a run's log line; the log-based metrics and alerts of infra/monitoring.tf
# select on it and read the fields below (tests/aggregate/test_monitoring_contract.py holds them to it).
RUN_EVENT = "aggregation_run"


def _log(entry: dict[str, Any]) -> None:
    print(json.dumps(entry, default=str, separators=(",", ":")), file=sys.stdout, flush=True)


def _log_report(call: Call, report: dict[str, Any]) -> None:
    """One structured line per run on stdout: Cloud Logging reads it as a JSON entry with a severity,
    so an operator finds each run's report (and a stuck lease) in the function's logs, and the
    monitoring reads runs, records read, rows written, duration and backlog from it: ``recordsRead``
    (all collections) and ``watermarkLagSeconds`` (how far behind the start of the run the
    watermark is; a growing lag is a growing backlog) are added to the report for that."""
    lag = None
    if report.get("watermark") and report.get("startedAt"):
        started, watermark = (datetime.fromisoformat(report[k]) for k in ("startedAt", "watermark"))
        lag = round(max(0.0, (started - watermark).total_seconds()), 3)
    _log(
        {
            "severity": "INFO",
            "message": f"aggregation {report['status']}",
            "event": RUN_EVENT,
            "actor": call.actor,
            **report,
            "recordsRead": sum(report.get("read", {}).values()),
            "watermarkLagSeconds": lag,
        }
    )


def _log_failure(call: Call, exc: Exception) -> None:
    """A run that did not complete (nothing was committed): one ERROR line with the reason's code,
    counted as ``status: failed`` by the monitoring."""
    if isinstance(exc, ApiError):
        code = exc.code
    elif isinstance(exc, StoreUnavailable):
        code = "store_unavailable"
    else:
        code = "internal_error"  # a bug: the Api logs the traceback and answers 500
    _log(
        {
            "severity": "ERROR",
            "message": f"aggregation failed: {code}",
            "event": RUN_EVENT,
            "actor": call.actor,
            "status": "failed",
            "code": code,
            "startedAt": to_iso(call.now),
        }
    )


def post_run(call: Call) -> tuple[int, Any]:
    body = _request(call)
    try:
        report = _run(call, body)
    except Exception as exc:
        _log_failure(call, exc)
        raise
    _log_report(call, report.wire().model_dump(mode="json", by_alias=True))
    if report.status == "busy" and body.days:
        raise ApiError(
            409,
            "aggregation_running",
            "another aggregation run is in progress; the days were not restated, retry later",
            headers={"Retry-After": "30"},
        )
    return 200, report.wire()


def _run(call: Call, body: AggregateRequest) -> RunReport:
    try:
        warehouse = open_warehouse(call.settings.warehouse_url)
    except (WarehouseError, ValueError) as exc:  # ValueError: ANALYTICS_WAREHOUSE is not a usable URL
        raise _warehouse_unavailable(call, WarehouseError(str(exc))) from exc
    try:
        return run_aggregation(call.store, warehouse, call.now, body.days)
    except WarehouseError as exc:
        raise _warehouse_unavailable(call, exc) from exc
    except PseudonymSaltMissing as exc:
        log.error("aggregation refused: %s", exc)
        raise ApiError(503, "privacy_not_configured", str(exc), headers={"Retry-After": "300"}) from exc
    except LeaseLost as exc:
        raise ApiError(409, "aggregation_running", "another aggregation run took over; retry later") from exc
    finally:
        warehouse.close()


ROUTES = [Route("POST", "/", post_run, "admin")]

api = Api("aggregate", ROUTES, lambda: openapi_document("aggregate"))
