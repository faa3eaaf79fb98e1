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
  description = "Generate the admin token, the key pepper and the pseudonym salt (random, 48 characters) as the first version of each secret, via write-only attributes, so they never reach the state. Set to false to add the versions yourself with gcloud before the first apply."
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

# ------------------------------------------------------------------------ monitoring and alerting

variable "alert_emails" {
  description = "E-mail addresses the pipeline's alerts are sent to (one Cloud Monitoring e-mail channel each)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails: e-mail addresses only."
  }
}

variable "notification_channels" {
  description = "Existing Cloud Monitoring notification channels the alerts also page, as projects/PROJECT/notificationChannels/ID (PagerDuty, Slack, SMS, Pub/Sub... created in the console or elsewhere)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "notification_channels: use the channel's full name, projects/PROJECT/notificationChannels/ID."
  }
}

variable "alert_stale_minutes" {
  description = "Page when no aggregation run has completed for this many minutes (runs are every 5 minutes). Disabled while scheduler_paused."
  type        = number
  default     = 30

  validation {
    condition     = var.alert_stale_minutes >= 15 && floor(var.alert_stale_minutes) == var.alert_stale_minutes
    error_message = "alert_stale_minutes: a whole number of minutes, at least 15 (three missed runs)."
  }
}

variable "alert_failed_runs" {
  description = "Open an incident when this many aggregation attempts fail within 15 minutes (the scheduler retries a failed run twice)."
  type        = number
  default     = 2

  validation {
    condition     = var.alert_failed_runs >= 1 && floor(var.alert_failed_runs) == var.alert_failed_runs
    error_message = "alert_failed_runs: a whole number, at least 1."
  }
}

variable "alert_backlog_minutes" {
  description = "Warn when the aggregation's watermark stays more than this many minutes behind for 15 minutes (a growing backlog)."
  type        = number
  default     = 60

  validation {
    condition     = var.alert_backlog_minutes >= 10
    error_message = "alert_backlog_minutes: at least 10."
  }
}

variable "alert_ingest_error_ratio" {
  description = "Page when more than this share of ingest requests is answered 5xx (503 included) for 5 minutes."
  type        = number
  default     = 0.05

  validation {
    condition     = var.alert_ingest_error_ratio > 0 && var.alert_ingest_error_ratio < 1
    error_message = "alert_ingest_error_ratio: a fraction between 0 and 1, e.g. 0.05."
  }
}

variable "uptime_check_period" {
  description = "How often the uptime check calls /healthz of the public function, from each checker region."
  type        = string
  default     = "300s"

  validation {
    condition     = contains(["60s", "300s", "600s", "900s"], var.uptime_check_period)
    error_message = "uptime_check_period: 60s, 300s, 600s or 900s (Cloud Monitoring's choices)."
  }
}

variable "billing_account" {
  description = "Billing account id (XXXXXX-XXXXXX-XXXXXX) for a monthly budget alert on this project; null = no budget. Needs roles/billing.costsManager on the account."
  type        = string
  default     = null

  validation {
    condition     = var.billing_account == null || can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "billing_account: the id as XXXXXX-XXXXXX-XXXXXX."
  }
}

variable "monthly_budget" {
  description = "Monthly budget of the project, in the billing account's currency; alerts at 50%, 90% and 100% spent and at 100% forecast."
  type        = number
  default     = 50

  validation {
    condition     = var.monthly_budget >= 1
    error_message = "monthly_budget: at least 1."
  }
}

# ------------------------------------------------------------------------------------- BI access

variable "reporting_dataset_id" {
  description = "BigQuery dataset of the BI views (only the KPI tables and views); null = DATASET_reporting."
  type        = string
  default     = null

  validation {
    condition     = var.reporting_dataset_id == null || can(regex("^[A-Za-z0-9_]{1,1024}$", var.reporting_dataset_id))
    error_message = "reporting_dataset_id: letters, digits and underscores only."
  }
}

variable "reporting_readers" {
  description = "Who may read the BI views, e.g. [\"group:bi-team@example.com\", \"serviceAccount:metabase@P.iam.gserviceaccount.com\"]. They get roles/bigquery.dataViewer on the reporting dataset only, never on the warehouse."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for p in var.reporting_readers : can(regex("^(user|group|serviceAccount|domain):.+", p))
    ])
    error_message = "reporting_readers: use user:, group:, serviceAccount: or domain: members."
  }
}

variable "reporting_readers_run_jobs" {
  description = "Also let reporting_readers run query jobs in this project (roles/bigquery.jobUser and roles/bigquery.readSessionUser), so their queries are billed here; false when they bill their own project."
  type        = bool
  default     = true
}

# -------------------------------------------------------------------------------- abuse limits

variable "provider_rate_limit" {
  description = "Requests a second one provider may send to one ingest instance (ANALYTICS_PROVIDER_RATE_LIMIT); past it the app answers 429 rate_limited with Retry-After. 0 = no limit. With N instances a provider gets at most N times this."
  type        = number
  default     = 100

  validation {
    condition     = var.provider_rate_limit >= 0
    error_message = "provider_rate_limit: 0 (no limit) or a positive number of requests a second."
  }
}

variable "provider_rate_burst" {
  description = "Requests a provider may send at once to one instance above the rate (ANALYTICS_PROVIDER_RATE_BURST); 0 = twice the rate."
  type        = number
  default     = 0

  validation {
    condition     = var.provider_rate_burst >= 0 && floor(var.provider_rate_burst) == var.provider_rate_burst
    error_message = "provider_rate_burst: 0 or a whole number of requests."
  }
}

variable "ingest_domain" {
  description = "A domain for the ingest API (e.g. ingest.analytics.example.com): Terraform then puts an external HTTPS load balancer with a Google-managed certificate and a Cloud Armor policy in front of ingest, and closes its run.app URL. null = no edge (ingest is called at its run.app URL)."
  type        = string
  default     = null

  validation {
    condition     = var.ingest_domain == null || can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.ingest_domain))
    error_message = "ingest_domain: a lowercase DNS name such as ingest.analytics.example.com."
  }
}

variable "edge_rate_limits" {
  description = "Cloud Armor limits at the edge (with ingest_domain), per minute: per_key for each Authorization header value (each API key), per_ip for requests without one. Above the app's own limit, so providers normally meet the app's JSON 429 first; the edge only stops floods."
  type = object({
    per_key = number
    per_ip  = number
  })
  default = {
    per_key = 60000
    per_ip  = 600
  }

  validation {
    condition     = var.edge_rate_limits.per_key >= 1 && var.edge_rate_limits.per_ip >= 1
    error_message = "edge_rate_limits: at least 1 request a minute."
  }
}

# ------------------------------------------------------------------------ supervisor outputs

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

variable "event_sink" {
  description = "Where ingest puts accepted KPI events (ANALYTICS_EVENT_SINK, docs/scale.md): \"store\" (one Firestore document per event, the aggregation extracts them) or \"bigquery-write\" (appended to the warehouse's event_landing table with the Storage Write API and deduplicated in BigQuery: for sustained rates past ~5,000 events/s)."
  type        = string
  default     = "store"

  validation {
    condition     = contains(["store", "bigquery-write"], var.event_sink)
    error_message = "event_sink: \"store\" or \"bigquery-write\"."
  }
}
