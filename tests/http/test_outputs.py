"""Operator routes of the supervisor outputs: report subscriptions and KPI breach thresholds.

Each answers like the other provider routes: admin only, 404 for an unknown provider or object,
409 for a duplicate, 422 with a specific code, every change in the provider's audit trail."""

from __future__ import annotations

import pytest

from tests.http.support import assert_error

P = "/v1/providers/acme"


@pytest.fixture
def acme_only(world, acme):
    return world


def test_subscribe_list_and_unsubscribe_with_their_audit(acme_only):
    w = acme_only
    created = w.providers.post(
        f"{P}/report-subscriptions", json={"email": "ada@example.com"}, headers=w.admin
    )
    assert created.status_code == 201, created.json
    sub = created.json
    assert sub["email"] == "ada@example.com" and sub["experienceId"] is None and sub["createdBy"]
    bot = w.providers.post(
        f"{P}/report-subscriptions",
        json={"email": "ada@example.com", "experienceId": "exp-advent"},
        headers=w.admin,
    )
    assert bot.status_code == 201 and bot.json["subscriptionId"] != sub["subscriptionId"]
    assert_error(
        w.providers.post(f"{P}/report-subscriptions", json={"email": "ADA@example.com"}, headers=w.admin),
        409,
        "subscription_exists",
    )
    listed = w.providers.get(f"{P}/report-subscriptions", headers=w.admin).json["items"]
    assert [s["subscriptionId"] for s in listed] == [sub["subscriptionId"], bot.json["subscriptionId"]]
    only = w.providers.get(f"{P}/report-subscriptions?experienceId=exp-advent", headers=w.admin).json["items"]
    assert [s["experienceId"] for s in only] == ["exp-advent"]
    removed = w.providers.delete(f"{P}/report-subscriptions/{sub['subscriptionId']}", headers=w.admin)
    assert removed.status_code == 200 and removed.json["email"] == "ada@example.com"
    assert_error(
        w.providers.delete(f"{P}/report-subscriptions/{sub['subscriptionId']}", headers=w.admin),
        404,
        "subscription_not_found",
    )
    actions = [a["action"] for a in w.providers.get(f"{P}/audit", headers=w.admin).json["items"]]
    assert actions[-3:] == ["report.subscribed", "report.subscribed", "report.unsubscribed"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-address"},
        {"email": "ada@example.com\r\nBcc: eve@example.com"},
        {"email": "ada@example.com", "extra": 1},
        {},
        {"email": "ada@example.com", "experienceId": ""},
    ],
)
def test_bad_subscriptions_are_422(acme_only, body):
    w = acme_only
    assert_error(
        w.providers.post(f"{P}/report-subscriptions", json=body, headers=w.admin), 422, "validation_failed"
    )


def test_thresholds_are_validated_against_the_catalog(acme_only):
    w = acme_only
    post = lambda body: w.providers.post(f"{P}/alert-thresholds", json=body, headers=w.admin)  # noqa: E731
    ok = post(
        {
            "kpi": "abandon_rate",
            "operator": ">",
            "value": 0.1,
            "slice": {"queueId": "*"},
            "minDenominator": 20,
        }
    )
    assert ok.status_code == 201, ok.json
    assert ok.json["unit"] == "ratio" and ok.json["slice"] == {"queueId": "*"}
    assert post({"kpi": "avg_speed_to_answer_s", "operator": ">=", "value": 60}).status_code == 201
    assert (
        post(
            {
                "kpi": "abandon_rate",
                "operator": ">",
                "value": 0.1,
                "slice": {"queueId": "billing", "agentId": "*"},
            }
        ).status_code
        == 201
    )
    assert_error(
        post(
            {
                "kpi": "abandon_rate",
                "operator": ">",
                "value": 0.1,
                "slice": {"queueId": "*"},
                "minDenominator": 20,
            }
        ),
        409,
        "threshold_exists",
    )
    assert_error(post({"kpi": "abandon_rates", "operator": ">", "value": 0.1}), 422, "unknown_kpi")
    assert_error(post({"kpi": "abandon_rate", "operator": ">", "value": 1.5}), 422, "threshold_out_of_range")
    assert_error(post({"kpi": "nps", "operator": "<", "value": -101}), 422, "threshold_out_of_range")
    err = assert_error(
        post(
            {
                "kpi": "abandon_rate",
                "operator": ">",
                "value": 0.1,
                "slice": {"channel": "voice", "queueId": "*"},
            }
        ),
        422,
        "slice_not_available",
    )
    assert err["details"][0]["field"] == "slice"
    assert_error(
        post({"kpi": "customers_deleted", "operator": ">", "value": 1, "slice": {"queueId": "*"}}),
        422,
        "slice_not_available",
    )
    assert_error(post({"kpi": "abandon_rate", "operator": "!=", "value": 0.1}), 422, "validation_failed")
    assert_error(post({"kpi": "abandon_rate", "operator": ">", "value": "0.1"}), 422, "validation_failed")
    assert_error(
        post({"kpi": "abandon_rate", "operator": ">", "value": 0.1, "slice": {"region": "*"}}),
        422,
        "validation_failed",
    )
    listed = w.providers.get(f"{P}/alert-thresholds", headers=w.admin).json["items"]
    assert len(listed) == 3
    removed = w.providers.delete(f"{P}/alert-thresholds/{listed[0]['thresholdId']}", headers=w.admin)
    assert removed.status_code == 200 and removed.json == listed[0]
    assert_error(
        w.providers.delete(f"{P}/alert-thresholds/{listed[0]['thresholdId']}", headers=w.admin),
        404,
        "threshold_not_found",
    )
    actions = [a["action"] for a in w.providers.get(f"{P}/audit", headers=w.admin).json["items"]]
    assert actions.count("alert.threshold_added") == 3 and actions[-1] == "alert.threshold_removed"


def test_routes_are_for_operators_and_known_providers_only(acme_only):
    w = acme_only
    for method, path in (
        ("post", "/v1/providers/nobody/report-subscriptions"),
        ("get", "/v1/providers/nobody/report-subscriptions"),
        ("delete", "/v1/providers/nobody/report-subscriptions/x"),
        ("post", "/v1/providers/nobody/alert-thresholds"),
        ("get", "/v1/providers/nobody/alert-thresholds"),
        ("delete", "/v1/providers/nobody/alert-thresholds/x"),
    ):
        body = (
            {"email": "a@example.com"}
            if "subscriptions" in path
            else {"kpi": "nps", "operator": "<", "value": 0}
        )
        kwargs = {"json": body} if method == "post" else {}
        assert_error(getattr(w.providers, method)(path, headers=w.admin, **kwargs), 404, "provider_not_found")
        provider_key = {"Authorization": f"Bearer {w.keys['acme']}"}
        assert getattr(w.providers, method)(
            path.replace("nobody", "acme"), headers=provider_key, **kwargs
        ).status_code in (401, 403)
