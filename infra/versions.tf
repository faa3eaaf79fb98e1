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
  }

  # State is local by default (infra/terraform.tfstate, ignored by git). For a team, keep it in a
  # versioned GCS bucket: add `backend "gcs" {}` here and run
  # `terraform -chdir=infra init -backend-config="bucket=BUCKET" -backend-config="prefix=channel-analytics"`.
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = merge({ app = "channel-analytics", managed-by = "terraform" }, var.labels)
}
