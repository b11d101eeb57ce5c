"""Catalogs of real bibliographic records, for reference matching: JSON lines -> FakeWorks.

One record a line, the fields a reference names::

    {"doi": "10.1016/j.cbpa.2005.02.004", "title": "Metal ions and RNA folding: ...",
     "authors": [["Woodson", "SA"]], "year": 2005, "container": "Curr Opin Chem Biol",
     "abbrev": null, "volume": "9", "issue": null, "pages": "104-109",
     "type": "journal-article", "pmid": "15811793"}

Only ``doi`` or ``pmid`` is required; every record becomes a work Crossref (with a DOI) and
PubMed (with a PMID) know. Ids the record does not give are derived from its position
(``W5000000000+n``), never colliding with the seed or generated catalogs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from demo.fakeapi.catalog import Author, Catalog, FakeWork

_FIRST_W = 5_000_000_000


def work_from_record(record: dict, n: int) -> FakeWork:
    """One record (see the module docstring) as a FakeWork; ``n`` numbers its derived ids."""
    year = int(record.get("year") or 1900)
    authors = [
        Author(family=str(a[0]), given=str(a[1]) if len(a) > 1 and a[1] else "")
        for a in record.get("authors") or []
        if a and a[0]
    ]
    pmid = record.get("pmid")
    return FakeWork(
        openalex_id=f"W{_FIRST_W + n}",
        doi=(record.get("doi") or None) and str(record["doi"]).lower(),
        pmid=str(pmid) if pmid else None,
        pmcid=None,
        title=record.get("title") or "",
        year=year,
        date=f"{year:04d}-01-01",
        venue=record.get("container") or "",
        venue_abbrev=record.get("abbrev") or record.get("container") or "",
        issn_l="",
        authors=authors,
        volume=record.get("volume") or None,
        issue=record.get("issue") or None,
        pages=record.get("pages") or None,
        crossref_type=record.get("type") or "journal-article",
        in_pubmed=bool(pmid),
        in_crossref=bool(record.get("doi")),
    )


def works_from_records(records: Iterable[dict]) -> list[FakeWork]:
    """FakeWorks for ``records``, numbered in order."""
    return [work_from_record(r, n) for n, r in enumerate(records)]


def load_catalog(path: str | Path, *, extra: Iterable[FakeWork] = ()) -> Catalog:
    """A Catalog of the JSON-lines records in ``path`` (plus ``extra`` works)."""
    with open(path, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    return Catalog([*extra, *works_from_records(records)])
