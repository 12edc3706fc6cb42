"""Configuration from ONHAND_* environment variables (and an optional .env file)."""

from functools import lru_cache
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RESERVATION_TTL_SECONDS = 900


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONHAND_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./onhand.db"
    redis_url: str | None = None
    nats_url: str | None = None
    # Default lifetime of a checkout hold; a tenant setting or the request may override it.
    reservation_ttl_seconds: int = DEFAULT_RESERVATION_TTL_SECONDS
    # Coalesce concurrent hold requests of one process into shared transactions.
    group_commit: bool = True
    reconcile_interval_seconds: float = 30.0
    # Background jobs (expiry sweep, outbox dispatch, …) run inside `onhand serve` unless disabled.
    run_jobs: bool = True
    log_level: str = "info"
    # "console" (one readable line per event) or "json" (one JSON object per line).
    log_format: Literal["console", "json"] = "console"
    # Origins allowed to call the API from a browser (storefront badge on another domain).
    cors_origins: list[str] = []
    # Live events: SSE keep-alive, leader lease (SQLite), webhook retries (backoff doubles).
    sse_heartbeat_seconds: float = 15.0
    leader_lease_seconds: float = 10.0
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 2.0
    webhook_timeout_seconds: float = 5.0
    # JetStream stream and subject prefix (<prefix>.<tenant>.<type>); one pair per installation.
    nats_stream: str = "ONHAND"
    nats_subject_prefix: str = "onhand"
    # Outbound HTTP (webhooks, channel API URLs) reaches only public addresses unless these
    # comma-separated CIDRs allow more, e.g. "127.0.0.0/8,10.0.0.0/8" (see netguard.py).
    allow_private_networks: str = ""
    # Channels: Fernet keys for stored credentials (first encrypts, all decrypt), alert mail,
    # how soon a stock change is pushed to the stores, how often the schedule is checked, the
    # first pause before a failed Shopify call is retried (it doubles, with jitter, up to 10 s).
    secret_key: str | None = None
    smtp_url: str | None = None
    alert_from: str = "onhand@localhost"
    channel_push_seconds: float = 2.0
    channel_schedule_seconds: float = 30.0
    channel_retry_seconds: float = 0.5
    # `/metrics` lists every tenant: with a token it needs `Authorization: Bearer <token>`,
    # without one it answers only clients on the loopback interface.
    metrics_token: str | None = None
    # Request bodies larger than this are refused with 413 before they are read.
    max_body_bytes: int = 1_048_576
    # Requests a minute per client address and tenant; 0 switches the limit off. Public tokens
    # are embedded in web pages; storefront tokens belong to one checkout server, which a flash
    # sale must not throttle, so they are unlimited unless set.
    public_rate_limit: int = 120
    storefront_rate_limit: int = 0
    rate_limit_window_seconds: int = 60
    # Prefix of every Redis key (onhand:<id>:…); default derived from the database identity.
    installation_id: str | None = None
    # Bearer JWTs from an identity provider (see jwt_auth.py); off unless a JWKS URL is set.
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_algorithms: list[str] = ["RS256", "ES256"]
    jwt_tenant_claim: str = "onhand_tenant"
    jwt_scope_claim: str = "scope"
    jwt_jwks_cache_seconds: float = 300.0

    @field_validator("allow_private_networks")
    @classmethod
    def _networks(cls, spec: str) -> str:
        if spec:  # netguard brings httpx, which a command that sends nothing need not load
            from .netguard import parse_networks

            parse_networks(spec)  # a typo fails at start-up, not at the first webhook
        return spec


@lru_cache
def get_settings() -> Settings:
    return Settings()
