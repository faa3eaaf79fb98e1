# Health of the pipeline itself: log-based metrics from the aggregation's run report, alert policies
# that page through the notification channels below, an uptime check on the public /healthz, and a
# dashboard. docs/deploy.md ("Is it healthy?") explains each signal and what to do when it fires.
#
# The run report is the one JSON line the aggregate function prints per run
# (shared/endpoints/aggregate.py): `"event": "aggregation_run"`, `status` ok / busy / failed, and for
# completed runs recordsRead, kpiRowsWritten, durationMs, watermarkLagSeconds and `more`.
# tests/aggregate/test_monitoring_contract.py runs the function and checks every field these
# metrics read against the line it really prints.
locals {
  metric_prefix = "${var.name_prefix}/aggregation"

  aggregate_run_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.name_prefix}-aggregate\" AND jsonPayload.event=\"aggregation_run\""

  # Distributions over completed runs, each read from one field of the report.
  aggregate_distributions = {
    records_read = {
      field       = "recordsRead"
      unit        = "1"
      description = "Store records one completed aggregation run read (all collections)."
    }
    kpi_rows_written = {
      field       = "kpiRowsWritten"
      unit        = "1"
      description = "kpi_daily rows one completed aggregation run replaced."
    }
    duration = {
      field       = "durationMs"
      unit        = "ms"
      description = "Duration of one completed aggregation run."
    }
    watermark_lag = {
      field       = "watermarkLagSeconds"
      unit        = "s"
      description = "How far the watermark is behind the start of the run: everything older is in the warehouse. It grows with a backlog."
    }
  }

  log_metric_types = merge(
    { runs = "logging.googleapis.com/user/${google_logging_metric.aggregate_runs.name}" },
    { for k, m in google_logging_metric.aggregate : k => "logging.googleapis.com/user/${m.name}" },
  )

  # Alerts page here: existing channels (var.notification_channels) and one e-mail channel per
  # address in var.alert_emails.
  notification_channels = concat(
    var.notification_channels,
    [for c in google_monitoring_notification_channel.email : c.id],
  )

  # Uptime checks: every public function (ingest), at the edge domain when one fronts it.
  uptime_hosts = {
    for k, f in local.functions : k => (
      local.edge_enabled && k == "ingest" ? var.ingest_domain :
      trimsuffix(trimprefix(google_cloudfunctions2_function.function[k].service_config[0].uri, "https://"), "/")
    ) if f.public
  }
  uptime_period_s = tonumber(trimsuffix(var.uptime_check_period, "s"))

  alert_labels = { app = "channel-analytics", deployment = var.name_prefix }
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.project_id
  display_name = "Channel Analytics (${var.name_prefix}): ${each.value}"
  type         = "email"
  labels       = { email_address = each.value }

  depends_on = [google_project_service.api]
}

check "alerts_page_someone" {
  assert {
    condition     = length(var.notification_channels) + length(var.alert_emails) > 0
    error_message = "No notification channel: the alert policies open incidents in the console but page nobody. Set alert_emails or notification_channels."
  }
}

# ---------------------------------------------------------------------------------- log metrics

resource "google_logging_metric" "aggregate_runs" {
  project     = var.project_id
  name        = "${local.metric_prefix}/runs"
  description = "Aggregation runs by status (ok, busy, failed), whether more was left to read, and a failed run's error code."
  filter      = local.aggregate_run_filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Aggregation runs (${var.name_prefix})"

    labels {
      key         = "status"
      value_type  = "STRING"
      description = "ok, busy (another run held the lease) or failed"
    }
    labels {
      key         = "more"
      value_type  = "STRING"
      description = "true when the run stopped at its record budget with more to read"
    }
    labels {
      key         = "code"
      value_type  = "STRING"
      description = "error code of a failed run, e.g. warehouse_unavailable"
    }
  }

  label_extractors = {
    status = "EXTRACT(jsonPayload.status)"
    more   = "EXTRACT(jsonPayload.more)"
    code   = "EXTRACT(jsonPayload.code)"
  }

  depends_on = [google_project_service.api]
}

