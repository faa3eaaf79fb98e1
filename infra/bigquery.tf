# The warehouse, created from the declarations the code uses: infra/generated/bigquery_tables.json is
# written by `make infra-gen` from shared/warehouse/tables.py (every Table, and the views), and
# tests/infra fails when it is out of date.
locals {
  warehouse         = jsondecode(file("${path.module}/generated/bigquery_tables.json"))
  bigquery_location = coalesce(var.bigquery_location, var.region)
  partition_ttl_ms  = var.partition_expiration_days > 0 ? var.partition_expiration_days * 86400000 : null
  # A table may expire sooner than the dataset's retention (event_landing: its own days), never later.
  table_ttl_ms = {
    for name, t in local.warehouse.tables : name => (
      t.time_partitioning == null ? null :
      lookup(t.time_partitioning, "expiration_days", null) == null ? local.partition_ttl_ms :
      min(t.time_partitioning.expiration_days * 86400000, coalesce(local.partition_ttl_ms, t.time_partitioning.expiration_days * 86400000))
    )
  }
}

resource "google_bigquery_dataset" "warehouse" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  friendly_name              = "Channel Analytics"
  description                = "KPI warehouse of Channel Analytics: raw and fact tables, kpi_daily and its views."
  location                   = local.bigquery_location
  delete_contents_on_destroy = !var.protect_data

  depends_on = [google_project_service.api]
}

resource "google_bigquery_table" "table" {
  for_each = local.warehouse.tables

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.warehouse.dataset_id
  table_id            = each.key
  description         = each.value.description
  schema              = jsonencode(each.value.schema)
  clustering          = length(each.value.clustering) > 0 ? each.value.clustering : null
  deletion_protection = var.protect_data

  # Day partitions on the declared column; they expire after partition_expiration_days (0: never).
  dynamic "time_partitioning" {
    for_each = each.value.time_partitioning == null ? [] : [each.value.time_partitioning]
    content {
      type          = time_partitioning.value.type
      field         = time_partitioning.value.field
      expiration_ms = local.table_ttl_ms[each.key]
    }
  }
  require_partition_filter = each.value.time_partitioning == null ? null : each.value.require_partition_filter
}

# Views read the tables by their full name; the declaration names them bare, the generator marks
# where the project and dataset go.
resource "google_bigquery_table" "view" {
  for_each = local.warehouse.views

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.warehouse.dataset_id
  table_id            = each.key
  description         = each.value.description
  deletion_protection = false # a view holds no data; it is recreated from the declaration

  view {
    query = replace(
      replace(each.value.query, each.value.project_token, var.project_id),
      each.value.dataset_token,
      var.dataset_id,
    )
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.table]
}
