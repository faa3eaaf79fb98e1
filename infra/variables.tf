variable "project_id" {
  description = "Google Cloud project that hosts everything (functions, Firestore, BigQuery, secrets)."
  type        = string
}

variable "region" {
  description = "Region of the functions, the scheduler job, the bundle bucket and the image repository; also the default location of Firestore and BigQuery."
  type        = string
  default     = "europe-west1"
}

variable "name_prefix" {
  description = "Prefix of every named resource (functions, service accounts, secrets, bucket, repository). Lowercase letters, digits and hyphens; at most 20 characters so that service account ids stay within 30."
  type        = string
  default     = "channel-analytics"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix: 2-20 characters, lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Extra labels on every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "enable_apis" {
  description = "Enable the Google Cloud APIs the deployment needs. Set to false when a platform team enables them (see docs/deploy.md for the list)."
  type        = bool
  default     = true
}

variable "bundle_dir" {
  description = "Folder, relative to infra/, that holds the bundles and bundles.json written by `make build`."
  type        = string
  default     = "../build"
}

variable "bundle_retention_days" {
  description = "Days a replaced bundle object is kept (as a noncurrent version of the bucket) for rollbacks."
  type        = number
  default     = 90

  validation {
    condition     = var.bundle_retention_days >= 1
    error_message = "bundle_retention_days must be at least 1."
  }
}

variable "max_instances" {
  description = "Per-function override of the maximum instance count, e.g. { ingest = 50 }. Defaults are in functions.tf."
  type        = map(number)
  default     = {}
}

variable "operator_principals" {
  description = "Principals allowed to call the private functions (providers and aggregate), e.g. [\"group:analytics-ops@example.com\", \"user:alice@example.com\"]."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for p in var.operator_principals : can(regex("^(user|group|serviceAccount|domain):.+", p))
    ])
    error_message = "operator_principals: use user:, group:, serviceAccount: or domain: members; allUsers and allAuthenticatedUsers are not allowed on private functions."
  }
}

variable "dataset_id" {
  description = "BigQuery dataset of the warehouse (ANALYTICS_WAREHOUSE = bigquery://PROJECT/DATASET)."
  type        = string
  default     = "channel_analytics"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.dataset_id)) && length(var.dataset_id) <= 1024
    error_message = "dataset_id: letters, digits and underscores only, at most 1024 characters."
  }
}

variable "bigquery_location" {
  description = "BigQuery dataset location (e.g. EU, US, europe-west1). Defaults to the region."
  type        = string
  default     = null
}

variable "partition_expiration_days" {
  description = "Days a partition of a partitioned warehouse table is kept (by its partition date), for every partitioned table including kpi_daily. Default 730 = 24 months; 0 keeps partitions forever."
  type        = number
  default     = 730

  validation {
    condition     = var.partition_expiration_days >= 0
    error_message = "partition_expiration_days must be 0 (never expire) or positive."
  }
}

variable "maximum_bytes_billed" {
  description = "Cap on the bytes one warehouse query of the functions may bill (the adapter's maximum_bytes_billed); a query above it fails instead of costing more. 0 = no cap."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_bytes_billed >= 0 && floor(var.maximum_bytes_billed) == var.maximum_bytes_billed
    error_message = "maximum_bytes_billed must be 0 (no cap) or a positive whole number of bytes."
  }
}

variable "firestore_database" {
  description = "Firestore database id (ANALYTICS_STORE = firestore://PROJECT/DATABASE). \"(default)\" is the one the free tier applies to; use a named database when the project already has a (default) one."
  type        = string
  default     = "(default)"
}

variable "firestore_location" {
  description = "Firestore location: a region (e.g. europe-west1) or a multi-region (eur3, nam5). Defaults to the region. Cannot be changed after creation."
  type        = string
  default     = null
}

