"""Links between works that arrive before the works they name: updates (a retraction notice and
the work it retracts) and versions (a preprint and its journal article).

Each link is stored with the identifiers its source gives; ``*_work_id`` is set at load time when
the named work is already in the warehouse, and by :func:`resolve_links` once per run (from
``finish_run``) and per rebuild otherwise, so a run that was killed is caught up by the next.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb

from warehouse.db import sql
from warehouse.staging import staged

_RESOLVE = ("resolve_update_targets", "resolve_update_notices", "resolve_version_others")


def resolve_links(con: duckdb.DuckDBPyConnection) -> int:
    """Point every update and version link whose named id is now in work_ids at its work;
    returns how many links changed."""
    changed = 0
    for name in _RESOLVE:
        changed += con.execute(sql("connected.sql", name)).fetchall()[0][0]
    return changed


def mark_seed_works(con: duckdb.DuckDBPyConnection, work_ids: Collection[str]) -> None:
    """Works a seed document mentions are seed works (a citing work a seed names joins them)."""
    rows = [(w,) for w in sorted(work_ids)]
    with staged(con, "_in_seed_works", spec=[("work_id", "varchar")], rows=rows):
        con.execute(sql("connected.sql", "mark_seed_origin"))
