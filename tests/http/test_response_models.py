"""A response the server builds that fails its own model is a defect of ours (a logged 500), never a
422 as if the client had sent bad fields; request bodies still answer 422 with per-field details."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from flask import Flask, request

from shared.errors import validate_request
from shared.http.api import Api, Route
from shared.schema.provider import FailedEventOut, ProviderCreate
from tests.http.support import Checked, assert_error


def _bad_response(call):
    # "gone" is not a status the model knows: exactly how an erased failed event broke the listing.
    return 200, FailedEventOut(
        failedId="f", receivedAt=datetime.now(UTC), code="c", message="m", details=[],
        payload=None, envelope={}, status="gone", replayedAt=None, replayedEventId=None,
    )  # fmt: skip


def _echo_body(call):
    return 200, validate_request(ProviderCreate, call.request.get_json())


@pytest.fixture
def client(env) -> Checked:
    api = Api(
        "test",
        [Route("GET", "/bad", _bad_response, "public"), Route("POST", "/echo", _echo_body, "public")],
        lambda: {},
    )
    app = Flask("response-models")
    app.add_url_rule("/<path:_>", "all", lambda _: api(request), methods=["GET", "POST"])
    return Checked(app.test_client())


def test_a_response_failing_its_model_is_a_logged_500(client, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="channel_analytics.http"):
        resp = client.client.get("/bad")
    assert resp.status_code == 500
    assert resp.json["error"]["code"] == "internal_error"
    assert any("failed its own model" in r.getMessage() for r in caplog.records)


def test_a_request_body_failing_its_model_is_still_a_422_with_details(client) -> None:
    error = assert_error(client.post("/echo", json={"providerId": "x"}), 422, "validation_failed")
    assert {d["field"] for d in error["details"]} == {"providerId", "name"}
