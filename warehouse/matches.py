"""Reference matching in the warehouse: entries, decisions, overrides, and matched works linked.

- ``reference_entries``: written with the seed documents (``entry_rows``), one row per entry;
- ``reference_matches``: one decision per distinct string (``load_matches``), read back so a
  settled string is never asked again (``unsettled``, ``settled_for``);
- ``match_overrides``: a user's correction (``set_override``), winning over the matcher;
- ``link_matches``: every entry whose string names a work becomes that work's mention in its
  document (role ``reference``, provenance ``matched`` with its score, or ``override``), and a
  ``work_references`` edge from the document's subject, rebuilt whole on each call.

Imports nothing from ``pipeline`` but its record types.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import duckdb

from pipeline.records import Candidate, Identifier, MatchResult, SeedDocument
from warehouse.db import sql, transaction
from warehouse.identity import IdGroup, best_identifier, resolve
from warehouse.rows import REFERENCE_SPEC
from warehouse.staging import staged

log = logging.getLogger(__name__)

ENTRY_SPEC = [
    ("document_id", "varchar"), ("start", "integer"), ("end", "integer"), ("line", "integer"),
    ("label", "varchar"), ("section", "varchar"), ("text", "varchar"), ("text_hash", "varchar"),
    ("ids", "varchar[]"), ("run_id", "varchar"),
]  # fmt: skip
MATCH_SPEC = [
    ("text_hash", "varchar"), ("text", "varchar"), ("status", "varchar"), ("doi", "varchar"),
    ("pmid", "varchar"), ("score", "double"), ("matched_by", "varchar"), ("reason", "varchar"),
    ("candidates", "varchar"), ("attempts", "integer"), ("http_status", "integer"),
    ("decided_at", "timestamptz"), ("run_id", "varchar"),
]  # fmt: skip
LINKED_MENTION_SPEC = [
    ("document_id", "varchar"), ("scheme", "varchar"), ("value", "varchar"), ("start", "integer"),
    ("end", "integer"), ("line", "integer"), ("section", "varchar"), ("group_key", "varchar"),
    ("group_no", "integer"), ("role", "varchar"), ("work_id", "varchar"),
    ("provenance", "varchar"), ("match_score", "double"),
]  # fmt: skip
LINKED_REFERENCE_SPEC = [*REFERENCE_SPEC, ("provenance", "varchar")]
_HASH_SPEC = [("text_hash", "varchar")]


def entry_rows(docs: Sequence[SeedDocument], *, run_id: str) -> list[tuple]:
    """reference_entries rows (ENTRY_SPEC order) for the documents' reference lists."""
    rows: dict[tuple, tuple] = {}
    for doc in docs:
        for e in doc.references:
            ids = [f"{i.scheme}:{i.value}" for i in e.ids]
            key = (doc.document_id, e.start)
            rows[key] = (
                doc.document_id, e.start, e.end, e.line, e.label, e.section, e.text,
                e.key, ids, run_id,
            )  # fmt: skip
    return list(rows.values())


def unsettled(con: duckdb.DuckDBPyConnection, *, refresh: bool = False) -> list[tuple[str, str]]:
    """(text_hash, text) of the entry strings to match now (see matches.sql ``unsettled``)."""
    return con.execute(sql("matches.sql", "unsettled"), {"refresh": refresh}).fetchall()


def settled_for(con: duckdb.DuckDBPyConnection, hashes: Iterable[str]) -> dict[str, MatchResult]:
    """Decisions already made (matched / ambiguous / unmatched) for ``hashes``."""
    rows = [(h,) for h in sorted(set(hashes))]
    with staged(con, "_in_hashes", spec=_HASH_SPEC, rows=rows):
        found = con.execute(sql("matches.sql", "settled_for")).fetchall()
    return {
        h: MatchResult(
            h, "", status, doi, pmid, score, _candidates(cands), matched_by=by, reason=reason
        )
        for h, status, doi, pmid, score, by, reason, cands in found
    }


def _candidates(stored: str | None) -> tuple[tuple[Candidate, float], ...]:
    """The candidates column (JSON, as ``enrich match`` prints them) read back."""
    try:
        items = json.loads(stored) if stored else []
    except ValueError:
        return ()
    out = []
    for c in items if isinstance(items, list) else []:
        if isinstance(c, dict):
            year = c.get("year")
            cand = Candidate(
                source="crossref" if c.get("doi") else "pubmed",
                doi=c.get("doi"),
                pmid=c.get("pmid"),
                title=c.get("title"),
                years=(year,) if isinstance(year, int) else (),
            )
            out.append((cand, float(c.get("score") or 0.0)))
    return tuple(out)


