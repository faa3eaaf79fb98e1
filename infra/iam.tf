# Identities. One runtime service account per function, holding only the roles in its block of
# functions.tf; one for the scheduler (it can only invoke the scheduled functions); one for Cloud Build
# (it builds the images). No binding anywhere grants roles/owner or roles/editor (tests/infra checks).

resource "google_service_account" "function" {
  for_each = local.functions

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "Channel Analytics ${each.key} function"
  description  = "Runtime identity of the ${each.key} function; roles: ${join(", ", concat(each.value.project_roles, each.value.dataset_roles))}."

  lifecycle {
    precondition {
      condition     = length("${var.name_prefix}-${each.key}") <= 30
      error_message = "Service account id ${var.name_prefix}-${each.key} is longer than 30 characters: shorten name_prefix."
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "Channel Analytics scheduler"
  description  = "Identity of the Cloud Scheduler jobs (OIDC tokens); can only invoke the scheduled functions."

  depends_on = [google_project_service.api]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "Channel Analytics function builds"
  description  = "Cloud Build identity for the function images: writes logs and images, reads the sources."

  depends_on = [google_project_service.api]
}

locals {
  # Firestore access is limited to this deployment's database with an IAM condition.
  firestore_database_resource = "projects/${var.project_id}/databases/${var.firestore_database}"

  function_project_roles = merge([
    for k, f in local.functions : {
      for role in f.project_roles : "${k}/${role}" => { function = k, role = role }
    }
  ]...)

  function_dataset_roles = merge([
    for k, f in local.functions : {
      for role in f.dataset_roles : "${k}/${role}" => { function = k, role = role }
    }
  ]...)

  secret_accessors = merge([
    for k, f in local.functions : {
      for s in f.secrets : "${k}/${s}" => { function = k, secret = s }
    }
  ]...)
}

resource "google_project_iam_member" "function" {
  for_each = local.function_project_roles

  project = var.project_id
  role    = each.value.role
  member  = google_service_account.function[each.value.function].member

  dynamic "condition" {
    for_each = each.value.role == "roles/datastore.user" ? [local.firestore_database_resource] : []
    content {
      title       = "only-${replace(var.firestore_database, "/[^a-z0-9-]/", "")}-database"
      description = "Firestore access limited to the Channel Analytics database."
      expression  = "resource.name == \"${condition.value}\""
    }
  }
}

resource "google_bigquery_dataset_iam_member" "function" {
  for_each = local.function_dataset_roles

  project    = var.project_id
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = each.value.role
  member     = google_service_account.function[each.value.function].member
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.secret_accessors

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.value.function].member
}

# Cloud Build: logs, images in this deployment's repository only, and read access to the function
# sources - the bundle bucket and the gcf-v2-sources-* bucket Cloud Functions copies a source into
# before the build (created by the service, so it is matched by name in an IAM condition).
resource "google_project_iam_member" "build" {
  for_each = {
    logs    = { role = "roles/logging.logWriter", condition = null }
    sources = { role = "roles/storage.objectViewer", condition = "sources" }
  }

  project = var.project_id
  role    = each.value.role
  member  = google_service_account.build.member

  dynamic "condition" {
    for_each = each.value.condition == null ? [] : [each.value.condition]
    content {
      title       = "function-sources-only"
      description = "Read only the function source buckets."
      expression = join(" || ", [
        "resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-\")",
        "resource.name == \"projects/_/buckets/${local.bundle_bucket}\"",
        "resource.name.startsWith(\"projects/_/buckets/${local.bundle_bucket}/objects/\")",
      ])
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "build" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}
