# A monthly budget on this project with alerts to the same notification channels as the pipeline's
# alerts (and to the billing account's administrators, as by default). Only with var.billing_account:
# creating a budget needs roles/billing.costsManager on the billing account, which a project owner
# does not have by default.
#
# The Billing Budgets API is called on behalf of a quota project: with user credentials (ADC), the
# provider must send one, hence this provider configuration (billing_project + user_project_override,
# as the google_billing_budget documentation requires).
provider "google" {
  alias                 = "billing"
  project               = var.project_id
  region                = var.region
  billing_project       = var.project_id
  user_project_override = true
}

# Read only for a budget: a data source is read at plan time, before Terraform enables any API.
data "google_project" "this" {
  count      = var.billing_account == null ? 0 : 1
  project_id = var.project_id
}

resource "google_billing_budget" "project" {
  count    = var.billing_account == null ? 0 : 1
  provider = google.billing

  billing_account = var.billing_account
  display_name    = "Channel Analytics ${var.name_prefix}"

  budget_filter {
    projects        = ["projects/${data.google_project.this[0].number}"]
    calendar_period = "MONTH"
  }

  amount {
    specified_amount {
      units = tostring(floor(var.monthly_budget)) # in the billing account's currency
    }
  }

  dynamic "threshold_rules" {
    for_each = [0.5, 0.9, 1.0]
    content {
      threshold_percent = threshold_rules.value
    }
  }
  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }

  all_updates_rule {
    # A budget notifies at most 5 monitoring channels.
    monitoring_notification_channels = slice(local.notification_channels, 0, min(5, length(local.notification_channels)))
    disable_default_iam_recipients   = false
  }

  depends_on = [google_project_service.api]
}
