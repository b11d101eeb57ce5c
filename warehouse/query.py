"""The query side: ad hoc SQL, the status report and data-quality checks (exports: export.py)."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import duckdb

from pipeline.records import AGENCY_NOTE
from warehouse.db import damage_detail, schema_version, sql, statements

log = logging.getLogger(__name__)

# Statement types a read-only query may run. Everything else (INSERT, COPY, ATTACH, CREATE,
# SET, ...) needs write=True, so a typo cannot change the warehouse.
_READ_ONLY = {"SELECT", "EXPLAIN", "PRAGMA"}


class SqlError(Exception):
    """A query failed; the message is one line, ready for the user."""


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query (rows as tuples)."""

    columns: list[str]
    rows: list[tuple]


def _one_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def run_sql(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    write: bool = False,
    allowed: frozenset[str] | set[str] = _READ_ONLY,
) -> QueryResult:
    """Run ``query`` (one or more statements) and return the last statement's result.

    Without ``write`` only the statement types in ``allowed`` (reading ones) may run. Raises
    SqlError with a one-line message for bad SQL or a refused write.
    """
    try:
        parsed = con.extract_statements(query)
    except duckdb.Error as exc:
        raise SqlError(_one_line(exc)) from None
    if not parsed:
        raise SqlError("no SQL statement given")
    if not write:
        for stmt in parsed:
            kind = stmt.type.name
            if kind not in allowed:
                hint = "pass --write to allow it" if kind not in _READ_ONLY else "not during a run"
                raise SqlError(f"{kind} is not a plain read; {hint}")
    try:
        for stmt in parsed[:-1]:
            con.execute(stmt)
        rel = con.execute(parsed[-1])
        columns = [d[0] for d in rel.description] if rel.description else []
        rows = rel.fetchall() if rel.description else []
    except duckdb.Error as exc:
        if damage_detail(exc) is not None:  # the file, not the query: reported as damage
            raise
        raise SqlError(_one_line(exc)) from None
    return QueryResult(columns, rows)