variable "event_retention_days" {
  description = "Days a raw event is kept in Firestore after ingestion (ANALYTICS_EVENT_RETENTION_DAYS; the TTL policy on events.expire_at deletes it about a day later). Keep it longer than providers retry a batch (an expired event no longer deduplicates a retry in the store) and longer than any restatement reads raw events from the store."
  type        = number
  default     = 400

  validation {
    condition     = var.event_retention_days >= 1 && floor(var.event_retention_days) == var.event_retention_days
    error_message = "event_retention_days must be a whole number of days, at least 1."
  }
}

variable "firestore_point_in_time_recovery" {
  description = "Keep 7 days of Firestore versions for point-in-time recovery (billed as storage)."
  type        = bool
  default     = false
}

variable "protect_data" {
  description = "Protect stored data from `terraform destroy`: Firestore delete protection (and the database is left in place on destroy), BigQuery table deletion protection, the dataset is not emptied. Set to false and apply before a teardown that should delete the data."
  type        = bool
  default     = true
}

variable "create_secret_versions" {
  description = "Generate the admin token and key pepper (random, 48 characters) as the first version of each secret, via write-only attributes, so they never reach the state. Set to false to add the versions yourself with gcloud before the first apply."
  type        = bool
  default     = true
}

variable "admin_token_version" {
  description = "Secret Manager version of the admin token the functions read. \"latest\" picks the newest at each instance start; pin a number and apply to roll a rotation out to every instance at once."
  type        = string
  default     = "latest"
}

variable "key_pepper_version" {
  description = "Secret Manager version of the key pepper. Pinned: every stored API-key hash depends on it, so a new pepper version invalidates all keys; change it only together with a key re-issue."
  type        = string
  default     = "1"
}

variable "pseudonym_salt_version" {
  description = "Secret Manager version of the pseudonym salt. Pinned: a new salt gives every customer a new pseudonym in the warehouse, and erasures match by pseudonym; change it only as docs/privacy.md describes."
  type        = string
  default     = "1"
}

variable "scheduler_paused" {
  description = "Pause the scheduled jobs (e.g. during a warehouse migration) without deleting them."
  type        = bool
  default     = false
}

variable "scheduler_time_zone" {
  description = "Time zone of the cron schedules."
  type        = string
  default     = "Etc/UTC"
}

variable "report_ses_region" {
  description = "AWS region of the Amazon SES identity the daily report is sent from (ANALYTICS_MAILER = ses://REGION). Empty: no mailer is configured and report e-mails stay due (retried, never lost)."
  type        = string
  default     = ""

  validation {
    condition     = var.report_ses_region == "" || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.report_ses_region))
    error_message = "report_ses_region: an AWS region such as eu-west-1, or empty."
  }
}

variable "report_from" {
  description = "Sender of the daily report e-mail, an address (or domain) verified in Amazon SES, e.g. \"Channel Analytics <reports@example.com>\" (ANALYTICS_REPORT_FROM)."
  type        = string
  default     = ""
}

variable "alerts_sns_topic_arn" {
  description = "Amazon SNS topic the KPI breach alerts are published to (ANALYTICS_ALERTS = sns://REGION/TOPIC_ARN); a FIFO topic (.fifo) also drops the one resend a crash can cause. Empty: alerts are recorded in kpi_alerts and stay due for publishing."
  type        = string
  default     = ""

  validation {
    condition     = var.alerts_sns_topic_arn == "" || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\\.fifo)?$", var.alerts_sns_topic_arn))
    error_message = "alerts_sns_topic_arn: an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), or empty."
  }
}

variable "aws_role_arn" {
  description = "AWS IAM role the report and aggregate functions assume with their Google identity (web identity federation, no static AWS key; ANALYTICS_AWS_ROLE_ARN). Its trust policy names accounts.google.com and the service accounts' unique ids (output aws_federation_subjects); docs/outputs.md has the policy."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_role_arn == "" || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.aws_role_arn))
    error_message = "aws_role_arn: an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), or empty."
  }
}
