# The app's secrets, exposed to the functions that need them as environment variables
# (secret_environment_variables); each function's service account may read only its own.
locals {
  secrets = {
    admin_token = {
      env         = "ANALYTICS_ADMIN_TOKEN"
      description = "Operator bearer token of the providers API."
      version     = var.admin_token_version
    }
    key_pepper = {
      env         = "ANALYTICS_KEY_PEPPER"
      description = "Server-side secret mixed into API-key hashes. Never rotate it alone: every stored key hash depends on it."
      version     = var.key_pepper_version
    }
    pseudonym_salt = {
      env         = "ANALYTICS_PSEUDONYM_SALT"
      description = "Key of the customer pseudonyms in the warehouse (docs/privacy.md). Never rotate it alone: a new salt gives every customer a new pseudonym."
      version     = var.pseudonym_salt_version
    }
  }
}

resource "google_secret_manager_secret" "secret" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  labels    = { purpose = replace(each.key, "_", "-") }

  annotations = {
    description = each.value.description
    env         = each.value.env
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

# The first version of each secret: random, generated during apply and written through a write-only
# attribute, so the value is in Secret Manager and nowhere in the Terraform state or plan. It is
# written once (secret_data_wo_version); later versions are added with gcloud (docs/deploy.md).
ephemeral "random_password" "secret" {
  for_each = var.create_secret_versions ? local.secrets : {}

  length  = 48
  special = false
}

resource "google_secret_manager_secret_version" "initial" {
  for_each = var.create_secret_versions ? local.secrets : {}

  secret                 = google_secret_manager_secret.secret[each.key].id
  secret_data_wo         = ephemeral.random_password.secret[each.key].result
  secret_data_wo_version = 1
  deletion_policy        = "ABANDON" # dropping this resource must never disable a version a function reads
}
