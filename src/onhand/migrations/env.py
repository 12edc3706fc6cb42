"""Alembic environment: runs on the connection that onhand.schema hands over."""

from alembic import context

import onhand.cache.tables  # noqa: F401  (registers the cache tables on metadata)
import onhand.channels.tables  # noqa: F401  (registers the channel tables on metadata)
import onhand.counts.tables  # noqa: F401  (registers the cycle-count tables on metadata)
import onhand.events.tables  # noqa: F401  (registers the event tables on metadata)
import onhand.fulfilment.tables  # noqa: F401  (registers the fulfilment tables on metadata)
import onhand.planning.tables  # noqa: F401  (registers the planning tables on metadata)
import onhand.returns.tables  # noqa: F401  (registers the returns tables on metadata)
import onhand.web.reports.tables  # noqa: F401  (registers the console tiles on metadata)
from onhand.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
