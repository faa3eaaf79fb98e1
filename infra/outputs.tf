output "function_urls" {
  description = "HTTPS endpoint of each function (the Cloud Run URL; the scheduler and operators call these)."
  value       = { for k, f in google_cloudfunctions2_function.function : k => f.service_config[0].uri }
}

# The per-function URLs are null for a function whose code is not in the deployed tree.
output "ingest_url" {
  description = "Give this to channel providers (with their API key): the edge domain when ingest_domain is set, else the function's URL."
  value = local.edge_enabled ? "https://${var.ingest_domain}" : try(
    google_cloudfunctions2_function.function["ingest"].service_config[0].uri, null
  )
}

output "providers_url" {
  description = "Operator API; callers need run.invoker (operator_principals) and the admin token."
  value       = try(google_cloudfunctions2_function.function["providers"].service_config[0].uri, null)
}

output "aggregate_url" {
  description = "Aggregation endpoint (called by Cloud Scheduler; operators may POST a restatement)."
  value       = try(google_cloudfunctions2_function.function["aggregate"].service_config[0].uri, null)
}

output "report_url" {
  description = "Daily report endpoint (called by Cloud Scheduler; operators may POST {\"day\": \"YYYY-MM-DD\"})."
  value       = try(google_cloudfunctions2_function.function["report"].service_config[0].uri, null)
}

output "aws_federation_subjects" {
  description = "Unique ids (the 'sub' of their Google ID tokens) of the service accounts that assume aws_role_arn: put them in the AWS role's trust policy (accounts.google.com:sub), docs/outputs.md."
  value = {
    for k, sa in google_service_account.function : k => sa.unique_id if contains(["aggregate", "report"], k)
  }
}

output "service_accounts" {
  description = "Runtime service account of each function, and the scheduler's and the build's."
  value = merge(
    { for k, sa in google_service_account.function : k => sa.email },
    { scheduler = google_service_account.scheduler.email, build = google_service_account.build.email },
  )
}

output "bundle_objects" {
  description = "The deployed bundle of each function (gs:// URL); keep it for rollbacks."
  value       = { for k, o in google_storage_bucket_object.bundle : k => "gs://${o.bucket}/${o.name}" }
}

output "store_url" {
  description = "ANALYTICS_STORE of the functions."
  value       = local.store_url
}

output "warehouse_url" {
  description = "ANALYTICS_WAREHOUSE of the functions."
  value       = local.warehouse_url
}

output "admin_token_command" {
  description = "Prints the operator token (needs secretmanager.versions.access on the secret)."
  value       = "gcloud secrets versions access latest --secret=${google_secret_manager_secret.secret["admin_token"].secret_id} --project=${var.project_id}"
}

output "ingest_edge_ip" {
  description = "With ingest_domain: the load balancer's address; point an A record of the domain at it (the certificate is issued once it resolves)."
  value       = try(google_compute_global_address.ingest["ingest"].address, null)
}

output "dashboard_url" {
  description = "The pipeline's Cloud Monitoring dashboard."
  value       = "https://console.cloud.google.com/monitoring/dashboards/custom/${element(split("/", google_monitoring_dashboard.pipeline.id), 3)}?project=${var.project_id}"
}

output "alert_policies" {
  description = "The alert policies that page the notification channels."
  value = merge(
    {
      aggregation_failed  = google_monitoring_alert_policy.aggregation_failed.name
      aggregation_stale   = google_monitoring_alert_policy.aggregation_stale.name
      aggregation_backlog = google_monitoring_alert_policy.aggregation_backlog.name
      ingest_errors       = google_monitoring_alert_policy.ingest_errors.name
      ingest_saturated    = google_monitoring_alert_policy.ingest_saturated.name
    },
    { for k, p in google_monitoring_alert_policy.uptime : "${k}_uptime" => p.name },
  )
}

output "reporting_dataset" {
  description = "The BI dataset (PROJECT.DATASET): KPI views only; give BI tools this one (docs/deploy.md, BI access)."
  value       = "${var.project_id}.${google_bigquery_dataset.reporting.dataset_id}"
}

output "reporting_views" {
  description = "The views in the BI dataset."
  value       = sort(keys(google_bigquery_table.reporting))
}
