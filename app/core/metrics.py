"""Prometheus metrics of the process (exposed at /metrics)."""

from prometheus_client import Counter, Histogram

REQUESTS = Counter("ssp_http_requests_total", "HTTP requests served", ["method", "route", "status"])
REQUEST_LATENCY = Histogram(
    "ssp_http_request_duration_seconds",
    "Time to serve an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LOGINS = Counter("ssp_logins_total", "Sign-in attempts", ["outcome"])
