# Function sources and images.
#
# `make build` writes build/<name>-<sha12>.zip and build/bundles.json; each bundle is uploaded under
# its content-hashed name, so a changed bundle is a new object and a new function revision, and an
# unchanged one is no change at all. The bucket is versioned: a replaced bundle object stays
# recoverable (as a noncurrent version) for bundle_retention_days, for rollbacks.
locals {
  bundle_dir      = "${path.module}/${var.bundle_dir}"
  bundle_manifest = jsondecode(file("${local.bundle_dir}/bundles.json"))
  bundle_bucket   = "${var.project_id}-${var.name_prefix}-bundles"
}

resource "google_storage_bucket" "bundles" {
  project                     = var.project_id
  name                        = local.bundle_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.protect_data

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.bundle_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "bundle" {
  for_each = local.functions

  bucket       = google_storage_bucket.bundles.name
  name         = "functions/${try(local.bundle_manifest[each.key].file, "${each.key}-missing.zip")}"
  source       = "${local.bundle_dir}/${try(local.bundle_manifest[each.key].file, "${each.key}-missing.zip")}"
  content_type = "application/zip"

  lifecycle {
    precondition {
      condition     = can(local.bundle_manifest[each.key].file)
      error_message = "No bundle for ${each.key} in ${var.bundle_dir}/bundles.json: run `make build`."
    }
    precondition {
      condition     = try(filesha256("${local.bundle_dir}/${local.bundle_manifest[each.key].file}") == local.bundle_manifest[each.key].sha256, false)
      error_message = "The ${each.key} bundle does not match bundles.json: run `make build` again."
    }
  }
}

# The function images, in a repository of this deployment with a cleanup policy (otherwise every
# deploy's image is kept, and billed, forever).
resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  description   = "Images built from the Channel Analytics function bundles."
  format        = "DOCKER"

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s" # 30 days; the 5 most recent versions of each image are kept regardless
    }
  }

  depends_on = [google_project_service.api]
}
