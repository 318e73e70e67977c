"""Settings, read from the environment with the ``SSP_`` prefix (or a ``.env`` file)."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.addresses import LOOPBACK, NetworkList

# A well-known value so that the demo runs with no configuration; production refuses it.
DEFAULT_SECRET_KEY = "insecure-demo-secret-change-me-insecure-demo-secret"
# argon2id's cost: the library's recommended parameters (RFC 9106's second choice), and the least
# production accepts (the OWASP minimum for argon2id: 2 iterations over 19 MiB).
DEFAULT_PASSWORD_HASH_TIME_COST = 3
DEFAULT_PASSWORD_HASH_MEMORY_KIB = 65536
PASSWORD_HASH_FLOOR_TIME_COST = 2
PASSWORD_HASH_FLOOR_MEMORY_KIB = 19456
# An entry of SSP_WEBHOOK_ALLOWED_HOSTS that is not an address range: a host name, or "*." and
# a domain for every name under it.
_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_ALLOWED_HOST_NAME = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*")


class InsecureConfiguration(RuntimeError):
    """The settings are not safe for a production deployment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SSP_", env_file=".env", extra="ignore")

    env: Literal["production", "demo", "dev", "test"] = "production"
    database_url: str = "sqlite+aiosqlite:///./data/suishoupai.db"
    database_echo: bool = False
    database_pool_size: int = 10
    # Test each pooled connection with a round trip before use. Off: three extra round trips
    # on every request; after a database restart SQLAlchemy sees the first dropped connection
    # fail, discards the whole pool, and that one request is answered 500.
    database_pre_ping: bool = False
    # What stands between the service and PostgreSQL (README, "Connections and PgBouncer").
    # "pgbouncer-transaction": PgBouncer in transaction mode, where a server connection is the
    # service's for one transaction only, so no startup parameters and no prepared statements
    # kept from one transaction to the next.
    database_pooler: Literal["none", "pgbouncer-transaction"] = "none"
    # Straight to PostgreSQL, for what needs a session of its own: LISTEN for live events and
    # the migrations' lock. Unset: database_url; behind the pooler it must be set.
    database_direct_url: str | None = None
    # asyncpg's and SQLAlchemy's caches of prepared statements. Unset: on, except behind
    # PgBouncer in transaction mode (before 1.21, or without max_prepared_statements, PgBouncer
    # hands a cached statement's next use to a server connection that never prepared it).
    database_statement_cache: bool | None = None

    secret_key: str = DEFAULT_SECRET_KEY
    access_token_minutes: int = 30
    refresh_token_days: int = 30
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"

    # Login throttling: this many failures inside the window locks the account (or the client
    # address, with its own, higher threshold) out for the lockout period.
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_failure_window_seconds: int = 900
    login_lockout_seconds: int = 900

    # argon2id's cost for new password hashes: iterations and memory. Production refuses less
    # than the floor below; tests use the least argon2 allows (a login then costs microseconds).
    password_hash_time_cost: int = Field(default=DEFAULT_PASSWORD_HASH_TIME_COST, ge=1)
    password_hash_memory_kib: int = Field(default=DEFAULT_PASSWORD_HASH_MEMORY_KIB, ge=32)

    cors_origins: list[str] = Field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses or
    # networks, with commas. Empty: none, the client is the connection's peer
    # (app/core/proxies.py; uvicorn's own proxy handling is off).
    forwarded_allow_ips: NetworkList = Field(default_factory=list)
    # Who may read /metrics and the worker's metrics port: these addresses or networks, or
    # anyone sending `Authorization: Bearer <metrics_token>` (app/core/metrics_access.py).
    metrics_allowed_ips: NetworkList = Field(default_factory=lambda: list(LOOPBACK))
    metrics_token: str | None = None

    photo_storage: Literal["local", "s3"] = "local"
    photo_dir: Path = Path("./data/photos")
    s3_endpoint_url: str | None = None
    s3_bucket: str = "suishoupai-photos"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    # MinIO wants path-style addresses, Aliyun OSS virtual-hosted ones.
    s3_addressing_style: Literal["auto", "virtual", "path"] = "auto"
    # Create the bucket at startup if it is missing (off in production: a typo would create one).
    s3_create_bucket: bool = False

    # Photo intake. A request carries at most max_request_bytes in all (cut off with 413 as it
    # streams in); each photo at most max_photo_bytes and max_photo_pixels (decompression bombs).
    max_request_bytes: int = 60 * 1024 * 1024
    max_photo_bytes: int = 15 * 1024 * 1024
    max_photo_pixels: int = 50_000_000
    max_photos_per_report: int = 9
    photo_workers: int = 0  # threads doing photo work; 0 means one per CPU
    keep_original_photos: bool = False
    # A photo is flagged (not refused) when its EXIF position or time disagrees with the report.
    photo_max_distance_m: float = 500.0
    photo_max_age_hours: float = 24.0
    # Photos uploaded one at a time ahead of their report (POST /uploads): how long one waits
    # to be claimed before the worker removes it, and how many a person may have waiting.
    upload_expiry_hours: float = Field(24.0, gt=0)
    # How long a photo link in an answer opens the photo without a bearer token.
    photo_link_minutes: float = Field(60.0, gt=0)
    max_pending_uploads: int = Field(50, ge=1)

    # Report intake.
    restrict_to_china: bool = True  # refuse coordinates outside China's bounding box
    report_max_age_days: int = 30  # how far back occurred_at may go
    possible_duplicates_limit: int = 5

    # Workflow.
    reopen_window_days: int = 7  # how long after closing a case may be reopened
    # Overdue clocks are raised to the supervisors: a yellow card when a clock runs out, a red
    # card when it is this many hours past its deadline.
    overdue_red_card_after_hours: float = 24.0

    # Points (积分): per valid report, a bonus when it is closed, and caps against gaming.
    # Categories may override the two amounts.
    points_on_accept: int = 10
    points_close_bonus: int = 5
    # 随手清: a hazard its reporter cleared on the spot, found done by the community's check.
    points_self_resolved: int = 20
    points_daily_cap: int = 50
    points_monthly_cap: int = 300
    # 微心愿: what a volunteer earns when the resident confirms a wish fulfilled (within the
    # caps), and how long the resident has to confirm before the community's staff may.
    points_wish_fulfilled: int = Field(default=10, ge=0)
    wish_confirm_days: float = Field(default=3.0, gt=0)

    # Statistics (docs/product.md, "What the dashboards measure"): the weights of the three
    # rates in the combined score, and what a "basically satisfied" rating counts for.
    stats_weight_response: float = Field(default=0.1, ge=0)
    stats_weight_resolution: float = Field(default=0.5, ge=0)
    stats_weight_satisfaction: float = Field(default=0.4, ge=0)
    stats_basically_satisfied_weight: float = Field(default=0.9, ge=0, le=1)

    # Background work: in the embedded default the API process runs the worker loop itself;
    # in production run `python -m app worker` processes and set this to false on the API.
    embedded_worker: bool = True
    worker_interval_seconds: float = 5.0
    webhook_max_attempts: int = 8  # then the delivery is parked
    webhook_backoff_seconds: float = 30.0  # first retry delay, doubled each attempt
    webhook_timeout_seconds: float = 10.0
    # Webhooks go to public internet addresses only (app/integrations/targets.py), unless the
    # host is listed here: a name ("hooks.corp.example"), every name under a domain
    # ("*.corp.example") or an address range ("10.20.0.0/16", "fd00::/8", "10.1.2.3").
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    # Live events: how often a stream looks for new outbox rows (PostgreSQL also wakes it with
    # NOTIFY), and how often it sends a keep-alive comment through proxies.
    sse_poll_seconds: float = 1.0
    sse_keepalive_seconds: float = 15.0
    # Housekeeping: the worker deletes outbox events and delivered webhook deliveries older
    # than this (0 keeps everything), in transactions of at most retention_batch_size rows.
    # Parked deliveries, and the events they need, stay until someone retries them.
    retention_days: int = Field(default=30, ge=0)
    # How long an Idempotency-Key's answer is kept for retries (then deleted by the worker).
    idempotency_key_hours: int = Field(default=168, ge=1)
    retention_batch_size: int = Field(default=1000, ge=1, le=50_000)
    # PostgreSQL: the worker keeps this month's partitions of the case tables and those of this
    # many months after it made (app/core/partitions.py).
    partition_months_ahead: int = Field(default=3, ge=1, le=24)
    # A `python -m app worker` process serves its own Prometheus metrics (the overdue sweep,
    # deliveries, pruning) on this port; 0: none. The embedded worker's are on the API's /metrics.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)

    # How far outside every boundary a point may be and still be routed to the nearest community.
    routing_max_distance_m: float = 1000.0
    # Where the locator cannot LISTEN for other processes' boundary changes (SQLite, or while
    # its connection is lost), how often it reads the version row instead.
    geo_index_refresh_seconds: float = 5.0
    # How often a process (API or worker) checks whether another changed the working calendar.
    calendar_refresh_seconds: float = 30.0

    # Open311 GeoReport v2 (/open311/v2). Reading the cases without an api_key (de-personalised:
    # the standard fields only, photos at display size): None means on in the demo, off elsewhere.
    open311_public_read: bool | None = None
    # The one jurisdiction this server answers for; a request naming another is 404.
    open311_jurisdiction_id: str = "suishoupai.cn"
    open311_contact: str = "随手拍平台运维 (operations of the Suishoupai service)"
    open311_key_service: str = (
        "API keys are issued per integration by the administrators (POST /api/v1/api-keys)"
    )

    demo_password: str = "suishoupai-demo"
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _webhook_allowed_hosts(cls, entries: list[str]) -> list[str]:
        normalised = []
        for entry in entries:
            value = entry.strip().lower().rstrip(".")
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                if not _ALLOWED_HOST_NAME.fullmatch(value):
                    raise ValueError(
                        f"{entry!r} is neither a host name (optionally starting with '*.') "
                        "nor an address range"
                    ) from None
            normalised.append(value)
        return normalised

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.env == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise InsecureConfiguration(
                "SSP_SECRET_KEY is the published demo secret; set a random secret "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) "
                "or set SSP_ENV=demo for a local demo."
            )
        if len(self.secret_key) < 32:
            raise InsecureConfiguration("SSP_SECRET_KEY must be at least 32 characters long")
        if self.env == "production" and (
            self.password_hash_time_cost < PASSWORD_HASH_FLOOR_TIME_COST
            or self.password_hash_memory_kib < PASSWORD_HASH_FLOOR_MEMORY_KIB
        ):
            raise InsecureConfiguration(
                "In production SSP_PASSWORD_HASH_TIME_COST must be at least "
                f"{PASSWORD_HASH_FLOOR_TIME_COST} and SSP_PASSWORD_HASH_MEMORY_KIB at least "
                f"{PASSWORD_HASH_FLOOR_MEMORY_KIB}"
            )
        return self

    @model_validator(mode="after")
    def _direct_url_behind_the_pooler(self) -> Settings:
        if self.database_pooler != "none" and not self.database_direct_url:
            raise ValueError(
                "SSP_DATABASE_POOLER is set: set SSP_DATABASE_DIRECT_URL to a connection "
                "straight to PostgreSQL, for LISTEN and the migrations' lock (a transaction "
                "pooler cannot keep either)"
            )
        return self

    @property
    def direct_database_url(self) -> str:
        return self.database_direct_url or self.database_url

    @property
    def statement_cache(self) -> bool:
        if self.database_statement_cache is not None:
            return self.database_statement_cache
        return self.database_pooler == "none"

    @property
    def open311_reads_public(self) -> bool:
        if self.open311_public_read is not None:
            return self.open311_public_read
        return self.env == "demo"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
