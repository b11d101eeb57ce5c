"""The report's numbers: every query of report.sql run against ``report_scope``, as small
tables. Lists are capped at ``limit`` rows and know their full length."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from warehouse.db import sql

# Caps that keep the page's size independent of the warehouse's (the page says how many rows
# there were in all): 500 rows per list, 200 per document list, 50 documents with a section of
# their own (the documents table lists them all). At the caps: about 10 MB.
ROW_LIMIT = 500
DOCUMENT_ROW_LIMIT = 200
MAX_DOCUMENTS = 50
TOP_WORKS = 8  # works whose histories are charted one by one


@dataclass
class Table:
    """Rows of one query with their column names; ``total`` is the length before the cap."""

    columns: list[str]
    rows: list[tuple]
    total: int
    totals: list[int] | None = None  # per row, for queries whose total_rows is per group

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class DocumentSection:
    """One seed document: its coverage row, its works, the references no source resolved."""

    coverage: dict
    works: Table
    unmatched: Table


@dataclass
class ReportData:
    """Everything the page shows."""

    scope: str
    totals: dict
    ids_by_scheme: Table
    coverage_by_source: Table
    ledger_by_source: Table
    citations_over_time: Table
    citations_by_year: Table
    top_works_by_year: Table
    history_top_works: Table
    top_movers: Table
    most_cited: Table
    documents: Table
    retracted: Table
    disagreements_by_field: Table
    disagreements: Table
    missing_by_source: Table
    missing_source: Table
    failed_pending: Table
    document_sections: list[DocumentSection] = field(default_factory=list)


def _query(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> Table:
    """Run report.sql's ``name``; a trailing ``total_rows`` column becomes Table.total."""
    rel = con.execute(sql("report/report.sql", name), params or {})
    columns = [d[0] for d in rel.description]
    rows = rel.fetchall()
    if columns and columns[-1] == "total_rows":
        total = rows[0][-1] if rows else 0
        return Table(columns[:-1], [r[:-1] for r in rows], total, [r[-1] for r in rows])
    return Table(columns, rows, len(rows))


def retracted_works(con: duckdb.DuckDBPyConnection, *, limit: int = ROW_LIMIT) -> Table:
    """Retracted works in scope, from the view ``retracted_works``: a retraction notice
    (Crossref ``updated-by``/``update-to`` with Retraction Watch's, PubMed
    ``CommentsCorrections``) with its DOI/PMID and date, or a source's ``is_retracted``."""
    return _query(con, "retracted_works", {"limit": limit})


def unmatched_references(
    con: duckdb.DuckDBPyConnection, *, documents: int = MAX_DOCUMENTS, limit: int = ROW_LIMIT
) -> Table:
    """For the first ``documents`` documents in scope, the identifiers each cites that no
    source resolved (first column ``document_id``). The one place to point at reference
    matching's results (entries matched by text) when the warehouse has them."""
    return _query(con, "unmatched_references", {"documents": documents, "limit": limit})


def _per_document(table: Table) -> dict[str, Table]:
    """Split a query's rows by their first column, ``document_id``; each part's total is its
    own (the query's ``total_rows`` is per document)."""
    parts: dict[str, Table] = {}
    for row, total in zip(table.rows, table.totals or [], strict=True):
        part = parts.setdefault(row[0], Table(table.columns[1:], [], total))
        part.rows.append(row[1:])
    return parts


def collect(con: duckdb.DuckDBPyConnection, scope: str, *, limit: int = ROW_LIMIT) -> ReportData:
    """Every number of the report for the works in ``report_scope``."""
    con.execute(sql("report/report.sql", "prepare"))
    lim = {"limit": limit}
    top = {"works": TOP_WORKS}
    totals = _query(con, "totals").records()[0]
    documents = _query(con, "documents", {"limit": max(limit, MAX_DOCUMENTS)})
    data = ReportData(
        scope=scope,
        totals=totals,
        ids_by_scheme=_query(con, "ids_by_scheme"),
        coverage_by_source=_query(con, "coverage_by_source"),
        ledger_by_source=_query(con, "ledger_by_source"),
        citations_over_time=_query(con, "citations_over_time"),
        citations_by_year=_query(con, "citations_by_year"),
        top_works_by_year=_query(con, "top_works_by_year", top),
        history_top_works=_query(con, "history_top_works", top),
        top_movers=_query(con, "top_movers", lim),
        most_cited=_query(con, "most_cited", lim),
        documents=documents,
        retracted=retracted_works(con, limit=limit),
        disagreements_by_field=_query(con, "disagreements_by_field"),
        disagreements=_query(con, "disagreements", lim),
        missing_by_source=_query(con, "missing_by_source"),
        missing_source=_query(con, "missing_source", lim),
        failed_pending=_query(con, "failed_pending", lim),
    )
    per_doc = {"documents": MAX_DOCUMENTS, "limit": min(limit, DOCUMENT_ROW_LIMIT)}
    works = _query(con, "document_works", per_doc)
    unmatched = unmatched_references(con, **per_doc)
    works_of, unmatched_of = _per_document(works), _per_document(unmatched)
    for doc in documents.records()[:MAX_DOCUMENTS]:
        key = doc["document_id"]
        data.document_sections.append(
            DocumentSection(
                doc,
                works_of.get(key, Table(works.columns[1:], [], 0)),
                unmatched_of.get(key, Table(unmatched.columns[1:], [], 0)),
            )
        )
    return data


def plain(value: object) -> object:
    """A cell value as the page shows it (dates ISO, times to the second)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value
