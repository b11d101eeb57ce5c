"""The works a report or an export covers: every work, one seed document's, or those a query
selects. Held in the connection's temporary table ``report_scope(work_id, ordinal)``, which the
report's and the exports' queries join; creating it works on a read-only connection.
"""

from __future__ import annotations

import duckdb

from warehouse.db import sql
from warehouse.query import SqlError, run_sql


class ScopeError(Exception):
    """The asked subset cannot be made: the message is one line, ready for the user."""


def scope_all(con: duckdb.DuckDBPyConnection, *, citing: bool = True) -> int:
    """Every work of the warehouse (``citing=False``: but those known only as citing works);
    returns how many."""
    con.execute(sql("scope.sql", "create"))
    con.execute(sql("scope.sql", "all_works" if citing else "own_works"))
    return _size(con)


def citing_only(con: duckdb.DuckDBPyConnection) -> int:
    """How many works are known only as citing works (``works.origin = 'citing'``)."""
    return con.execute(sql("scope.sql", "citing_only")).fetchone()[0]


def scope_seed(con: duckdb.DuckDBPyConnection, doc: str) -> tuple[str, int]:
    """The works one seed document mentions. ``doc`` is its document_id, its path as loaded
    (``seeds/002_x.txt``) or the end of that path (``002_x.txt``). Returns (path, works).

    Raises ScopeError when no document, or more than one, answers to ``doc``.
    """
    found = con.execute(sql("scope.sql", "find_document"), {"doc": doc}).fetchall()
    if not found:
        known = [p for (p,) in con.execute(sql("scope.sql", "known_documents")).fetchall()]
        hint = f"; loaded documents: {', '.join(known)}" if known else "; none is loaded yet"
        raise ScopeError(f"--seed {doc}: no seed document of that name or id{hint}")
    if len(found) > 1:
        raise ScopeError(
            f"--seed {doc}: {len(found)} documents answer to it ({', '.join(p for _, p in found)}); "
            "give more of the path or the document_id"
        )
    document_id, path = found[0]
    con.execute(sql("scope.sql", "create"))
    con.execute(sql("scope.sql", "seed_works"), {"document_id": document_id})
    return path, _size(con)


def scope_query(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """The works whose ``work_id`` a read-only query returns (its ``work_id`` column, else its
    only column). Ids the warehouse does not hold are ignored. Raises ScopeError for a query
    that fails, writes, or returns no such column."""
    try:
        result = run_sql(con, query)
    except SqlError as exc:
        message = str(exc).replace("; pass --write to allow it", ": an export's query only reads")
        raise ScopeError(f"--sql: {message}") from None
    if "work_id" in result.columns:
        column = result.columns.index("work_id")
    elif len(result.columns) == 1:
        column = 0
    else:
        raise ScopeError(f"--sql: the query returns {result.columns}, not a work_id column")
    ids = sorted({row[column] for row in result.rows if row[column] is not None}, key=str)
    con.execute(sql("scope.sql", "create"))
    con.execute(sql("scope.sql", "listed_works"), {"ids": [str(i) for i in ids]})
    return _size(con)


def _size(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(sql("scope.sql", "size")).fetchone()[0]
