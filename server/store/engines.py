"""Which store a process opens: the SQLite file `db_path` (the default), or PostgreSQL when
`database_url` is set. Here, above both, so that neither engine's module imports the other's."""

from __future__ import annotations

from .db import Store, TwoConnections


def open_store(settings) -> TwoConnections:
    """The store the settings name; both offer what `Store` does."""
    if settings.database_url:
        from .postgresql import PostgresStore  # psycopg is needed only then

        return PostgresStore(
            settings.database_url, settings.db_path, settings.database_stuck_seconds
        )
    return Store(settings.db_path)
