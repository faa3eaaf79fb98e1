# One Cloud Scheduler job per function with a `schedule` in functions.tf (today: aggregate every
# 5 minutes). The job authenticates with an OIDC token of the scheduler service account, which holds
# run.invoker on the scheduled functions and nothing else (functions.tf, local.invokers).
#
# Deadlines and retries assume what the aggregation guarantees: a run is idempotent and holds a lease,
# so a retry or an overlapping tick never double-counts - at worst it is answered "busy" or finds
# nothing new.
locals {
  scheduled = { for k, f in local.functions : k => f if f.schedule != null }
}

resource "google_cloud_scheduler_job" "job" {
  for_each = local.scheduled

  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-${each.key}"
  description      = "Runs the ${each.key} function (${each.value.schedule.cron}, ${var.scheduler_time_zone})."
  schedule         = each.value.schedule.cron
  time_zone        = var.scheduler_time_zone
  paused           = var.scheduler_paused
  attempt_deadline = each.value.schedule.attempt_deadline

  retry_config {
    retry_count          = each.value.schedule.retry_count
    min_backoff_duration = each.value.schedule.min_backoff_duration
    max_backoff_duration = each.value.schedule.max_backoff_duration
    max_doublings        = each.value.schedule.max_doublings
    max_retry_duration   = each.value.schedule.max_retry_duration
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    body        = base64encode(each.value.schedule.body)
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  lifecycle {
    precondition {
      condition     = tonumber(trimsuffix(each.value.schedule.attempt_deadline, "s")) > each.value.timeout_seconds
      error_message = "${each.key}: the attempt deadline must exceed the function timeout, or the scheduler retries a run that is still going."
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invoker]
}
