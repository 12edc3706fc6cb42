"""The installation id: what keeps two onhand installations apart on one shared Redis.

Every Redis key onhand writes starts with `onhand:<installation id>:`. The id is
`ONHAND_INSTALLATION_ID` when set, else derived from the database the installation uses
(its URL without the password; a SQLite path made absolute), so the processes of one
installation agree on it without configuration and two installations never share keys.
"""

from __future__ import annotations

import hashlib
import os

from sqlalchemy.engine import make_url

from .settings import Settings


def database_identity(database_url: str) -> str:
    url = make_url(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{os.path.abspath(url.database or ':memory:')}"
    return url.set(drivername=url.get_backend_name(), password=None).render_as_string()


def installation_id(settings: Settings) -> str:
    if settings.installation_id:
        return settings.installation_id
    return hashlib.sha256(database_identity(settings.database_url).encode()).hexdigest()[:12]


def redis_prefix(settings: Settings) -> str:
    return f"onhand:{installation_id(settings)}:"