def _plain(value: object) -> object:
    """A JSON-friendly version of a DuckDB value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


def _text(value: object) -> str:
    if value is None:
        return ""
    plain = _plain(value)
    return json.dumps(plain, ensure_ascii=False) if isinstance(plain, list | dict) else str(plain)


def format_result(
    result: QueryResult, fmt: str, *, escape: Callable[[str], str] | None = None
) -> str:
    """Render a result as ``table`` (aligned text), ``csv`` or ``json`` (array of objects).

    ``escape`` makes each table cell terminal-safe (the CLI passes pipeline.terminal's
    ``printable``); csv and json have their own quoting."""
    if fmt == "json":
        records = [dict(zip(result.columns, map(_plain, row), strict=True)) for row in result.rows]
        return json.dumps(records, ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([[_text(v) for v in row] for row in result.rows])
        return out.getvalue()
    if fmt == "table":
        cell = escape or (lambda text: text)
        columns = [cell(c) for c in result.columns]
        return _table(columns, [[cell(_text(v)) for v in row] for row in result.rows])
    raise ValueError(f"unknown format {fmt!r} (table, csv or json)")


def _table(columns: list[str], cells: list[list[str]]) -> str:
    cells = [[c.replace("\n", " ") for c in row] for row in cells]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(columns)]
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()  # noqa: E731
    out = [line(columns), line(["-" * w for w in widths]), *(line(row) for row in cells)]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out)


def _fetch(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> QueryResult:
    rel = con.execute(query, params or {})
    return QueryResult([d[0] for d in rel.description], rel.fetchall())


def status_report(con: duckdb.DuckDBPyConnection, *, runs: int = 5) -> dict:
    """Coverage per seed document, ledger counts per source and status, the last runs, totals."""
    docs = run_sql(con, "select * from seed_coverage")
    refs = run_sql(con, "select * from reference_coverage where entries > 0")
    sources: dict[str, dict[str, int]] = {}
    for source, status, n in con.execute(sql("query.sql", "ledger_by_source")).fetchall():
        sources.setdefault(source, {})[status] = n
    agencies: dict[str, dict[str, int]] = {}
    for source, note, n in con.execute(sql("query.sql", "ledger_agencies")).fetchall():
        agency = (note or "").removeprefix(AGENCY_NOTE) or "unknown"
        by = agencies.setdefault(source, {})
        by[agency] = by.get(agency, 0) + n
    last = _fetch(con, sql("query.sql", "last_runs"), {"limit": runs})
    totals = _fetch(con, sql("query.sql", "totals"))
    return {
        "schema_version": schema_version(con),
        "totals": dict(zip(totals.columns, totals.rows[0], strict=True)),
        "documents": [dict(zip(docs.columns, map(_plain, r), strict=True)) for r in docs.rows],
        "references": [dict(zip(refs.columns, map(_plain, r), strict=True)) for r in refs.rows],
        "sources": sources,
        "agencies": agencies,
        "runs": [dict(zip(last.columns, map(_plain, r), strict=True)) for r in last.rows],
    }


def format_status(report: dict, *, escape: Callable[[str], str] | None = None) -> str:
    """The status report as text for the terminal; ``escape`` makes each document path
    terminal-safe (the CLI passes pipeline.terminal's ``printable``)."""
    cell = escape or (lambda text: text)
    t = report["totals"]
    out = [
        f"warehouse schema v{report['schema_version']}: {t['works']} works, "
        f"{t['identifiers']} identifiers, {t['source_records']} source records, "
        f"{t['citation_observations']} citation observations",
        f"  of the works, {t['citing_works']} known only as citing works; "
        f"{t['retracted_works']} retracted (see retracted_works)",
        "",
        "Seed documents (identifiers: found / resolved / not found / failed / pending / unattempted)",
    ]
    for d in report["documents"] or [{"path": "(none loaded)"}]:
        if "found" not in d:
            out.append(f"  {cell(d['path'])}")
            continue
        out.append(
            f"  {cell(d['path'])}: {d['found']} / {d['resolved']} / {d['not_found']} / "
            f"{d['failed']} / {d['pending']} / {d['unattempted']}"
        )
    out += _format_references(report.get("references") or [])
    out += ["", "Ledger by source"]
    for source, counts in sorted(report["sources"].items()):
        line = f"  {source}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        by_agency = (report.get("agencies") or {}).get(source)
        if by_agency:  # registered elsewhere: which agency holds them
            line += " (not in source: " + ", ".join(f"{a} {n}" for a, n in by_agency.items()) + ")"
        out.append(line)
    if not report["sources"]:
        out.append("  (nothing asked yet)")
    out += ["", "Last runs"]
    for r in report["runs"]:
        out.append(f"  {r['run_id']}  {r['flow']}  {r['status']}  {r['started_at']}")
    if not report["runs"]:
        out.append("  (none)")
    return "\n".join(out)


def _format_references(docs: list[dict]) -> list[str]:
    """The reference-list lines of ``enrich status``: per document, how its entries stand."""
    if not docs:
        return []
    out = [
        "",
        "Reference lists (entries: with ids / matched / ambiguous / unmatched / failed / pending"
        " / unattempted)",
    ]
    for d in docs:
        out.append(
            f"  {d['path']}: {d['entries']}: {d['with_ids']} / {d['matched']} / {d['ambiguous']}"
            f" / {d['unmatched']} / {d['failed']} / {d['pending']} / {d['unattempted']}"
        )
    return out


def check_quality(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Run every check of checks.sql; (name, offending rows) for each, in file order."""
    results = []
    for name, query in statements("checks.sql").items():
        body = query.strip().rstrip(";")
        n = con.execute(f"select count(*) from ({body})").fetchone()[0]
        results.append((name, n))
    return results
