"""Tiny builders for warehouse tests: documents, records and batches with sensible defaults."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.records import (
    AuthorRecord,
    FetchBatch,
    Identifier,
    Institution,
    LedgerEntry,
    Mention,
    Normalised,
    RawResponse,
    ReferenceRecord,
    SeedDocument,
    SourceRecord,
    TopicRecord,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIXTURES = Path(__file__).parents[1] / "fixtures"


def ident(text: str) -> Identifier:
    """'doi:10.1/x' -> Identifier('doi', '10.1/x')."""
    scheme, value = text.split(":", 1)
    return Identifier(scheme, value)


def document(path: str, groups: list[tuple[str, list[str]]]) -> SeedDocument:
    """A seed document whose groups are (role, ['scheme:value', ...]), mentions in order."""
    mentions, offset = [], 0
    for group_no, (role, ids) in enumerate(groups):
        for text in ids:
            i = ident(text)
            mentions.append(Mention(i.scheme, i.value, path, offset, offset + 10, group_no + 1,
                                    None, group_no, role))  # fmt: skip
            offset += 20
    sha = hashlib.sha256(path.encode()).hexdigest()
    return SeedDocument(path, sha, 1000, tuple(mentions))


def seed_002() -> SeedDocument:
    """Seed document 002 as extraction must read it (tests/fixtures/seeds_expected.json)."""
    expected = json.loads((FIXTURES / "seeds_expected.json").read_text())
    works = expected["documents"]["002_3ea597cfb241f368.txt"]["works"]
    groups = [(w["role"], [f"{k}:{v}" for k, v in w.items() if k != "role"]) for w in works]
    return document("seeds/002_3ea597cfb241f368.txt", groups)


def record(
    source: str,
    *ids: str,
    key: str | None = None,
    fetched: datetime | None = None,
    **fields,
) -> SourceRecord:
    """A SourceRecord asserting ``ids``; the first is its source_key unless ``key`` is given."""
    idents = tuple(ident(i) for i in ids)
    return SourceRecord(source=source, source_key=key or idents[0].value, ids=idents, **fields)


def full_record(source: str, *ids: str, n_authors: int = 2, refs: tuple[str, ...] = (), **kw):
    """A record with authors (with an institution), references and topics."""
    authors = tuple(
        AuthorRecord(position=p, raw_name=f"Author{p}, A", family=f"Author{p}", given="A",
                     orcid=f"0000-0000-0000-{p:04d}",
                     institutions=(Institution("Uni", ror="04fa4r544"),))
        for p in range(1, n_authors + 1)
    )  # fmt: skip
    references = tuple(ReferenceRecord(*ident(r), position=n) for n, r in enumerate(refs, 1))
    topics = (TopicRecord("mesh", "Humans", "D006801"),)
    return record(source, *ids, authors=authors, references=references, topics=topics, **kw)


def raw_for(source: str, body: str = "{}", *, at: datetime = T0, url: str | None = None):
    """A RawResponse for ``source``."""
    return RawResponse(source, "works", url or f"https://example.org/{source}/{body[:8]}", 200,
                       "application/json", body, at)  # fmt: skip


def batch(
    source: str,
    records: list[SourceRecord] = (),
    *,
    outcomes: list[tuple[str, str]] = (),
    at: datetime = T0,
    links=(),
    counts=(),
    citations=(),
    http_status: int | None = 200,
    attempts: int = 1,
    error: str | None = None,
) -> tuple[FetchBatch, list[Normalised]]:
    """A FetchBatch with one raw answer, ledger ``outcomes`` ('scheme:value', status), and the
    Normalised answer holding ``records``; each record's raw_id points at that raw."""
    raw = raw_for(source, json.dumps([r.source_key for r in records]) + str(at), at=at)
    recs = tuple(_with_raw(r, raw.raw_id) for r in records)
    ledger = tuple(
        LedgerEntry(source, *ident(i), status, http_status, attempts, error, at)
        for i, status in outcomes
    )
    fb = FetchBatch(source, (raw,), ledger, requests_made=1)
    normalised = Normalised(
        records=recs, links=tuple(links), counts=tuple(counts), citations=tuple(citations)
    )
    return fb, [normalised]


def _with_raw(rec: SourceRecord, raw_id: str) -> SourceRecord:
    from dataclasses import replace

    return replace(rec, raw_id=raw_id)


def later(n: int) -> datetime:
    """T0 + n hours."""
    return T0 + timedelta(hours=n)
