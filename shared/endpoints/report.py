"""Route of ``functions/report`` (Cloud Scheduler, daily; operators may call it for a given day).

``POST /`` (optional body ``{"day": "YYYY-MM-DD"}``) sends the daily report of that UTC day
(default: yesterday) to every subscriber, once. Answers:

- ``200`` what the run did (``status: "busy"`` when another run holds the report lease);
- ``503 mailer_unavailable`` (with ``Retry-After``) when some e-mails could not be handed over: they
  stay due, the scheduler's retry (or tomorrow's run) sends them, and what was sent is never resent;
- ``503 warehouse_unavailable`` when the warehouse cannot be opened; ``503 store_unavailable``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from shared.errors import ApiError, validate_request
from shared.http.api import Api, Call, Route
from shared.http.body import read_json, require_object
from shared.openapi.spec import openapi_document
from shared.outputs.channels import open_mailer
from shared.outputs.report import run_report
from shared.outputs.wire import ReportRequest
from shared.warehouse import open_warehouse
from shared.warehouse.port import WarehouseError


def _request(call: Call) -> ReportRequest:
    if not call.request.content_length and not call.request.headers.get("Transfer-Encoding"):
        return ReportRequest()
    return validate_request(
        ReportRequest, require_object(read_json(call.request, call.settings.max_body_bytes))
    )


def post_run(call: Call) -> tuple[int, Any]:
    body = _request(call)
    cfg = call.settings
    try:
        warehouse = open_warehouse(cfg.warehouse_url)
    except (WarehouseError, ValueError) as exc:
        raise ApiError(
            503,
            "warehouse_unavailable",
            f"the warehouse is unavailable: {exc}",
            headers={"Retry-After": "60"},
        ) from exc
    try:
        answer = run_report(
            call.store,
            warehouse,
            lambda: open_mailer(cfg.mailer_url, cfg.aws_role_arn),
            call.now,
            cfg.report_from,
            body.day,
        )
    finally:
        warehouse.close()
    entry = {
        "severity": "INFO",
        "message": f"report {answer.status}",
        "actor": call.actor,
        **answer.model_dump(),
    }
    print(json.dumps(entry, separators=(",", ":")), file=sys.stdout, flush=True)
    if answer.failed:
        raise ApiError(
            503,
            "mailer_unavailable",
            f"{answer.failed} report e-mail(s) could not be sent; they are kept and retried, the "
            f"{answer.sent} sent are never sent again",
            [{"field": "failed", "code": "retry_later", "message": json.dumps(answer.model_dump())}],
            headers={"Retry-After": "300"},
        )
    return 200, answer


ROUTES = [Route("POST", "/", post_run, "admin")]

api = Api("report", ROUTES, lambda: openapi_document("report"))
