"""Operating the deployment: monitoring and alerting on the pipeline, BI access, abuse limits, budget,
remote state. Structural checks of infra/ (python-hcl2), held against the code where they meet it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import hcl2
import pytest
import sqlglot

from shared.config import reset_settings, settings
from shared.kpi.bi import bi_views
from shared.warehouse import ddl, reporting
from shared.warehouse.tables import Column, Table
from tests.infra.terraform import INFRA, ROOT, first, load, ref
from tests.infra.test_terraform import _expression
from tests.support.functions import function_client
from tools import infra_gen

# Built-in metrics the alerts and the dashboard may read besides our log-based ones.
BUILT_IN_METRICS = {
    "run.googleapis.com/request_count",
    "run.googleapis.com/request_latencies",
    "run.googleapis.com/container/instance_count",
    "monitoring.googleapis.com/uptime_check/check_passed",
}
LOG_METRIC_REF = re.compile(r"\$\{local\.log_metric_types\.([a-z_]+)\}")


def policies() -> dict[str, dict]:
    return load().resources["google_monitoring_alert_policy"]


def conditions(policy: dict) -> list[tuple[str, dict]]:
    return [
        (kind, block)
        for condition in policy["conditions"]
        for kind in ("condition_threshold", "condition_absent")
        for block in condition.get(kind, [])
    ]


def log_metrics() -> set[str]:
    return {"runs", *load().locals["aggregate_distributions"]}


# ------------------------------------------------------------------------------------- alerting


def test_every_alert_policy_pages_the_notification_channels_and_says_what_to_do():
    config = load()
    assert policies(), "infra/ declares no alert policy"
    for name, policy in policies().items():
        assert ref(policy["notification_channels"]) == "local.notification_channels", name
        assert policy["severity"] in {"CRITICAL", "ERROR", "WARNING"}, name
        doc = first(policy["documentation"])
        assert doc["mime_type"] == "text/markdown" and "docs/deploy.md" in doc["content"], name
    channels = ref(config.locals["notification_channels"])
    assert (
        "var.notification_channels" in channels and "google_monitoring_notification_channel.email" in channels
    )
    email = config.resource("google_monitoring_notification_channel", "email")
    assert ref(email["for_each"]) == "toset(var.alert_emails)" and email["type"] == "email"
    assert config.variables["notification_channels"]["default"] == []
    # Without any channel, plan warns (a check block) rather than silently paging nobody.
    check = load().files["monitoring.tf"]["check"][0]["alerts_page_someone"]
    assert "var.notification_channels" in first(check["assert"])["condition"]


def test_the_pipeline_alerts_cover_failed_runs_a_stale_watermark_a_backlog_and_ingest_errors():
    p = policies()
    assert {
        "aggregation_failed",
        "aggregation_stale",
        "aggregation_backlog",
        "ingest_errors",
        "ingest_saturated",
        "uptime",
    } <= set(p)
    failed = [block["filter"] for _, block in conditions(p["aggregation_failed"])]
    assert any('metric.label.status="failed"' in f and "log_metric_types.runs" in f for f in failed)
    assert any(
        "run.googleapis.com/request_count" in f and "-aggregate" in f and 'response_code_class="5xx"' in f
        for f in failed
    ), "a crash or timeout logs no report: the 5xx of the function must alert too"
    [(kind, stale)] = conditions(p["aggregation_stale"])
    assert kind == "condition_absent" and 'metric.label.status="ok"' in stale["filter"]
    assert stale["duration"] == "${var.alert_stale_minutes * 60}s"
    aggregation = first(stale["aggregations"])
    assert aggregation["cross_series_reducer"] == "REDUCE_SUM" and "group_by_fields" not in aggregation, (
        "summed over revisions: a deploy starts a new series and must not read as an absence"
    )
    assert ref(p["aggregation_stale"]["enabled"]) == "!var.scheduler_paused"
    [(_, backlog)] = conditions(p["aggregation_backlog"])
    assert "log_metric_types.watermark_lag" in backlog["filter"]
    assert ref(backlog["threshold_value"]) == "var.alert_backlog_minutes * 60"
    [(_, ingest)] = conditions(p["ingest_errors"])
    assert "-ingest" in ingest["filter"] and 'response_code_class="5xx"' in ingest["filter"]
    assert "-ingest" in ingest["denominator_filter"] and "5xx" not in ingest["denominator_filter"]
    assert ref(ingest["threshold_value"]) == "var.alert_ingest_error_ratio"
    [(_, saturated)] = conditions(p["ingest_saturated"])
    assert "instance_count" in saturated["filter"] and "-ingest" in saturated["filter"]
    assert (
        'lookup(var.max_instances, "ingest", local.function_specs.ingest.max_instances)'
        in (saturated["threshold_value"])
    ), "the cap the alert compares with is the one functions.tf deploys"


def test_alerts_and_dashboard_read_only_declared_log_metrics_or_built_in_ones():
    declared = log_metrics()
    for name, policy in policies().items():
        for _, block in conditions(policy):
            for text in (block["filter"], block.get("denominator_filter", "")):
                for metric in LOG_METRIC_REF.findall(text):
                    assert metric in declared, (name, metric)
                for metric in re.findall(r'metric\.type="([^"$]+)"', text):
                    assert metric in BUILT_IN_METRICS, (name, metric)
    types = load().locals["log_metric_types"]
    assert "google_logging_metric.aggregate_runs.name" in types and "google_logging_metric.aggregate" in types


def test_alerts_on_log_metrics_wait_until_cloud_monitoring_knows_them():
    config = load()
    for name, policy in policies().items():
        reads_log_metric = any(LOG_METRIC_REF.search(block["filter"]) for _, block in conditions(policy))
        if reads_log_metric:
            assert "${time_sleep.log_metrics_known}" in policy.get("depends_on", []), name
    wait = config.resource("time_sleep", "log_metrics_known")
    assert int(wait["create_duration"].removesuffix("s")) >= 120
    assert "local.log_metric_types" in wait["triggers"]["metrics"], "a new metric waits again"
    time = first(config.terraform[0]["required_providers"])["time"]
    assert time["source"] == "hashicorp/time" and re.fullmatch(r"~> \d+\.\d+", time["version"])


def test_the_uptime_check_calls_healthz_of_each_public_function_and_expects_its_real_answer(env):
    config = load()
    check = config.resource("google_monitoring_uptime_check_config", "healthz")
    assert ref(check["for_each"]) == "local.uptime_hosts"
    assert "if f.public" in config.locals["uptime_hosts"]
    http = first(check["http_check"])
    assert http["path"] == "/healthz" and http["use_ssl"] is True and http["validate_ssl"] is True
    expected = first(check["content_matchers"])["content"]
    body = function_client("ingest").get("/healthz").get_data(as_text=True)
    assert expected in body, f"the check looks for {expected!r}; /healthz answers {body!r}"
    alert = policies()["uptime"]
    assert ref(alert["for_each"]) == "local.uptime_hosts"
    [(_, condition)] = conditions(alert)
    assert "google_monitoring_uptime_check_config.healthz[each.key].uptime_check_id" in condition["filter"]


def render_dashboard() -> dict:
    """infra/dashboard.json.tftpl filled in as templatefile() does, with the variables monitoring.tf passes."""
    call = load().resource("google_monitoring_dashboard", "pipeline")["dashboard_json"]
    passed = set(re.findall(r"[{,]\s*([a-z_]+)\s*=", call.split("dashboard.json.tftpl", 1)[1]))
    template = (INFRA / "dashboard.json.tftpl").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([a-z_]+)\}", template))
    assert used == passed, f"template variables {used} but monitoring.tf passes {passed}"
    values = {name: f"value-of-{name}" for name in used}
    values |= {"alert_policies": '["projects/p/alertPolicies/1"]', "lag_threshold_s": "3600"}
    text = re.sub(r"(?<!\$)\$\{([a-z_]+)\}", lambda m: values[m[1]], template).replace("$${", "${")
    return json.loads(text)


def test_the_dashboard_is_valid_json_with_non_overlapping_tiles_on_declared_metrics():
    dashboard = render_dashboard()
    layout = dashboard["mosaicLayout"]
    cells: set[tuple[int, int]] = set()
    for tile in layout["tiles"]:
        assert tile["xPos"] + tile["width"] <= layout["columns"], tile["widget"]["title"]
        area = {
            (x, y)
            for x in range(tile["xPos"], tile["xPos"] + tile["width"])
            for y in range(tile["yPos"], tile["yPos"] + tile["height"])
        }
        assert not area & cells, f"{tile['widget']['title']} overlaps another tile"
        cells |= area
    filters = re.findall(r'"filter": "([^"\\]*(?:\\.[^"\\]*)*)"', json.dumps(dashboard))
    metric_types = {m for f in filters for m in re.findall(r'metric\.type=\\"([^\\]+)\\"', f)}
    log_values = {
        f"value-of-{v}" for v in ("runs_metric", "records_metric", "rows_metric", "duration_metric")
    }
    log_values.add("value-of-lag_metric")
    assert metric_types <= BUILT_IN_METRICS | log_values, metric_types - BUILT_IN_METRICS - log_values
    assert log_values <= metric_types, "every log-based metric has a tile"
    assert any("incidentList" in tile["widget"] for tile in layout["tiles"])


# ------------------------------------------------------------------------------------ BI access


def test_the_reporting_dataset_holds_exactly_the_exposed_declared_relations():
    generated = json.loads((INFRA / "generated" / "bigquery_tables.json").read_text(encoding="utf-8"))
    declared = [t.name for t in ddl.declared_tables()] + [
        v.name for v in (*ddl.declared_views(), *bi_views())
    ]
    exposed = {name for name in declared if reporting.is_exposed(name)}
    assert set(generated["reporting"]) == exposed
    assert {"kpi_daily", "kpi_provider_daily"} <= exposed
    assert not {n for n in generated["reporting"] if n.startswith(("raw_", "fact_"))}
    for name, view in generated["reporting"].items():
        sql = view["query"].replace(view["project_token"], "p").replace(view["dataset_token"], "warehouse")
        tree = sqlglot.parse_one(sql, read="bigquery")
        [source] = list(tree.find_all(sqlglot.exp.Table))
        assert (source.catalog, source.db, source.name) == ("p", "warehouse", name)
        assert not reporting.customer_columns(tree.named_selects), name


def test_tables_added_later_join_or_stay_out_by_the_rule():
    for name in ("chat_module_visits", "relationship_snapshot", "relationship_contacts",
                 "relationship_daily_activity", "kpi_funnel_daily", "kpi_cumulative_daily", "kpi_catalog",
                 "kpi_alerts", "kpi_daily_by_queue"):  # fmt: skip
        assert reporting.is_exposed(name), name
    for name in ("raw_chat_events", "fact_chat_sessions", "customer_erasures"):
        assert not reporting.is_exposed(name), name


def test_a_relation_with_customer_ids_cannot_be_exposed_by_a_naming_slip():
    leaky = Table(
        "chat_sessions",
        "per customer",
        (Column("provider_id", "STRING", "p", True), Column("customer_id", "STRING", "pseudonym")),
        key=("provider_id",),
    )
    with pytest.raises(infra_gen.GenerationError, match="customer column"):
        infra_gen.reporting_views([leaky], [])
    view = ("kpi_per_customer", "d", "SELECT * FROM fact_conversations")
    fact = next(t for t in ddl.declared_tables() if t.name == "fact_conversations")
    with pytest.raises(infra_gen.GenerationError, match="customer column"):
        infra_gen.reporting_views([fact], [view])
    # Under a private name it stays out instead.
    assert infra_gen.reporting_views([fact], []) == {}


def test_reporting_views_are_authorized_and_readers_get_nothing_of_the_warehouse():
    config = load()
    assert ref(config.locals["reporting_views"]) == "local.warehouse.reporting"
    dataset = config.resource("google_bigquery_dataset", "reporting")
    assert ref(dataset["location"]) == "local.bigquery_location", "an authorized view lives with its data"
    views = config.resource("google_bigquery_table", "reporting")
    assert ref(views["for_each"]) == "local.reporting_views"
    assert ref(views["dataset_id"]) == "google_bigquery_dataset.reporting.dataset_id"
    assert first(views["view"])["use_legacy_sql"] is False
    access = config.resource("google_bigquery_dataset_access", "reporting_view")
    assert ref(access["for_each"]) == "local.reporting_views"
    assert ref(access["dataset_id"]) == "google_bigquery_dataset.warehouse.dataset_id"
    target = first(access["view"])
    assert ref(target["dataset_id"]) == "google_bigquery_dataset.reporting.dataset_id"
    assert ref(target["table_id"]) == "google_bigquery_table.reporting[each.key].table_id"
    assert first(access["lifecycle"])["replace_triggered_by"] == [
        "${google_bigquery_table.reporting[each.key]}"
    ]
    assert "${google_bigquery_dataset_iam_member.function}" in access["depends_on"]
    reader = config.resource("google_bigquery_dataset_iam_member", "reporting_reader")
    assert ref(reader["for_each"]) == "toset(var.reporting_readers)"
    assert ref(reader["dataset_id"]) == "google_bigquery_dataset.reporting.dataset_id"
    assert reader["role"] == "roles/bigquery.dataViewer"
    # Nobody but the functions holds a role on the warehouse dataset itself.
    for name, body in config.resources["google_bigquery_dataset_iam_member"].items():
        if "warehouse" in body["dataset_id"]:
            assert name == "function", name
    project = config.resource("google_project_iam_member", "reporting_reader")
    assert ref(project["for_each"]) == "local.reporting_project_roles"
    assert config.locals["reporting_reader_project_roles"] == [
        "roles/bigquery.jobUser",
        "roles/bigquery.readSessionUser",
    ]
    assert "var.reporting_readers_run_jobs" in config.locals["reporting_project_roles"]


# --------------------------------------------------------------------------------- abuse limits


def test_the_functions_get_the_rate_limit_the_app_reads(monkeypatch):
    config = load()
    env = first(config.resource("google_cloudfunctions2_function", "function")["service_config"])[
        "environment_variables"
    ]
    assert ref(env["ANALYTICS_PROVIDER_RATE_LIMIT"]) == "tostring(var.provider_rate_limit)"
    assert ref(env["ANALYTICS_PROVIDER_RATE_BURST"]) == "tostring(var.provider_rate_burst)"
    assert config.variables["provider_rate_limit"]["default"] > 0, "the cloud deployment limits by default"
    monkeypatch.setenv("ANALYTICS_PROVIDER_RATE_LIMIT", "100")
    monkeypatch.setenv("ANALYTICS_PROVIDER_RATE_BURST", "0")
    reset_settings()
    try:
        assert (settings().provider_rate_limit, settings().provider_rate_burst) == (100.0, 0)
    finally:
        monkeypatch.undo()
        reset_settings()


def test_the_edge_limits_per_api_key_and_per_ip_and_closes_the_direct_url():
    config = load()
    assert ref(config.locals["edge_enabled"]) == "var.ingest_domain != null"
    for type_ in (
        "google_compute_security_policy",
        "google_compute_region_network_endpoint_group",
        "google_compute_backend_service",
        "google_compute_url_map",
        "google_compute_managed_ssl_certificate",
        "google_compute_target_https_proxy",
        "google_compute_global_address",
        "google_compute_global_forwarding_rule",
    ):
        assert ref(config.resource(type_, "ingest")["for_each"]) == "local.edge", type_
    rules = {
        rule["priority"]: rule for rule in config.resource("google_compute_security_policy", "ingest")["rule"]
    }
    per_key, per_ip, default = rules[1000], rules[2000], rules[2147483647]
    key_options = first(per_key["rate_limit_options"])
    assert per_key["action"] == "throttle" and key_options["exceed_action"] == "deny(429)"
    assert (key_options["enforce_on_key"], key_options["enforce_on_key_name"]) == (
        "HTTP_HEADER",
        "Authorization",
    )
    assert "authorization" in first(first(per_key["match"])["expr"])["expression"]
    ip_options = first(per_ip["rate_limit_options"])
    assert ip_options["enforce_on_key"] == "IP" and ip_options["exceed_action"] == "deny(429)"
    assert default["action"] == "allow"
    backend = config.resource("google_compute_backend_service", "ingest")
    assert ref(backend["security_policy"]) == 'google_compute_security_policy.ingest["ingest"].id'
    neg = config.resource("google_compute_region_network_endpoint_group", "ingest")
    assert (
        ref(first(neg["cloud_run"])["service"]) == 'google_cloudfunctions2_function.function["ingest"].name'
    )
    service = first(config.resource("google_cloudfunctions2_function", "function")["service_config"])
    assert ref(service["ingress_settings"]) == (
        'each.value.public && local.edge_enabled ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_ALL"'
    )
    assert "var.ingest_domain" in config.outputs["ingest_url"]["value"]
    assert "var.ingest_domain" in config.locals["uptime_hosts"], "the uptime check follows the edge"


# ------------------------------------------------------------------------------ budget and state


def test_the_budget_alerts_the_same_channels_and_exists_only_with_a_billing_account():
    config = load()
    budget = config.resource("google_billing_budget", "project")
    assert ref(budget["count"]) == "var.billing_account == null ? 0 : 1"
    assert ref(budget["provider"]) == "google.billing"
    billing = next(p["google"] for p in config.files["budget.tf"]["provider"] if "google" in p)
    assert billing["alias"] == "billing" and billing["user_project_override"] is True
    assert (
        "local.notification_channels" in first(budget["all_updates_rule"])["monitoring_notification_channels"]
    )
    assert "data.google_project.this[0].number" in first(budget["budget_filter"])["projects"][0]
    assert "billingbudgets.googleapis.com" in config.locals["optional_apis"]
    assert "monitoring.googleapis.com" in config.locals["base_apis"]


def test_the_remote_state_example_is_a_gcs_backend_that_make_deploy_uses():
    with (INFRA / "backend.tf.example").open(encoding="utf-8") as handle:
        backend = hcl2.load(handle)
    assert {name.strip('"') for name in first(backend["terraform"])["backend"][0]} == {"gcs"}
    settings_text = (INFRA / "gcs.tfbackend.example").read_text(encoding="utf-8")
    assert re.search(r'^bucket\s*=\s*".+"', settings_text, re.M) and re.search(
        r"^prefix\s*=", settings_text, re.M
    )
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-backend-config=gcs.tfbackend" in makefile and "wildcard infra/gcs.tfbackend" in makefile


def test_terraform_itself_renders_the_dashboard_and_the_bi_readers_roles(tmp_path):
    """Offline (no provider): Terraform's own templatefile() and for-expressions on sample values."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: the dashboard template is not rendered by terraform")
    shutil.copy(INFRA / "dashboard.json.tftpl", tmp_path / "dashboard.json.tftpl")
    reporting_tf = (INFRA / "reporting.tf").read_text(encoding="utf-8")
    (tmp_path / "main.tf").write_text(
        'variable "reporting_readers" {\n'
        '  default = ["group:bi@example.com", "serviceAccount:metabase@p.iam.gserviceaccount.com"]\n'
        "}\n"
        'variable "reporting_readers_run_jobs" { default = true }\n'
        "locals {\n"
        f"  reporting_reader_project_roles = {_expression(reporting_tf, 'reporting_reader_project_roles')}\n"
        f"  reporting_project_roles = {_expression(reporting_tf, 'reporting_project_roles')}\n"
        "}\n"
        'output "roles" { value = local.reporting_project_roles }\n'
        'output "dashboard" {\n'
        '  value = jsondecode(templatefile("${path.module}/dashboard.json.tftpl", {\n'
        '    title = "t", runs_metric = "logging.googleapis.com/user/x/runs", records_metric = "r",\n'
        '    rows_metric = "w", duration_metric = "d", lag_metric = "l", lag_threshold_s = 3600,\n'
        '    ingest_service = "x-ingest", name_prefix = "x",\n'
        '    alert_policies = jsonencode(["projects/p/alertPolicies/1"]),\n'
        "  }))\n"
        "}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    run = {"cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120, "env": env}
    assert subprocess.run([terraform, "init", "-input=false", "-no-color"], **run).returncode == 0
    applied = subprocess.run([terraform, "apply", "-auto-approve", "-input=false", "-no-color"], **run)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    outputs = json.loads(subprocess.run([terraform, "output", "-json"], **run).stdout)
    roles = outputs["roles"]["value"]
    assert {(r["member"], r["role"]) for r in roles.values()} == {
        (member, role)
        for member in ("group:bi@example.com", "serviceAccount:metabase@p.iam.gserviceaccount.com")
        for role in ("roles/bigquery.jobUser", "roles/bigquery.readSessionUser")
    }
    dashboard = outputs["dashboard"]["value"]
    assert dashboard["displayName"] == "t"
    text = json.dumps(dashboard)
    assert '"legendTemplate": "${metric.label.status}"' in text, "$${ renders as a literal ${"
    assert 'metric.type=\\"logging.googleapis.com/user/x/runs\\"' in text
    incidents = next(
        t["widget"]["incidentList"]
        for t in dashboard["mosaicLayout"]["tiles"]
        if "incidentList" in t["widget"]
    )
    assert incidents["policyNames"] == ["projects/p/alertPolicies/1"]
