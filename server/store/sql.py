"""SQL written once for both engines (SQLite and PostgreSQL): the few statements whose usual
SQLite spelling the other engine does not know.

Everything else in server/ is plain SQL both engines read the same: `?` placeholders (the
PostgreSQL connection turns them into its own), `INSERT ... ON CONFLICT DO NOTHING` for
"keep the first", and `CAST(json_extract(doc, '$.key') AS BIGINT)` for a number in a JSON text
(PostgreSQL gets a `json_extract` of its own, returning text, from server/store/postgresql.py).
"""

from __future__ import annotations

from collections.abc import Sequence


def write_later(db, sql: str, params: list) -> None:
    """A write in the writer's transaction whose answer nobody reads: on PostgreSQL it goes
    with the next statement, so that a receipt's writes cost one round trip, not three
    (server/store/postgresql.py, `Database.later`); on SQLite, where a statement costs no
    trip, at once."""
    later = getattr(db, "later", None)
    (later or db.execute)(sql, params)


def replace_into(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """`INSERT OR REPLACE` for both engines: the row with this key is replaced by the values
    given. Stricter than SQLite's OR REPLACE: a NULL for a NOT NULL column is an error, not
    the column's default (the projectors give every value)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks(columns)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


def marks(values: Sequence) -> str:
    """The placeholders of `IN (...)` for these values. None is "NULL": `x IN (NULL)` is never
    true, as SQLite's `IN ()`, which PostgreSQL does not accept. Not for `NOT IN`: that of
    no values would be true in SQLite, and `NOT IN (NULL)` is never true."""
    return ", ".join("?" * len(values)) or "NULL"
