# The event sink (docs/scale.md): with event_sink = "bigquery-write", the ingest function appends
# accepted KPI events to the warehouse's event_landing table through the BigQuery Storage Write API
# (default stream) instead of writing one Firestore document per event, and the aggregation
# deduplicates them into raw_events inside BigQuery. The ingest identity may write that one table
# and nothing else of the dataset (a table-level binding: no dataset role, no query jobs).
locals {
  event_sink_enabled = var.event_sink == "bigquery-write"
  event_sink_url     = local.event_sink_enabled ? "bigquery-write://${var.project_id}/${var.dataset_id}" : ""
}

resource "google_bigquery_table_iam_member" "ingest_landing" {
  count = local.event_sink_enabled && contains(keys(local.functions), "ingest") ? 1 : 0

  project    = var.project_id
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  table_id   = google_bigquery_table.table["event_landing"].table_id
  # bigquery.tables.updateData on event_landing: what AppendRows needs.
  role   = "roles/bigquery.dataEditor"
  member = google_service_account.function["ingest"].member
}
