"""``enrich export``: compose the warehouse's readers with the bibliographic writers.

``warehouse`` may import only ``pipeline``'s record types, so the step that feeds warehouse rows
to ``pipeline.bibformats``'s writers lives here. No Prefect import.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("flows.exports")

RELATION_FORMATS = ("parquet", "csv")
BIB_FORMATS = ("bibtex", "csljson", "ris")
FORMATS = RELATION_FORMATS + BIB_FORMATS


@dataclass
class ExportSummary:
    """What an export wrote: files, works (bibliographic formats), relations left out."""

    files: list[Path] = field(default_factory=list)
    works: int | None = None
    left_out: list[str] = field(default_factory=list)
    scope: str = "every work"


def run_export(
    db_path: str | Path,
    directory: str | Path,
    fmt: str,
    *,
    seed: str | None = None,
    query: str | None = None,
) -> ExportSummary:
    """Export the warehouse at ``db_path`` into ``directory`` as ``fmt`` (one of FORMATS):
    every table and view for parquet/csv, one ``works.<ext>`` file for bibtex/csljson/ris.
    ``seed`` (a seed document) or ``query`` (SQL returning work_ids) restricts it to a subset.

    Raises warehouse.scope.ScopeError for a subset that cannot be made.
    """
    from warehouse.db import connect

    con = connect(db_path, read_only=True)
    try:
        return export_with(con, directory, fmt, seed=seed, query=query)
    finally:
        con.close()


def export_with(
    con, directory: str | Path, fmt: str, *, seed: str | None = None, query: str | None = None
) -> ExportSummary:
    """:func:`run_export` on an open connection: a read-only one of the command line, or a
    cursor of the run that holds the warehouse (flows.sharing answers exports during a run)."""
    from warehouse.export import export_relations

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    con.execute("set enable_progress_bar = false")  # DuckDB draws one on stderr for slow queries
    summary = ExportSummary(scope=_make_scope(con, seed, query, bibliography=fmt in BIB_FORMATS))
    if fmt in RELATION_FORMATS:
        done = export_relations(con, directory, fmt, subset=bool(seed or query))
        summary.files, summary.left_out = done.written, done.left_out
    else:
        target, summary.works = _write_bibliography(con, Path(directory), fmt)
        summary.files = [target]
    return summary


def summary_json(summary: ExportSummary) -> str:
    """The summary as one JSON line (what a run sends back for an export it answered)."""
    import json

    return json.dumps(
        {
            "files": [str(f) for f in summary.files],
            "works": summary.works,
            "left_out": summary.left_out,
            "scope": summary.scope,
        }
    )


def summary_from_json(text: str) -> ExportSummary:
    """The inverse of :func:`summary_json`."""
    import json

    d = json.loads(text)
    return ExportSummary([Path(f) for f in d["files"]], d["works"], d["left_out"], d["scope"])


def _make_scope(con, seed: str | None, query: str | None, *, bibliography: bool = False) -> str:
    """Fill report_scope; returns how the summary names it. A bibliography of every work leaves
    out the works known only as citing works (others' works that cite these, which `enrich
    refresh` lists by the hundred); ``--sql "select work_id from works where origin =
    'citing'"`` exports them."""
    from warehouse.scope import ScopeError, citing_only, scope_all, scope_query, scope_seed

    if seed and query:
        raise ScopeError("--seed and --sql each choose a subset: give one of them")
    if seed:
        path, n = scope_seed(con, seed)
        return f"the {_works(n)} of {path}"
    if query:
        return f"the {_works(scope_query(con, query))} the query selected"
    if bibliography:
        n, citing = scope_all(con, citing=False), citing_only(con)
        left = f"; {_works(citing)} known only as citing works left out" if citing else ""
        return f"all {_works(n)}{left}"
    return f"all {_works(scope_all(con))}"


def _write_bibliography(con, directory: Path, fmt: str) -> tuple[Path, int]:
    from pipeline.bibformats import EXTENSIONS, WRITERS
    from warehouse.export import bibliographic_works

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"works.{EXTENSIONS[fmt]}"
    partial = target.with_name(target.name + ".partial")
    # written beside the target and renamed: an interrupted export never leaves half a file
    # under the name a reference manager would import
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        n = WRITERS[fmt](bibliographic_works(con), out)
    os.replace(partial, target)
    log.debug("wrote %d works to %s", n, target)
    return target, n


def _works(n: int) -> str:
    return f"{n:,} work{'' if n == 1 else 's'}"
