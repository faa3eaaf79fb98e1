# Optional edge in front of the public ingest function (var.ingest_domain): an external Application
# Load Balancer with a Google-managed certificate and a Cloud Armor policy that limits the request
# rate per API key (the Authorization header) and, for requests without one, per client IP. The
# function's run.app URL is then closed (ingress: internal and load balancer only), so nobody goes
# around the limits. Costs (docs/deploy.md, "Abuse limits"): the forwarding rule, the policy and its
# rules, per request.
#
# The app's own limit (provider_rate_limit) answers the contract's JSON 429 with Retry-After; the
# edge answers a plain 429 and is set well above it (var.edge_rate_limits): it stops floods before
# they cost instances and store reads, it does not shape normal traffic.
locals {
  edge_enabled = var.ingest_domain != null
  edge         = local.edge_enabled && contains(keys(local.functions), "ingest") ? { ingest = true } : {}
}

resource "google_compute_security_policy" "ingest" {
  for_each = local.edge

  project     = var.project_id
  name        = "${var.name_prefix}-ingest"
  description = "Channel Analytics ingest: request rate per API key and, without one, per client IP."
  type        = "CLOUD_ARMOR"

  rule {
    priority    = 1000
    action      = "throttle"
    description = "per API key (Authorization header)"
    match {
      expr {
        expression = "has(request.headers['authorization'])"
      }
    }
    rate_limit_options {
      conform_action      = "allow"
      exceed_action       = "deny(429)"
      enforce_on_key      = "HTTP_HEADER"
      enforce_on_key_name = "Authorization"
      rate_limit_threshold {
        count        = var.edge_rate_limits.per_key
        interval_sec = 60
      }
    }
  }

  rule {
    priority    = 2000
    action      = "throttle"
    description = "per client IP, requests without a key"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.edge_rate_limits.per_ip
        interval_sec = 60
      }
    }
  }

  rule {
    priority    = 2147483647
    action      = "allow"
    description = "default rule"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_compute_region_network_endpoint_group" "ingest" {
  for_each = local.edge

  project               = var.project_id
  name                  = "${var.name_prefix}-ingest"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  # A 2nd-gen function is a Cloud Run service of the same name.
  cloud_run {
    service = google_cloudfunctions2_function.function["ingest"].name
  }
}

resource "google_compute_backend_service" "ingest" {
  for_each = local.edge

  project               = var.project_id
  name                  = "${var.name_prefix}-ingest"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.ingest["ingest"].id

  backend {
    group = google_compute_region_network_endpoint_group.ingest["ingest"].id
  }

  log_config {
    enable      = true
    sample_rate = 1
  }
}

resource "google_compute_url_map" "ingest" {
  for_each = local.edge

  project         = var.project_id
  name            = "${var.name_prefix}-ingest"
  default_service = google_compute_backend_service.ingest["ingest"].id
}

resource "google_compute_managed_ssl_certificate" "ingest" {
  for_each = local.edge

  project = var.project_id
  name    = "${var.name_prefix}-ingest"

  managed {
    domains = [var.ingest_domain]
  }
}

resource "google_compute_target_https_proxy" "ingest" {
  for_each = local.edge

  project          = var.project_id
  name             = "${var.name_prefix}-ingest"
  url_map          = google_compute_url_map.ingest["ingest"].id
  ssl_certificates = [google_compute_managed_ssl_certificate.ingest["ingest"].id]
}

resource "google_compute_global_address" "ingest" {
  for_each = local.edge

  project = var.project_id
  name    = "${var.name_prefix}-ingest"
}

resource "google_compute_global_forwarding_rule" "ingest" {
  for_each = local.edge

  project               = var.project_id
  name                  = "${var.name_prefix}-ingest"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  port_range            = "443"
  target                = google_compute_target_https_proxy.ingest["ingest"].id
  ip_address            = google_compute_global_address.ingest["ingest"].id
}