def overrides_for(
    con: duckdb.DuckDBPyConnection, hashes: Iterable[str]
) -> dict[str, tuple[str | None, str | None]]:
    """The user's corrections for ``hashes``: ``{hash: (doi, pmid)}`` (both None: no work)."""
    rows = [(h,) for h in sorted(set(hashes))]
    with staged(con, "_in_hashes", spec=_HASH_SPEC, rows=rows):
        found = con.execute(sql("matches.sql", "overrides_for")).fetchall()
    return {h: (doi, pmid) for h, doi, pmid, _ in found}


def set_override(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    doi: str | None,
    pmid: str | None,
    note: str | None = None,
) -> None:
    """Record a user's correction for one string (``doi``/``pmid`` None: it names no work)."""
    con.execute(
        sql("matches.sql", "upsert_override"),
        {"text_hash": key, "doi": doi, "pmid": pmid, "note": note},
    )


def load_matches(
    con: duckdb.DuckDBPyConnection, results: Sequence[MatchResult], *, run_id: str | None
) -> None:
    """Upsert one reference_matches row per result (attempts accumulate), in one transaction."""
    now = datetime.now(UTC)
    rows = {
        r.text_hash: (
            r.text_hash,
            r.text,
            r.status,
            r.doi,
            r.pmid,
            r.score,
            r.matched_by,
            r.reason,
            json.dumps([c.to_json(s) for c, s in r.candidates], ensure_ascii=False),
            1 if r.requests else 0,
            r.http_status,
            now,
            run_id,
        )  # fmt: skip
        for r in results
    }
    with transaction(con):
        with staged(con, "_in_matches", spec=MATCH_SPEC, rows=list(rows.values())):
            con.execute(sql("matches.sql", "upsert_matches"))


def link_matches(con: duckdb.DuckDBPyConnection, *, run_id: str) -> set[str]:
    """Rebuild the mentions and edges of every entry whose string names a work; returns the
    works touched (call inside a transaction, then recompute those works)."""
    entries = con.execute(sql("matches.sql", "linked_entries")).fetchall()
    con.execute(sql("matches.sql", "delete_linked_mentions"))
    con.execute(sql("matches.sql", "delete_linked_references"))
    if not entries:
        return set()
    groups = []
    for *_, doi, pmid, _, _ in entries:
        ids = _ids(doi, pmid)
        groups.append(IdGroup(ids, best_identifier(ids), "seed", split_on_conflict=True))
    res = resolve(con, groups, run_id=run_id, source="seed")
    subjects = dict(con.execute(sql("matches.sql", "document_subjects")).fetchall())
    mentions, references = [], {}
    for doc, start, end, line, section, text, doi, pmid, provenance, score in entries:
        ids = _ids(doi, pmid)
        anchor = best_identifier(ids)
        work = res.work_of[anchor]
        for ident in ids:
            mentions.append(
                (
                    doc,
                    ident.scheme,
                    ident.value,
                    start,
                    end,
                    line,
                    section,
                    f"{doc}:m{start}",
                    0,
                    "reference",
                    work,
                    provenance,
                    score,
                )  # fmt: skip
            )
        subject = subjects.get(doc)
        if subject is not None and subject != work:
            ref_key = f"{anchor.scheme}:{anchor.value}"
            references[(subject, ref_key)] = (
                subject, "seed", ref_key, anchor.scheme, anchor.value, None, text, doc, run_id,
                provenance,
            )  # fmt: skip
    with staged(con, "_in_linked_mentions", spec=LINKED_MENTION_SPEC, rows=mentions):
        con.execute(sql("matches.sql", "insert_linked_mentions"))
    with staged(
        con, "_in_linked_references", spec=LINKED_REFERENCE_SPEC, rows=list(references.values())
    ):
        con.execute(sql("matches.sql", "insert_linked_references"))
    log.info("%d matched reference(s) linked to their works", len(entries))
    return res.affected | set(res.merges.values())


def _ids(doi: str | None, pmid: str | None) -> tuple[Identifier, ...]:
    out = []
    if doi:
        out.append(Identifier("doi", doi.lower()))
    if pmid:
        out.append(Identifier("pmid", str(pmid)))
    return tuple(out)
