"""Configuration from ONHAND_* environment variables (and an optional .env file)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONHAND_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./onhand.db"
    redis_url: str | None = None
    nats_url: str | None = None
    # Default lifetime of a checkout hold; a tenant setting or the request may override it.
    reservation_ttl_seconds: int = 900
    # Coalesce concurrent hold requests of one process into shared transactions.
    group_commit: bool = True
    reconcile_interval_seconds: float = 30.0
    # Background jobs (expiry sweep, outbox dispatch, …) run inside `onhand serve` unless disabled.
    run_jobs: bool = True
    log_level: str = "info"


@lru_cache
def get_settings() -> Settings:
    return Settings()
