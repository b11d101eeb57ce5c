"""A small warehouse whose report is known by construction.

doc a.txt: A (subject: doi:10.1/a + pmid:1), B (reference: doi:10.1/b), C (reference: pmcid:PMC3)
doc b.txt: D (subject: doi:10.1/d)
A  crossref + openalex; retracted per crossref; titles agree once normalised, years differ
   (2020/2021), venues differ ('Blood' / 'Blood Advances'); counts crossref 10 -> 15 three days
   later, openalex 12 -> 12; OpenAlex counts_by_year 2024: 4, 2025: 8
B  crossref not_found, openalex failed ('HTTP 503 from openalex'), pubmed pending
C  never asked
D  openalex only, 3 citations; its venue 'The Journal of X' vs crossref... (no crossref record)
"""

from __future__ import annotations

import pytest

from pipeline.records import CitationCount
from warehouse.db import connect
from warehouse.load import load_batch, load_counts, load_documents, start_run

from ..conftest import assert_quality
from ..factories import batch, document, ident, record


@pytest.fixture(scope="module")
def warehouse():
    """Built once per test module (read-only use; a test that changes it rolls back)."""
    con = connect(":memory:")
    build(con)
    yield con
    assert_quality(con)
    con.close()


def build(con) -> None:
    """Load the warehouse of the module docstring into ``con``."""
    first = start_run(con, "enrich", {})
    docs = [
        document("seeds/a.txt", [("subject", ["doi:10.1/a", "pmid:1"]),
                                 ("reference", ["doi:10.1/b"]), ("reference", ["pmcid:PMC3"])]),
        document("seeds/b.txt", [("subject", ["doi:10.1/d"])]),
    ]  # fmt: skip
    load_documents(con, docs, run_id=first)
    cr = record("crossref", "doi:10.1/a", title="Cell death: a review", publication_year=2020,
                venue="Blood", cited_by_count=10, is_retracted=True)  # fmt: skip
    oa = record("openalex", "openalex:W1", "doi:10.1/a", "pmid:1", title="Cell Death - A Review",
                publication_year=2021, venue="Blood Advances", cited_by_count=12,
                counts_by_year=((2024, 4), (2025, 8)))  # fmt: skip
    d = record("openalex", "openalex:W4", "doi:10.1/d", title="<i>Delta</i> & co",
               venue="The Journal of X", cited_by_count=3)  # fmt: skip
    for source, recs, ok in (("crossref", [cr], ["doi:10.1/a"]),
                             ("openalex", [oa, d], ["doi:10.1/a", "doi:10.1/d"])):  # fmt: skip
        fb, norm = batch(source, recs, outcomes=[(i, "ok") for i in ok])
        load_batch(con, fb, norm, run_id=first)
    for source, status, error in (("crossref", "not_found", None),
                                  ("openalex", "failed", "HTTP 503 from openalex"),
                                  ("pubmed", "pending", "deferred: Retry-After 3600 s")):  # fmt: skip
        fb, norm = batch(source, outcomes=[("doi:10.1/b", status)], error=error)
        load_batch(con, fb, norm, run_id=first)
    con.execute("update citation_counts set observed_at = observed_at - interval 3 day")
    second = start_run(con, "refresh", {})
    load_counts(con, [CitationCount("crossref", ident("doi:10.1/a"), 15),
                      CitationCount("openalex", ident("pmid:1"), 12)], run_id=second)  # fmt: skip


def work_of(con, scheme: str, value: str) -> str:
    return con.execute(
        "select work_id from work_ids where scheme = ? and value = ?", [scheme, value]
    ).fetchone()[0]