resource "google_logging_metric" "aggregate" {
  for_each = local.aggregate_distributions

  project         = var.project_id
  name            = "${local.metric_prefix}/${each.key}"
  description     = each.value.description
  filter          = "${local.aggregate_run_filter} AND jsonPayload.status=\"ok\""
  value_extractor = "EXTRACT(jsonPayload.${each.value.field})"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = each.value.unit
    display_name = "Aggregation ${replace(each.key, "_", " ")} (${var.name_prefix})"
  }

  # 1 to about 10^7 (records, ms or seconds) in steps of 1.5x.
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.5
      scale              = 1
    }
  }

  depends_on = [google_project_service.api]
}

# Cloud Monitoring knows a new log-based metric only a few minutes after it is created; an alert
# policy created before that fails with "404 Cannot find metric(s)". The wait runs once, while the
# functions build, and never again.
resource "time_sleep" "log_metrics_known" {
  create_duration = "300s"
  triggers = {
    metrics = join(",", values(local.log_metric_types))
  }
}

# ------------------------------------------------------------------------------- alert policies

resource "google_monitoring_alert_policy" "aggregation_failed" {
  project               = var.project_id
  display_name          = "Channel Analytics (${var.name_prefix}): aggregation runs fail"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.notification_channels
  user_labels           = local.alert_labels

  conditions {
    display_name = "Runs reported failed (${var.alert_failed_runs} or more in 15 min)"
    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_types.runs}\" AND resource.type=\"cloud_run_revision\" AND metric.label.status=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_failed_runs - 0.5
      duration        = "0s"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  # What the run cannot log itself: a crash, an out-of-memory kill, the 9-minute timeout.
  conditions {
    display_name = "The aggregate function answers 5xx (${var.alert_failed_runs} or more in 15 min)"
    condition_threshold {
      filter          = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${var.name_prefix}-aggregate\" AND metric.label.response_code_class=\"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_failed_runs - 0.5
      duration        = "0s"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Channel Analytics: aggregation runs fail"
    content   = <<-EOT
      Aggregation runs of `${var.name_prefix}-aggregate` failed. Nothing was committed by a failed run
      and the watermark did not move, so no data is lost: the next successful run catches up.
      1. Read the failed runs: `gcloud logging read 'resource.labels.service_name="${var.name_prefix}-aggregate" AND jsonPayload.status="failed"' --limit 20 --project ${var.project_id}`
         (`code`: warehouse_unavailable = BigQuery, store_unavailable = Firestore, privacy_not_configured = the pseudonym salt secret).
      2. No such line: the function crashed or timed out; read its errors with
         `gcloud logging read 'resource.labels.service_name="${var.name_prefix}-aggregate" AND severity>=ERROR' --limit 20`.
      3. Fixed: run now with `gcloud scheduler jobs run ${var.name_prefix}-aggregate --location ${var.region}`.
      Runbook: docs/deploy.md, "When an alert fires".
    EOT
  }

  depends_on = [time_sleep.log_metrics_known]
}

resource "google_monitoring_alert_policy" "aggregation_stale" {
  project               = var.project_id
  display_name          = "Channel Analytics (${var.name_prefix}): no successful aggregation in ${var.alert_stale_minutes} min"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.notification_channels
  user_labels           = local.alert_labels
  # A paused scheduler is deliberate: it must not page.
  enabled = !var.scheduler_paused

  conditions {
    display_name = "No run reported ok for ${var.alert_stale_minutes} minutes"
    condition_absent {
      filter   = "metric.type=\"${local.log_metric_types.runs}\" AND resource.type=\"cloud_run_revision\" AND metric.label.status=\"ok\""
      duration = "${var.alert_stale_minutes * 60}s"
      # Summed over revisions: a deploy starts a new series and must not look like an absence.
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Channel Analytics: the aggregation has stopped"
    content   = <<-EOT
      No aggregation run of `${var.name_prefix}-aggregate` completed in ${var.alert_stale_minutes} minutes:
      kpi_daily is getting stale (events are still accepted and kept in Firestore).
      1. Is the job running? `gcloud scheduler jobs describe ${var.name_prefix}-aggregate --location ${var.region}`
         (state ENABLED; `status` of the last attempt: PERMISSION_DENIED / UNAUTHENTICATED = the scheduler's
         identity or run.invoker binding; re-apply Terraform).
      2. Only "busy" runs: a run holds the lease. It expires after 15 minutes without renewal; check for a
         run stuck at the 9-minute timeout in the function's logs.
      3. Failed runs: see the "aggregation runs fail" alert.
      Runbook: docs/deploy.md, "When an alert fires".
    EOT
  }

  depends_on = [time_sleep.log_metrics_known]
}

resource "google_monitoring_alert_policy" "aggregation_backlog" {
  project               = var.project_id
  display_name          = "Channel Analytics (${var.name_prefix}): aggregation backlog over ${var.alert_backlog_minutes} min"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.notification_channels
  user_labels           = local.alert_labels

  conditions {
    display_name = "Watermark more than ${var.alert_backlog_minutes} minutes behind for 15 minutes"
    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_types.watermark_lag}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_backlog_minutes * 60
      duration        = "900s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_PERCENTILE_50"
        cross_series_reducer = "REDUCE_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Channel Analytics: the aggregation is falling behind"
    content   = <<-EOT
      Runs of `${var.name_prefix}-aggregate` complete, but the data they have caught up to is more than
      ${var.alert_backlog_minutes} minutes old and not catching up: more arrives than one run every
      5 minutes can read (runs report `"more": true`).
      1. See records read per run and run duration on the dashboard.
      2. A one-off burst drains by itself (each run reads up to ANALYTICS_AGGREGATE_MAX_RECORDS).
         A sustained rate above it: docs/scale.md, "Where the aggregation bites".
      Runbook: docs/deploy.md, "When an alert fires".
    EOT
  }

  depends_on = [time_sleep.log_metrics_known]
}

resource "google_monitoring_alert_policy" "ingest_errors" {
  project               = var.project_id
  display_name          = "Channel Analytics (${var.name_prefix}): ingest 5xx above ${var.alert_ingest_error_ratio * 100}%"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.notification_channels
  user_labels           = local.alert_labels

  conditions {
    display_name = "Share of ingest requests answered 5xx (503 store_unavailable included)"
    condition_threshold {
      filter             = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${var.name_prefix}-ingest\" AND metric.label.response_code_class=\"5xx\""
      denominator_filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${var.name_prefix}-ingest\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_ingest_error_ratio
      duration           = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Channel Analytics: ingest is failing requests"
    content   = <<-EOT
      More than ${var.alert_ingest_error_ratio * 100}% of the requests to `${var.name_prefix}-ingest` were
      answered 5xx for 5 minutes. Providers retry a 503 (it carries Retry-After), so data is delayed, not
      lost, while they keep retrying.
      1. `gcloud logging read 'resource.labels.service_name="${var.name_prefix}-ingest" AND httpRequest.status>=500' --limit 20`
         - 503 store_unavailable: Firestore (quota, outage, IAM on the database).
         - 500 / 503 without our JSON: instances at max_instances or crashing (dashboard: instances).
      Runbook: docs/deploy.md, "When an alert fires".
    EOT
  }

  depends_on = [google_project_service.api]
}

# A flood (or real growth) shows first as instances at the cap: requests then queue and fail, and
# the bill grows by the hour. Nothing else pages on a flood of 401s or 429s (they are not 5xx).
resource "google_monitoring_alert_policy" "ingest_saturated" {
  project               = var.project_id
  display_name          = "Channel Analytics (${var.name_prefix}): ingest at its instance cap"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.notification_channels
  user_labels           = local.alert_labels

  conditions {
    display_name = "Ingest instances at 90% of max_instances or more for 15 minutes"
    condition_threshold {
      filter          = "metric.type=\"run.googleapis.com/container/instance_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${var.name_prefix}-ingest\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0.9 * lookup(var.max_instances, "ingest", local.function_specs.ingest.max_instances) - 0.5
      duration        = "900s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Channel Analytics: ingest is at its instance cap"
    content   = <<-EOT
      `${var.name_prefix}-ingest` has run at (nearly) max_instances for 15 minutes. Either providers send
      more than the deployment is sized for, or someone floods the public URL.
      1. Dashboard: ingest requests by status class. Mostly 2xx: real load, raise `max_instances` (docs/scale.md).
         Mostly 401/429: a flood or a misbehaving client; see who in the request logs
         (`gcloud logging read 'resource.labels.service_name="${var.name_prefix}-ingest" AND httpRequest.status>=400' --limit 50`)
         and put the edge in front (`ingest_domain`, Cloud Armor) if it is not.
      Runbook: docs/deploy.md, "When an alert fires" and "Abuse limits".
    EOT
  }

  depends_on = [google_project_service.api]
}

# -------------------------------------------------------------------------------- uptime checks

resource "google_monitoring_uptime_check_config" "healthz" {
  for_each = local.uptime_hosts

  project      = var.project_id
  display_name = "Channel Analytics (${var.name_prefix}) ${each.key} /healthz"
  timeout      = "10s"
  period       = var.uptime_check_period

  http_check {
    path           = "/healthz"
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"
  }

  content_matchers {
    content = "\"status\":\"ok\""
    matcher = "CONTAINS_STRING"
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = each.value
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_monitoring_alert_policy" "uptime" {
  for_each = local.uptime_hosts

  project               = var.project_id
  display_name          = "Channel Analytics (${var.name_prefix}): ${each.key} /healthz is down"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.notification_channels
  user_labels           = local.alert_labels

  conditions {
    display_name = "/healthz fails from more than one checker region"
    condition_threshold {
      filter          = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type=\"uptime_url\" AND metric.label.check_id=\"${google_monitoring_uptime_check_config.healthz[each.key].uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "${local.uptime_period_s}s"
      aggregations {
        alignment_period     = "${local.uptime_period_s * 2}s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Channel Analytics: ${each.key} is unreachable"
    content   = <<-EOT
      `https://${each.value}/healthz` fails from several regions: providers cannot send events.
      1. `curl -i https://${each.value}/healthz`
      2. The function's revisions and errors: `gcloud run services describe ${var.name_prefix}-${each.key} --region ${var.region}`.
      3. Behind the edge (ingest_domain): the certificate and the load balancer's backend health.
      Runbook: docs/deploy.md, "When an alert fires".
    EOT
  }
}

# ------------------------------------------------------------------------------------ dashboard

resource "google_monitoring_dashboard" "pipeline" {
  project = var.project_id
  dashboard_json = templatefile("${path.module}/dashboard.json.tftpl", {
    title           = "Channel Analytics (${var.name_prefix})"
    runs_metric     = local.log_metric_types.runs
    records_metric  = local.log_metric_types.records_read
    rows_metric     = local.log_metric_types.kpi_rows_written
    duration_metric = local.log_metric_types.duration
    lag_metric      = local.log_metric_types.watermark_lag
    lag_threshold_s = var.alert_backlog_minutes * 60
    ingest_service  = "${var.name_prefix}-ingest"
    name_prefix     = var.name_prefix
    alert_policies = jsonencode(concat(
      [
        google_monitoring_alert_policy.aggregation_failed.name,
        google_monitoring_alert_policy.aggregation_stale.name,
        google_monitoring_alert_policy.aggregation_backlog.name,
        google_monitoring_alert_policy.ingest_errors.name,
        google_monitoring_alert_policy.ingest_saturated.name,
      ],
      [for p in google_monitoring_alert_policy.uptime : p.name],
    ))
  })

  depends_on = [time_sleep.log_metrics_known]
}
