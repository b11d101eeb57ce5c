"""Build the report: choose the works (all, or one seed document's), collect the numbers,
render the page, write it in one piece."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.report.data import collect
from warehouse.report.html import render
from warehouse.scope import scope_all, scope_seed


@dataclass(frozen=True)
class ReportSummary:
    """What was written, for the terminal and the Prefect artifact."""

    path: Path
    scope: str
    works: int
    documents: int
    retracted: int
    failed_or_pending: int
    bytes: int
    seconds: float

    def markdown(self) -> str:
        """A short markdown summary with a link to the file."""
        uri = self.path.resolve().as_uri()
        return (
            f"# enrich report\n\n[{self.path.name}]({uri}) ({self.bytes / 1e6:.1f} MB): "
            f"{self.scope}.\n\n| works | documents | retracted | ids failed or pending |\n"
            f"|---:|---:|---:|---:|\n| {self.works} | {self.documents} | {self.retracted} | "
            f"{self.failed_or_pending} |\n"
        )


def write_report(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    seed: str | None = None,
    source: str = "",
) -> ReportSummary:
    """Write the HTML report of the warehouse behind ``con`` (one seed document's works with
    ``seed``) to ``path``; ``source`` names the warehouse on the page.

    Raises warehouse.scope.ScopeError when ``seed`` names no single document.
    """
    started = time.perf_counter()
    con.execute("set enable_progress_bar = false")  # DuckDB draws one on stderr for slow queries
    if seed:
        doc_path, n = scope_seed(con, seed)
        scope = f"the {_works(n)} of {doc_path}"
    else:
        scope = f"all {_works(scope_all(con))}"
    data = collect(con, scope)
    page = render(data, source=source, generated_at=datetime.now(UTC))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)  # never half a report under the name a browser opens
    return ReportSummary(
        path=path,
        scope=scope,
        works=data.totals["works"],
        documents=data.totals["documents"],
        retracted=data.totals["retracted"],
        failed_or_pending=data.failed_pending.total,
        bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
    )


def _works(n: int) -> str:
    return f"{n:,} work{'' if n == 1 else 's'}"
