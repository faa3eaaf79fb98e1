# The operational store. Composite indexes and single-field index exemptions come from
# infra/generated/firestore_indexes.json, written by `make infra-gen` from
# shared/store/firestore_indexes.py (the adapter's own declaration of the queries it runs).
locals {
  firestore_location = coalesce(var.firestore_location, var.region)
  firestore_indexes  = jsondecode(file("${path.module}/generated/firestore_indexes.json"))

  # Fields exempted from single-field indexing (indexed = false) and TTL fields (ttl = true). The
  # TTL field of the events collection (expire_at) is written by ingest: ingestion time plus
  # ANALYTICS_EVENT_RETENTION_DAYS (var.event_retention_days); documents without it never expire.
  field_settings = local.firestore_indexes.field_overrides
}

resource "google_firestore_database" "store" {
  project                           = var.project_id
  name                              = var.firestore_database
  location_id                       = local.firestore_location
  type                              = "FIRESTORE_NATIVE"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = var.firestore_point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.protect_data ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # Protected data outlives `terraform destroy` (the database is only dropped from the state).
  deletion_policy = var.protect_data ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.api]
}

resource "google_firestore_index" "composite" {
  for_each = local.firestore_indexes.indexes

  project     = var.project_id
  database    = google_firestore_database.store.name
  collection  = each.value.collection
  query_scope = each.value.query_scope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }
}

resource "google_firestore_field" "field" {
  for_each = local.field_settings

  project    = var.project_id
  database   = google_firestore_database.store.name
  collection = each.value.collection
  field      = each.value.field

  # An empty index_config removes every single-field index of the field (an exemption); without the
  # block the field keeps Firestore's automatic indexes.
  dynamic "index_config" {
    for_each = each.value.indexed ? [] : [true]
    content {}
  }

  # Firestore deletes a document about a day after the time in this field (TTL policy).
  dynamic "ttl_config" {
    for_each = each.value.ttl ? [true] : []
    content {}
  }
}
