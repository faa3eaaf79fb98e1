# BI access: a dataset of its own holding one view per KPI table and view of the warehouse, and
# nothing else. The list comes from the code (infra/generated/bigquery_tables.json, "reporting":
# every declared table and view but raw_*, fact_* and the operational records; the rule is in
# shared/warehouse/reporting.py), so a table added there joins at the next `make deploy`.
#
# The views are authorized views: they read the warehouse, their readers cannot. Readers get
# roles/bigquery.dataViewer on this dataset only (var.reporting_readers), plus, optionally, the right
# to run query jobs in this project. docs/deploy.md ("BI access") connects Looker Studio, Power BI
# and Metabase.
locals {
  reporting_dataset_id = coalesce(var.reporting_dataset_id, "${var.dataset_id}_reporting")
  reporting_views      = local.warehouse.reporting

  # What a reader holds on the project when it runs its queries here: start query jobs, and read
  # query results through the Storage Read API (Power BI, Looker Studio and the Python client use it).
  reporting_reader_project_roles = ["roles/bigquery.jobUser", "roles/bigquery.readSessionUser"]
  reporting_project_roles = var.reporting_readers_run_jobs ? {
    for pair in setproduct(var.reporting_readers, local.reporting_reader_project_roles) :
    "${pair[0]}/${pair[1]}" => { member = pair[0], role = pair[1] }
  } : {}
}

resource "google_bigquery_dataset" "reporting" {
  project       = var.project_id
  dataset_id    = local.reporting_dataset_id
  friendly_name = "Channel Analytics reporting"
  description   = "KPI views of the Channel Analytics warehouse for BI tools (no raw data). Data dictionary: docs/data-dictionary.md."
  # An authorized view must live in the location of the data it reads.
  location                   = local.bigquery_location
  delete_contents_on_destroy = true # views only: they hold no data

  depends_on = [google_project_service.api]
}

resource "google_bigquery_table" "reporting" {
  for_each = local.reporting_views

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.reporting.dataset_id
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

  depends_on = [google_bigquery_table.table, google_bigquery_table.view]
}

# Each view may read the warehouse (an authorized view). BigQuery drops an authorization when the view
# is changed, so a changed view is authorized again (replace_triggered_by). The functions' own dataset
# roles are google_bigquery_dataset_iam_member grants; those keep authorized views since provider 6.x
# (GoogleCloudPlatform/magic-modules#14208), and run first so the two never edit the access list at once.
resource "google_bigquery_dataset_access" "reporting_view" {
  for_each = local.reporting_views

  project    = var.project_id
  dataset_id = google_bigquery_dataset.warehouse.dataset_id

  view {
    project_id = var.project_id
    dataset_id = google_bigquery_dataset.reporting.dataset_id
    table_id   = google_bigquery_table.reporting[each.key].table_id
  }

  lifecycle {
    replace_triggered_by = [google_bigquery_table.reporting[each.key]]
  }

  depends_on = [google_bigquery_dataset_iam_member.function]
}

resource "google_bigquery_dataset_iam_member" "reporting_reader" {
  for_each = toset(var.reporting_readers)

  project    = var.project_id
  dataset_id = google_bigquery_dataset.reporting.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

# Running a query is a project permission; the data it may read is still only the reporting views.
resource "google_project_iam_member" "reporting_reader" {
  for_each = local.reporting_project_roles

  project = var.project_id
  role    = each.value.role
  member  = each.value.member
}
