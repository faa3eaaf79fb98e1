# The deployed functions. One block per function in local.function_specs; a block is deployed when
# its code exists (functions/<name>/main.py in this tree, the tree `make build` bundles), so the
# deployment follows the code: adding a function (e.g. the daily `report`) is one more block here, and
# its service account, IAM, secrets, bundle, invoker bindings and, with a `schedule`, its Cloud
# Scheduler job follow from it. tests/infra checks every block against the code (the entry point is
# defined in main.py) and fails for a functions/<name>/main.py without a block.
#
# Sizing. functions-framework serves with gunicorn, one worker, THREADS threads: THREADS is set to
# the concurrency so an instance never accepts requests it has no thread for (the default, 4 x CPUs,
# would queue requests inside the instance instead of letting Cloud Run scale out). Cloud Run allows
# a concurrency above 1 only with at least 1 vCPU.
locals {
  runtime = "python312"

  function_specs = {
    # Provider traffic: many small requests, I/O-bound (Firestore commits). 1 vCPU, 20 in flight:
    # enough to keep the CPU busy while commits wait, few enough that pydantic validation under
    # the GIL does not stretch latency. 1 GiB: 20 bodies of up to 1 MiB, parsed, plus ~150 MiB of
    # libraries. Public: providers authenticate with API keys in the app.
    ingest = {
      entry_point     = "ingest"
      description     = "Provider API: conversations, KPI events, activities (API-key auth in the app)."
      public          = true
      operators       = false
      cpu             = "1"
      memory          = "1Gi"
      concurrency     = 20
      min_instances   = 0
      max_instances   = 20
      timeout_seconds = 60
      secrets         = ["key_pepper", "pseudonym_salt"] # the salt: erasure receipts (DELETE /v1/customers)
      project_roles   = ["roles/datastore.user"]
      dataset_roles   = []
      schedule        = null
    }

    # Operator API: a handful of calls a day. A third of a vCPU (so concurrency 1, THREADS 1) and
    # 512 MiB, the smallest size that imports the client libraries without a slow cold start.
    providers = {
      entry_point     = "providers"
      description     = "Operator API: providers, analytics flag, keys, event definitions, failed events."
      public          = false
      operators       = true
      cpu             = "0.333"
      memory          = "512Mi"
      concurrency     = 1
      min_instances   = 0
      max_instances   = 3
      timeout_seconds = 120
      secrets         = ["admin_token", "key_pepper"]
      project_roles   = ["roles/datastore.user"]
      dataset_roles   = []
      schedule        = null
    }

    # The aggregation: one run at a time per instance (concurrency 1) holding a lease in the store;
    # a second instance (max 2) answers a manual restatement or a retry at once while a run holds
    # the lease (200 "busy", or 409 for a restatement). 1 vCPU and 2 GiB: each staged page is an
    # Arrow table, and the Parquet spool files of a run's BigQuery loads sit in /tmp, which on Cloud
    # Run is memory. The timeout (9 min) is under the scheduler's attempt deadline (10 min), so the
    # scheduler never gives up on, and retries next to, an attempt that is still running.
    aggregate = {
      entry_point     = "aggregate"
      description     = "Scheduled aggregation: store -> warehouse facts -> kpi_daily (idempotent, lease-protected)."
      public          = false
      operators       = true
      cpu             = "1"
      memory          = "2Gi"
      concurrency     = 1
      min_instances   = 0
      max_instances   = 2
      timeout_seconds = 540
      secrets         = ["admin_token", "pseudonym_salt"] # operator token; the salt of customer pseudonyms
      project_roles   = ["roles/datastore.user", "roles/bigquery.jobUser"]
      dataset_roles   = ["roles/bigquery.dataEditor"]
      schedule = {
        cron             = "*/5 * * * *"
        attempt_deadline = "600s"
        # A failed run (a transient 503 of the store or the warehouse: nothing was committed) is
        # retried only while it is young; the next tick 5 minutes later catches up from the
        # watermark anyway, and a retry that meets a running run is answered "busy" at once.
        retry_count          = 2
        min_backoff_duration = "20s"
        max_backoff_duration = "80s"
        max_doublings        = 2
        max_retry_duration   = "240s"
        body                 = "{}"
      }
    }

    # The daily report e-mail (docs/outputs.md): once a day, after the night's aggregations have
    # settled yesterday. One run at a time (a lease in the store), 1 vCPU for the chart rendering
    # (vl-convert), 1 GiB. Reads the warehouse (dataViewer + jobUser), keeps its outbox in Firestore,
    # sends through Amazon SES with its own identity federated into an AWS role (no static key).
    # A run that could not hand every e-mail over answers 503: the scheduler retries it for two
    # hours, and what was sent is never sent again.
    report = {
      entry_point     = "report"
      description     = "Daily report e-mail: yesterday's KPIs to every subscriber, exactly once (Amazon SES)."
      public          = false
      operators       = true
      cpu             = "1"
      memory          = "1Gi"
      concurrency     = 1
      min_instances   = 0
      max_instances   = 1
      timeout_seconds = 540
      secrets         = ["admin_token"]
      project_roles   = ["roles/datastore.user", "roles/bigquery.jobUser"]
      dataset_roles   = ["roles/bigquery.dataViewer"]
      schedule = {
        cron                 = "30 6 * * *"
        attempt_deadline     = "600s"
        retry_count          = 5
        min_backoff_duration = "300s"
        max_backoff_duration = "1800s"
        max_doublings        = 2
        max_retry_duration   = "7200s"
        body                 = "{}"
      }
    }
  }

  functions = {
    for name, spec in local.function_specs : name => spec
    if fileexists("${path.module}/../functions/${name}/main.py")
  }

  store_url = "firestore://${var.project_id}/${var.firestore_database}"
  # The adapter's options repeat what Terraform gives the dataset and tables: jobs run in the
  # dataset's location, and a table the adapter ever creates itself gets the same partition expiry.
  warehouse_options = concat(
    ["location=${local.bigquery_location}"],
    # Always explicit: 0 keeps partitions forever, no option would mean the app's 730-day default.
    ["partition_expiration_days=${var.partition_expiration_days}"],
    var.maximum_bytes_billed > 0 ? ["maximum_bytes_billed=${var.maximum_bytes_billed}"] : [],
  )
  warehouse_url = "bigquery://${var.project_id}/${var.dataset_id}?${join("&", local.warehouse_options)}"

  # Supervisor outputs through Amazon SES and SNS (docs/outputs.md). Left empty, the code's defaults
  # apply (files under .local/, not writable on Cloud Run): messages then stay due and are retried,
  # never lost, until the variables are set.
  mailer_url = var.report_ses_region != "" ? "ses://${var.report_ses_region}" : ""
  alerts_url = var.alerts_sns_topic_arn != "" ? "sns://${element(split(":", var.alerts_sns_topic_arn), 3)}/${var.alerts_sns_topic_arn}" : ""
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-${each.key}"
  description = each.value.description

  build_config {
    runtime           = local.runtime
    entry_point       = each.value.entry_point
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.bundles.name
        object = google_storage_bucket_object.bundle[each.key].name
      }
    }
  }

  service_config {
    available_cpu                    = each.value.cpu
    available_memory                 = each.value.memory
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = each.value.min_instances
    max_instance_count               = lookup(var.max_instances, each.key, each.value.max_instances)
    timeout_seconds                  = each.value.timeout_seconds
    # Private functions are closed by IAM (run.invoker), not by ingress. Behind the edge
    # (var.ingest_domain, edge.tf), the public function takes traffic from the load balancer only.
    ingress_settings               = each.value.public && local.edge_enabled ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function[each.key].email

    environment_variables = {
      ANALYTICS_STORE                = local.store_url
      ANALYTICS_WAREHOUSE            = local.warehouse_url
      ANALYTICS_EVENT_RETENTION_DAYS = tostring(var.event_retention_days)
      ANALYTICS_MAILER               = local.mailer_url
      ANALYTICS_ALERTS               = local.alerts_url
      ANALYTICS_REPORT_FROM          = var.report_from
      ANALYTICS_AWS_ROLE_ARN         = var.aws_role_arn
      # A scheduled function also admits the scheduler's Google ID token on its operator route
      # (Cloud Scheduler cannot send the operator token); the app verifies the token and the e-mail.
      ANALYTICS_ADMIN_INVOKERS = each.value.schedule != null ? google_service_account.scheduler.email : ""
      THREADS                  = tostring(each.value.concurrency)
      # The per-provider request rate of the provider routes (429 rate_limited; docs/deploy.md).
      ANALYTICS_PROVIDER_RATE_LIMIT = tostring(var.provider_rate_limit)
      ANALYTICS_PROVIDER_RATE_BURST = tostring(var.provider_rate_burst)
      # Empty: events go to the store; else ingest appends them to BigQuery (sink.tf) and the
      # aggregation reads them there (docs/scale.md).
      ANALYTICS_EVENT_SINK = local.event_sink_url
    }

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = local.secrets[secret_environment_variables.value].env
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = local.secrets[secret_environment_variables.value].version
      }
    }
  }

  lifecycle {
    precondition {
      condition     = tonumber(each.value.cpu) >= 1 || each.value.concurrency == 1
      error_message = "${each.key}: a concurrency above 1 needs at least 1 vCPU."
    }
  }

  # The warehouse and the store exist before any function runs: the aggregation's own
  # CREATE ... IF NOT EXISTS must never race Terraform to create a table.
  depends_on = [
    google_project_service.api,
    google_bigquery_table.table,
    google_bigquery_table.view,
    google_firestore_database.store,
    google_project_iam_member.build,
    google_artifact_registry_repository_iam_member.build,
    google_project_iam_member.function,
    google_bigquery_dataset_iam_member.function,
    google_secret_manager_secret_iam_member.accessor,
    google_secret_manager_secret_version.initial,
  ]
}

# Who may call what. Only ingest is public (allUsers; the app checks API keys). The private functions
# admit the operators and, for scheduled ones, the scheduler's service account.
locals {
  invokers = merge(
    { for k, f in local.functions : "${k}/allUsers" => { function = k, member = "allUsers" } if f.public },
    merge([
      for k, f in local.functions : {
        for p in var.operator_principals : "${k}/${p}" => { function = k, member = p }
      } if f.operators && !f.public
    ]...),
    {
      for k, f in local.functions : "${k}/scheduler" => {
        function = k
        member   = google_service_account.scheduler.member
      } if f.schedule != null && !f.public
    },
  )
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invokers

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}
