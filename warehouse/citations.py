"""Who cites the works: citing links into ``work_citations``, citing works into the crosswalk.

A source's list of the works citing W (OpenAlex ``cites:W``, PubMed cited-in) becomes one edge
per citing work. Every citing work enters the crosswalk (``work_ids``): an id already known joins
its work (a seed's own citing article, say), an unknown one becomes a work of its own marked
``origin = 'citing'``, which planning leaves out of enrichment unless asked (``--expand citing``).

At most ``cap`` citing works are kept per (cited work, source), counting those already stored, in
the order the source lists them; works a seed document names as its subject are never capped.
The cap is applied before the crosswalk grows, so a capped-away citer leaves no trace. An edge
seen again keeps its ``first_seen_at`` and moves its ``last_seen_at``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

import duckdb

from pipeline.records import CitationLink, Identifier
from warehouse.db import sql
from warehouse.identity import IdGroup, known_ids, resolve
from warehouse.staging import staged

CITATION_SPEC = [
    ("cited_work_id", "varchar"), ("citing_work_id", "varchar"), ("source", "varchar"),
    ("citing_scheme", "varchar"), ("citing_value", "varchar"), ("first_seen_at", "timestamptz"),
    ("last_seen_at", "timestamptz"), ("run_id", "varchar"),
]  # fmt: skip
SEEN_SPEC = [
    ("cited_work_id", "varchar"), ("source", "varchar"), ("citing_scheme", "varchar"),
    ("citing_value", "varchar"), ("last_seen_at", "timestamptz"),
]  # fmt: skip
_WORK_SPEC = [("work_id", "varchar")]

_Edge = tuple[str, str, str, str]  # (cited_work_id, source, citing scheme, citing value)


def write_citations(
    con: duckdb.DuckDBPyConnection,
    links: Sequence[tuple[CitationLink, datetime]],
    *,
    run_id: str,
    cap: int | None,
) -> set[str]:
    """Store ``links`` = (link, when its answer was fetched), inside the batch's transaction;
    returns the works whose merged row must be recomputed (new citing works, and works their
    ids joined)."""
    if not links or cap == 0:
        return set()
    cited_of = known_ids(con, {link.cited for link, _ in links})
    links = [(link, at) for link, at in links if link.cited in cited_of and link.citing]
    if not links:
        return set()
    held, existing, subjects = _stored(con, set(cited_of.values()))
    fresh, again = _admitted(links, cited_of, held, existing, subjects, cap)
    _touch(con, again)
    if not fresh:
        return set()
    groups = [
        IdGroup(tuple(dict.fromkeys(link.citing)), link.citing[0], link.source)
        for _, link, _ in fresh
    ]
    res = resolve(con, groups, run_id=run_id, source="citing")
    rows = {}
    for (cited, link, at), group in zip(fresh, groups, strict=True):
        key = link.citing[0]
        rows[(cited, link.source, key.scheme, key.value)] = (
            cited, res.group_work(group), link.source, key.scheme, key.value, at, at, run_id,
        )  # fmt: skip
    with staged(con, "_in_work_citations", spec=CITATION_SPEC, rows=list(rows.values())):
        con.execute(sql("citations.sql", "insert_work_citations"))
    with staged(con, "_in_new_citing", spec=_WORK_SPEC, rows=[(w,) for w in sorted(res.new_works)]):
        con.execute(sql("citations.sql", "mark_citing_origin"))
    return set(res.merges.values()) | res.affected  # new works get their ids in `works` too


def _stored(
    con: duckdb.DuckDBPyConnection, cited: Collection[str]
) -> tuple[Counter, set[_Edge], set[str]]:
    """Edges held per (cited work, source), the edges themselves, and which works are subjects."""
    with staged(con, "_in_cited", spec=_WORK_SPEC, rows=[(w,) for w in sorted(cited)]):
        held = Counter(
            {(w, s): n for w, s, n in con.execute(sql("citations.sql", "held")).fetchall()}
        )
        existing = {tuple(r) for r in con.execute(sql("citations.sql", "existing")).fetchall()}
        subjects = {w for (w,) in con.execute(sql("citations.sql", "subjects")).fetchall()}
    return held, existing, subjects


def _admitted(
    links: Sequence[tuple[CitationLink, datetime]],
    cited_of: dict[Identifier, str],
    held: Counter,
    existing: set[_Edge],
    subjects: set[str],
    cap: int | None,
) -> tuple[list[tuple[str, CitationLink, datetime]], list[tuple[_Edge, datetime]]]:
    """(new links within the cap, with their cited work) and the stored edges seen again."""
    fresh: list[tuple[str, CitationLink, datetime]] = []
    again: list[tuple[_Edge, datetime]] = []
    taken: set[_Edge] = set()
    for link, at in links:
        cited = cited_of[link.cited]
        edge = (cited, link.source, link.citing[0].scheme, link.citing[0].value)
        if edge in existing:
            again.append((edge, at))
            continue
        if edge in taken:
            continue
        if cap is not None and cited not in subjects and held[(cited, link.source)] >= cap:
            continue
        held[(cited, link.source)] += 1
        taken.add(edge)
        fresh.append((cited, link, at))
    return fresh, again


def _touch(con: duckdb.DuckDBPyConnection, seen: Sequence[tuple[_Edge, datetime]]) -> None:
    if not seen:
        return
    latest: dict[_Edge, datetime] = {}
    for edge, at in seen:
        latest[edge] = max(at, latest.get(edge, at))
    rows = [(*edge, at) for edge, at in latest.items()]
    with staged(con, "_in_seen", spec=SEEN_SPEC, rows=rows):
        con.execute(sql("citations.sql", "touch_work_citations"))


def record_scans(
    con: duckdb.DuckDBPyConnection,
    source: str,
    scanned: Sequence[tuple[Identifier, bool]],
    *,
    run_id: str,
) -> int:
    """Note that ``source`` was asked who cites each of ``scanned`` = (identifier, complete:
    False when the cap stopped its listing); returns how many scans were recorded."""
    work_of = known_ids(con, (i for i, _ in scanned))
    rows = {work_of[i]: (work_of[i], complete) for i, complete in scanned if i in work_of}
    spec = [("work_id", "varchar"), ("complete", "boolean")]
    with staged(con, "_in_scanned", spec=spec, rows=list(rows.values())):
        con.execute(
            sql("citations.sql", "upsert_citing_scans"), {"source": source, "run_id": run_id}
        )
    return len(rows)
