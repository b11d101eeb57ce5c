"""Read what is still readable in a damaged warehouse: its raw answers and its runs.

A damaged file often still holds most of its raw answers. Measured on a warehouse of 250 works
cut to half its length: every raw answer read back, while works, source_records and work_ids
did not; with blocks overwritten in the middle of a 600,000-row table, 28 of its 30 row ranges
read back. Raw answers are the source of truth (``enrich rebuild`` re-derives every table from
them), so a new warehouse rebuilt from them loses only the answers that are gone.

Tables are read in ranges of rows (DuckDB prunes a ``rowid`` range to the blocks holding it);
a range that fails is split in halves until the unreadable rows are isolated, down to
MIN_RANGE rows, which are then counted as lost. Nothing here writes to the damaged file: open
it read-only, without the integrity probe (``connect(..., check=False)``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb

from pipeline.records import Identifier, RawResponse

log = logging.getLogger(__name__)

RANGE_ROWS = 2048  # one DuckDB vector
MIN_RANGE = 16  # a failing range this small is given up as lost


@dataclass
class Salvage:
    """What reading a damaged warehouse got back, and what it could not."""

    answers: int = 0  # raw answers read whole
    answers_lost: int = 0  # answers whose metadata or some part could not be read
    rows_lost: dict[str, int] = field(default_factory=dict)  # table -> rows unreadable

    def lost(self, table: str, rows: int) -> None:
        self.rows_lost[table] = self.rows_lost.get(table, 0) + rows


def readable_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, salvage: Salvage
) -> Iterator[tuple]:
    """Every readable row of ``table`` (``columns`` selected), in rowid order."""
    try:
        total = con.execute(f'select max(rowid) + 1 from "{table}"').fetchone()[0] or 0
    except duckdb.Error as exc:
        log.warning("salvage: %s cannot be read at all: %s", table, _line(exc))
        salvage.lost(table, -1)
        return
    for start in range(0, total, RANGE_ROWS):
        yield from _range(con, table, columns, start, min(start + RANGE_ROWS, total), salvage)


def _range(con, table: str, columns: str, start: int, stop: int, salvage: Salvage):
    try:
        rows = con.execute(
            f'select {columns} from "{table}" where rowid >= $a and rowid < $b order by rowid',
            {"a": start, "b": stop},
        ).fetchall()
    except duckdb.Error as exc:
        if stop - start <= MIN_RANGE:
            log.warning("salvage: %s rows %d-%d unreadable: %s", table, start, stop - 1, _line(exc))
            salvage.lost(table, stop - start)
            return
        middle = (start + stop) // 2
        yield from _range(con, table, columns, start, middle, salvage)
        yield from _range(con, table, columns, middle, stop, salvage)
        return
    yield from rows


_META = (
    "raw_id, source, endpoint, request_url, http_status, content_type, fetched_at, requested, "
    "run_id, parts"
)


def readable_raws(
    con: duckdb.DuckDBPyConnection, salvage: Salvage
) -> Iterator[tuple[RawResponse, str | None]]:
    """Every raw answer whose metadata and every part are readable, with the run that fetched
    it, in the order they were stored (parts are read in rowid order; an answer is complete
    once all its parts are in, so only answers mid-way are held in memory)."""
    meta = {row[0]: row for row in readable_rows(con, "raw_response_meta", _META, salvage)}
    partial: dict[str, dict[int, str]] = {}
    for raw_id, part, text in readable_rows(
        con, "raw_response_parts", "raw_id, part, text", salvage
    ):
        row = meta.get(raw_id)
        if row is None:
            continue  # parts whose answer's metadata is gone
        parts = partial.setdefault(raw_id, {})
        parts[part] = text
        if len(parts) == row[9]:
            del partial[raw_id]
            salvage.answers += 1
            yield _raw(row, "".join(parts[n] for n in range(row[9]))), row[8]
            meta.pop(raw_id)
    salvage.answers_lost += len(meta)


def _raw(row: tuple, body: str) -> RawResponse:
    raw_id, source, endpoint, url, status, ctype, fetched_at, requested, _, _ = row
    return RawResponse(
        source=source,
        endpoint=endpoint,
        request_url=url,
        http_status=status,
        content_type=ctype or "",
        body=body,
        fetched_at=fetched_at,
        requested=tuple(Identifier(*s.split(":", 1)) for s in requested or ()),
    )


_RUNS = "run_id, flow, params, started_at, finished_at, status, summary"


def readable_runs(con: duckdb.DuckDBPyConnection, salvage: Salvage) -> list[tuple]:
    """Every readable row of ``runs`` (the runs raw answers and citation observations name)."""
    return list(readable_rows(con, "runs", _RUNS, salvage))


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
