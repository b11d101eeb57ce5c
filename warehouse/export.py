"""Exports: every table and view as Parquet or CSV, and the works of a scope as records for the
bibliographic writers (``pipeline.bibformats``).

Both read ``report_scope`` (warehouse/scope.py) when a subset is asked: a relation with a
``work_id`` (or ``citing_work_id``) column keeps the rows of the scope's works; one without
such a column is left out of a subset, since its rows belong to no work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.bibformats.work import BibAuthor, BibWork
from warehouse.db import sql

log = logging.getLogger(__name__)

FORMATS = ("parquet", "csv")
CHUNK = 5_000  # works per query when streaming bibliographic records


@dataclass
class RelationExport:
    """What an export of relations wrote and what it left out of a subset."""

    written: list[Path] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def export_relations(
    con: duckdb.DuckDBPyConnection, directory: str | Path, fmt: str, *, subset: bool = False
) -> RelationExport:
    """Write every table and view to ``<directory>/<name>.<fmt>`` (``parquet`` or ``csv`` with
    a header row). With ``subset``, only the rows of the works in ``report_scope``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (parquet or csv)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    done = RelationExport()
    options = "format parquet" if fmt == "parquet" else "format csv, header true"
    for name, _is_view, work_column in con.execute(sql("export.sql", "relations")).fetchall():
        if subset and work_column is None:
            done.left_out.append(name)
            continue
        # names come from the catalog; the path travels as a parameter
        source = f'select * from "{name}"'
        if subset:
            source += f' where "{work_column}" in (select work_id from report_scope)'
        target = directory / f"{name}.{fmt}"
        try:
            con.execute(f"copy ({source}) to $path ({options})", {"path": str(target)})
        except duckdb.IOException as exc:  # disk full, permissions: the file is named
            raise OSError(0, str(exc).splitlines()[0], str(target)) from None
        done.written.append(target)
    log.debug("exported %d tables and views to %s", len(done.written), directory)
    return done


def bibliographic_works(con: duckdb.DuckDBPyConnection) -> Iterator[BibWork]:
    """The works of ``report_scope`` with their authors, in scope order, CHUNK at a time."""
    total = con.execute(sql("scope.sql", "size")).fetchone()[0]
    for after in range(0, total, CHUNK):
        bounds = {"after": after, "until": after + CHUNK}
        authors: dict[str, list[BibAuthor]] = {}
        for work_id, _pos, raw, family, given, collective in con.execute(
            sql("export.sql", "bib_authors"), bounds
        ).fetchall():
            authors.setdefault(work_id, []).append(
                BibAuthor(raw_name=raw, family=family, given=given, is_collective=bool(collective))
            )
        for row in con.execute(sql("export.sql", "bib_works"), bounds).fetchall():
            yield _bib_work(row, tuple(authors.get(row[0], ())))


def _bib_work(row: tuple, authors: tuple[BibAuthor, ...]) -> BibWork:
    (work_id, work_type, title, venue, year, date, volume, issue, pages, doi, pmid, pmcid,
     openalex_id, issn_l, publisher, language, abstract) = row  # fmt: skip
    return BibWork(
        work_id=work_id, type=work_type, title=title, container=venue, publication_year=year,
        publication_date=date, volume=volume, issue=issue, pages=pages, doi=doi, pmid=pmid,
        pmcid=pmcid, openalex_id=openalex_id, issn=issn_l, publisher=publisher,
        language=language, abstract=abstract, authors=authors,
    )  # fmt: skip
