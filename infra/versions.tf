terraform {
  # 1.11: write-only attributes (the generated secrets never reach the state) and ephemeral resources.
  required_version = ">= 1.11"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 7.x: checked against the 7.0 upgrade guide (view.use_legacy_sql is set explicitly below,
      # disable_on_destroy too). Bump the major deliberately, after reading its upgrade guide.
      version = "~> 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7" # 3.7: ephemeral random_password
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13" # time_sleep: log-based metrics become known to Cloud Monitoring (monitoring.tf)
    }
  }

  # State is local by default (infra/terraform.tfstate, ignored by git). For a team, keep it in a
  # versioned GCS bucket: copy backend.tf.example to backend.tf and gcs.tfbackend.example to
  # gcs.tfbackend (docs/deploy.md, "State"); `make deploy` then initialises with it.
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = merge({ app = "channel-analytics", managed-by = "terraform" }, var.labels)
}
