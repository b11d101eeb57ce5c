"""What to ask each source next: the fetch plan and the refresh plan, read from the ledger.

A work is *settled* for a source once the source answered ``ok`` for any of its identifiers; an
identifier is settled once its ledger row says ``ok``, ``not_found`` or ``not_in_source`` (another
registration agency holds it: never asked again). ``failed`` and ``pending`` rows (and
identifiers never asked) are planned again.

* openalex: one identifier per unsettled work, preferring openalex > doi > pmid > pmcid.
* pubmed:   one identifier per unsettled work, preferring pmid > pmcid > doi.
* crossref: every unsettled DOI of every unsettled work, plus DOIs crossref answered ``not_found``
  for works another source did resolve, when that answer predates the current run (Crossref
  misses DOIs it should know often enough that one 404 is not the final word).
* any source: an identifier whose own ledger row says ``failed``/``pending`` is asked again even
  when a sibling identifier already settled its work, so no fault stays in the ledger for good.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from itertools import groupby

import duckdb

from pipeline.records import SETTLED, CitingAsk, Identifier
from warehouse.db import sql

PREFERENCE = {
    "openalex": ("openalex", "doi", "pmid", "pmcid"),
    "pubmed": ("pmid", "pmcid", "doi"),
    "crossref": ("doi",),
}
REFRESH_PREFERENCE = {
    "openalex": ("openalex", "doi", "pmid", "pmcid"),
    "crossref": ("doi",),
    "pubmed": ("pmid",),  # PubMed's cited-by (elink) needs a PMID
}
# Ledger statuses that say the source does not hold the identifier.
ABSENT = frozenset({"not_found", "not_in_source"})
# Rows are read from DuckDB this many at a time: a plan reads every identifier of the warehouse
# (100,000 rows at 100,000 ids), and ``fetchall`` held them all as Python tuples at once (~40 MB
# there, three plans per round), which raised the run's peak memory for nothing.
FETCH_ROWS = 10_000


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> Iterator[tuple]:
    """The rows of ``query``, read FETCH_ROWS at a time."""
    cur = con.execute(query, params)
    while rows := cur.fetchmany(FETCH_ROWS):
        yield from rows


def plan(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    refresh: bool = False,
    exclude: Collection[Identifier] = (),
    expand_citing: bool = False,
) -> list[Identifier]:
    """Identifiers to ask ``source`` about, in work order (see module docstring).

    ``refresh`` ignores settled rows; ``exclude`` skips identifiers already attempted this run;
    ``expand_citing`` also plans works known only as citing works (otherwise left unenriched).
    """
    if source not in PREFERENCE:
        raise ValueError(f"unknown source {source!r}")
    skip = {Identifier(*i) for i in exclude}
    elsewhere: set[str] = set()
    if source == "crossref":  # only crossref's plan asks
        elsewhere = {
            r[0] for r in _rows(con, sql("planning.sql", "resolved_elsewhere"), {"source": source})
        }
    current = con.execute(sql("planning.sql", "current_run")).fetchone()
    current_run = current[0] if current else None
    rows = _rows(
        con,
        sql("planning.sql", "work_identifiers"),
        {"source": source, "all_works": expand_citing},
    )
    out: list[Identifier] = []
    for work_id, group in groupby(rows, key=lambda r: r[0]):
        ids = [(Identifier(s, v), status, run) for _, s, v, status, run in group]
        if source == "crossref":
            out += _crossref_ids(ids, refresh, work_id in elsewhere, current_run)
        else:
            out += _preferred(ids, PREFERENCE[source], refresh)
    return [i for i in dict.fromkeys(out) if i not in skip]


def _unsettled_rows(ids: list[tuple]) -> list[Identifier]:
    """Identifiers of a settled work whose own ledger row still says failed/pending: asked again
    (once per run) so no fault is left standing in the ledger because a sibling id resolved the
    work (a PMCID whose converter call failed while its PMID was fetched)."""
    return [i for i, status, _ in ids if status in ("failed", "pending")]


def _preferred(ids: list[tuple], preference: tuple[str, ...], refresh: bool) -> list[Identifier]:
    if not refresh and any(status == "ok" for _, status, _ in ids):
        return _unsettled_rows(ids)
    for scheme in preference:
        for ident, status, _ in ids:
            if ident.scheme == scheme and (refresh or status not in SETTLED):
                return [ident]
    return []


def _crossref_ids(
    ids: list[tuple], refresh: bool, resolved_elsewhere: bool, current_run: str | None
) -> list[Identifier]:
    dois = [(i, status, run) for i, status, run in ids if i.scheme == "doi"]
    if refresh:
        return [i for i, _, _ in dois]
    if any(status == "ok" for _, status, _ in dois):
        return _unsettled_rows(dois)
    out = []
    for ident, status, run in dois:
        if status not in SETTLED:
            out.append(ident)
        elif status == "not_found" and resolved_elsewhere and run != current_run:
            out.append(ident)
    return out


def stale_works(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    stale_after: timedelta,
    now: datetime | None = None,
) -> list[Identifier]:
    """For refresh: one identifier per work whose newest ``source`` observation is older than
    ``stale_after`` (or missing), naming the work as that source prefers (openalex id for
    openalex, doi for crossref, pmid for pubmed). Identifiers the source said it does not know
    are left out."""
    if source not in REFRESH_PREFERENCE:
        raise ValueError(f"unknown source {source!r}")
    now = now or datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    cutoff = now - stale_after
    newest = dict(_rows(con, sql("planning.sql", "newest_observation"), {"source": source}))
    # works known only as citing works are refreshed once they have a record (--expand citing)
    skip = {
        r[0] for r in _rows(con, sql("planning.sql", "citing_without_record"), {"source": source})
    }
    rows = _rows(
        con, sql("planning.sql", "work_identifiers"), {"source": source, "all_works": True}
    )
    out = []
    for work_id, group in groupby(rows, key=lambda r: r[0]):
        if work_id in skip:
            continue
        seen = newest.get(work_id)
        if seen is not None and seen >= cutoff:
            continue
        pick = _count_id(source, [(Identifier(s, v), st) for _, s, v, st, _ in group])
        if pick:
            out.append(pick)
    return out


def uncounted(con: duckdb.DuckDBPyConnection, source: str) -> list[Identifier]:
    """One identifier per work that ``source`` resolved (an ``ok`` ledger row for any of its
    identifiers) but that has no citation observation from ``source`` yet, named as the source
    prefers for counts (REFRESH_PREFERENCE).

    A run killed after a source resolved a work but before it counted its citations (PubMed's
    cited-in count is a separate call after the records) leaves such works behind; the next run
    counts them without fetching their records again.
    """
    if source not in REFRESH_PREFERENCE:
        raise ValueError(f"unknown source {source!r}")
    rows = _rows(con, sql("planning.sql", "uncounted"), {"source": source})
    out = []
    for _work_id, group in groupby(rows, key=lambda r: r[0]):
        pick = _count_id(source, [(Identifier(s, v), st) for _, s, v, st in group])
        if pick:
            out.append(pick)
    return out


def _count_id(source: str, ids: list[tuple[Identifier, str | None]]) -> Identifier | None:
    """The work's identifier ``source`` prefers for counts (REFRESH_PREFERENCE), among those it
    has not answered ``not_found`` for (nor ruled out as ``not_in_source``); ``ids`` are
    (identifier, ledger status) pairs."""
    for scheme in REFRESH_PREFERENCE[source]:
        pick = next((i for i, st in ids if i.scheme == scheme and st not in ABSENT), None)
        if pick:
            return pick
    return None


# The scheme each source keys its records by (SourceRecord.source_key).
KEY_SCHEME = {"openalex": "openalex", "crossref": "doi", "pubmed": "pmid"}


def changed_works(con: duckdb.DuckDBPyConnection, source: str) -> list[Identifier]:
    """Works whose record ``source`` changed since it was fetched, by the source's own key:
    the newest count answer's change key differs from the stored record's (a refresh's counts
    query carries it, so finding them costs no request). A refetch that has not happened yet
    (failed, or the refresh was killed) leaves them here for the next refresh."""
    if source not in KEY_SCHEME:
        raise ValueError(f"unknown source {source!r}")
    params = {"source": source, "scheme": KEY_SCHEME[source]}
    rows = _rows(con, sql("planning.sql", "changed_works"), params)
    return [Identifier(KEY_SCHEME[source], key) for _, key in rows]


def fetched_at(
    con: duckdb.DuckDBPyConnection, source: str, ids: Collection[Identifier]
) -> dict[Identifier, datetime]:
    """When ``source``'s record of each of ``ids`` (its own keys) was fetched; ids it has no
    record for are left out."""
    from warehouse.staging import staged

    keys = sorted({i.value for i in ids if i.scheme == KEY_SCHEME[source]})
    with staged(con, "_in_keys", spec=[("source_key", "varchar")], rows=[(k,) for k in keys]):
        rows = con.execute(sql("planning.sql", "fetched_at"), {"source": source}).fetchall()
    return {Identifier(KEY_SCHEME[source], key): at for key, at in rows}


def citing_plan(con: duckdb.DuckDBPyConnection, source: str, *, cap: int | None) -> list[CitingAsk]:
    """Works whose citing works ``source`` should list: it has a record of them and counts
    citations, and it was never asked, or asked at another count and the cap (None: all) was
    not reached yet. Works a seed names as its subject are never capped; works known only as
    citing works are not asked (the graph grows one step from the seeds' works)."""
    if cap == 0:
        return []
    asks = []
    rows = _rows(con, sql("planning.sql", "citing_candidates"), {"source": source})
    for _work_id, key, count, held, subject in rows:
        limit = None if subject else cap
        if limit is not None and held >= limit:
            continue
        expected = count if limit is None else min(count, limit)
        asks.append(CitingAsk(Identifier(KEY_SCHEME[source], key), expected, limit))
    return asks
