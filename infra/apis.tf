# The APIs the deployment uses. Left enabled on destroy: other workloads of the project may use them.
# docs/deploy.md lists the same ones for `enable_apis = false` (tests/infra checks).
locals {
  apis = toset(concat(local.base_apis, local.optional_apis))

  base_apis = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]

  # Only for the optional parts: the budget (billing_account), the edge (ingest_domain) and the
  # event sink (event_sink, the Storage Write API).
  optional_apis = concat(
    var.billing_account == null ? [] : ["billingbudgets.googleapis.com"],
    var.ingest_domain == null ? [] : ["compute.googleapis.com"],
    var.event_sink == "bigquery-write" ? ["bigquerystorage.googleapis.com"] : [],
  )
}

resource "google_project_service" "api" {
  for_each = var.enable_apis ? local.apis : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
