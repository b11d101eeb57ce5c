"""The plain steps the flows' tasks call."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.steps import SourceTally, tallies_summary
from pipeline.records import FetchBatch, LedgerEntry

AT = datetime(2026, 11, 21, tzinfo=UTC)


def entry(value: str, status: str, http_status: int | None) -> LedgerEntry:
    return LedgerEntry("openalex", "doi", value, status, http_status, 1, None, AT)


def tally(source: str, *outcomes: LedgerEntry) -> SourceTally:
    t = SourceTally(source)
    t.add(FetchBatch(source, (), outcomes))
    return t


def test_a_run_is_settled_only_when_nothing_failed_or_is_pending():
    done = tally("openalex", entry("10.1/a", "ok", 200), entry("10.1/b", "not_found", 200))
    assert tallies_summary({"openalex": done})["settled"] is True
    failed = tally("crossref", entry("10.1/a", "failed", 503))
    assert tallies_summary({"openalex": done, "crossref": failed})["settled"] is False


def test_a_source_is_unreachable_only_when_every_outcome_is_pending_without_http():
    down = tally("pubmed", entry("1", "pending", None), entry("2", "pending", None))
    deferred = tally("openalex", entry("10.1/a", "pending", 429), entry("10.1/b", "pending", None))
    summary = tallies_summary(
        {"pubmed": down, "openalex": deferred, "crossref": SourceTally("crossref")}
    )
    assert summary["unreachable"] == ["pubmed"]
    assert summary["sources"]["pubmed"]["pending"] == 2
