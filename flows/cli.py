"""The ``enrich`` command line: parse arguments, call one library function, turn errors into
one-line messages and exit codes. No business logic lives here.

Exit codes (contract): 0 every identifier settled; 1 the run finished but some identifiers are
still failed/pending (or the disk is full); 2 bad usage, bad configuration or unreadable input;
3 the warehouse file is damaged; 130 stopped by Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import errno
import inspect
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from flows.head_start import head_start
from flows.interrupt import EXIT_INTERRUPTED, Interrupted, stop_on_signals
from flows.local_server import prefect_api
from flows.sharing import as_of_line
from pipeline.config import DEFAULT_DB, DEFAULT_REFRESH_CRON, DEFAULT_RUN_CRON, VERSION
from pipeline.errors import ConfigError, EnrichError, InputError
from pipeline.terminal import printable

log = logging.getLogger("enrich.cli")

EXIT_OK, EXIT_UNSETTLED, EXIT_USAGE, EXIT_DAMAGED = 0, 1, 2, 3
SOURCES = ("openalex", "crossref", "pubmed")


class UsageError(EnrichError):
    """Bad command-line usage (exit 2)."""


# ------------------------------------------------------------------------------------------
# argument parsing
# ------------------------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``45s``, ``2w`` or combinations (``1d12h``) -> timedelta."""
    units = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    parts = re.findall(r"(\d+(?:\.\d+)?)([wdhms])", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        raise UsageError(f"--stale-after {text!r}: expected a duration such as 7d, 12h or 30m")
    return timedelta(**{units[u]: float(n) for n, u in parts})


def parse_sources(text: str) -> list[str]:
    """``openalex,crossref`` -> ["openalex", "crossref"], refusing unknown names."""
    names = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SOURCES]
    if unknown or not names:
        raise UsageError(f"--sources {text!r}: choose from {','.join(SOURCES)}")
    return list(dict.fromkeys(names))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default exits 2 too, but prints the whole usage
        raise UsageError(message)


EXAMPLES = {
    "run": """\
  enrich run                                   # $ENRICH_HOME/seeds into $ENRICH_HOME's warehouse
  enrich run ~/papers/ refs.bib --db ~/papers.duckdb
  enrich run seeds/ --sources openalex,crossref
  enrich run --refresh                         # ask every source again, even about settled ids
  enrich run seeds/ --expand citing            # also enrich the works that cite the seeds' works""",
    "extract": """\
  enrich extract seeds/*.txt --format json
  enrich extract refs.bib page.html --format table""",
    "match": """\
  enrich match paper.txt refs.bib              # one object per reference entry without an id
  enrich match paper.pdf --format table
  enrich match paper.txt --accept 12=10.1038/nature14539 --accept 14=none""",
    "report": """\
  enrich report --out report.html
  enrich report --seed 002_3ea597cfb241f368.txt --out seed-002.html""",
    "refresh": """\
  enrich refresh                               # works whose newest count is older than 7 days
  ENRICH_CITING_CAP=50 enrich refresh          # list at most 50 citing works per work
  enrich refresh --stale-after 1d --sources openalex""",
    "sql": """\
  enrich sql "select * from citation_latest order by cited_by_count desc limit 10"
  enrich sql "select * from seed_coverage" --format csv > coverage.csv
  enrich sql "delete from runs where status = 'failed'" --write""",
    "status": """\
  enrich status
  enrich status --db ~/papers.duckdb""",
    "export": """\
  enrich export out/                           # every table and view as Parquet
  enrich export out/ --format csv
  enrich export refs/ --format bibtex --seed 002_3ea597cfb241f368.txt
  enrich export refs/ --format ris --sql "select work_id from works where publication_year >= 2020\"""",
    "rebuild": """\
  enrich rebuild                               # after a normaliser fix: no HTTP at all
  enrich rebuild --db ~/papers.duckdb
  enrich rebuild --from-raw damaged.duckdb --db rebuilt.duckdb   # salvage a damaged warehouse""",
    "serve": """\
  prefect server start &
  export PREFECT_API_URL=http://127.0.0.1:4200/api
  enrich serve                                 # refresh daily 03:00 UTC, full run Sundays 02:00
  enrich serve --refresh-cron "30 4 * * *" --register-only""",
    "demo": """\
  enrich demo                                  # into $ENRICH_HOME/demo-warehouse/demo.duckdb
  enrich demo --dir /tmp/enrich-demo""",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``enrich`` parser with one sub-command per verb; each verb's help ends with examples."""
    p = _Parser(
        prog="enrich",
        description="Extract scholarly identifiers from documents, "
        "enrich them from OpenAlex, Crossref and PubMed, and load a DuckDB warehouse.",
        epilog="Run `enrich VERB --help` for a verb's options and examples. Start with "
        "`enrich demo` (offline, under a minute).",
    )
    p.add_argument("--version", action="version", version=f"enrich {VERSION}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True
    db_help = "warehouse file (default: $ENRICH_DB, else $ENRICH_HOME/" + DEFAULT_DB + ")"
    sources_help = "comma-separated sources (default: openalex,crossref,pubmed)"
    report_option = {
        "nargs": "?",
        "const": "",
        "metavar": "FILE",
        "help": "at the end, write the HTML report to FILE (default report.html beside the "
        "warehouse; also $ENRICH_REPORT) and publish it as a Prefect artifact",
    }

    run = _verb(sub, "run", cmd_run, "extract, enrich and load (a Prefect flow)")
    run.add_argument("paths", nargs="*", help="seed files or folders (default: $ENRICH_HOME/seeds)")
    run.add_argument("--db", help=db_help)
    run.add_argument("--sources", default=",".join(SOURCES), help=sources_help)
    run.add_argument("--refresh", action="store_true", help="re-fetch identifiers already settled")
    run.add_argument("--report", **report_option)
    run.add_argument(
        "--expand",
        action="append",
        choices=("citing",),
        default=[],
        help="also enrich the works known only as citing works (who cites the seeds' works; "
        "`enrich refresh` finds them)",
    )

    ext = _verb(sub, "extract", cmd_extract, "extraction only; prints mentions")
    ext.add_argument("paths", nargs="+", help="seed files or folders")
    ext.add_argument(
        "--format",
        choices=("json", "table", "text"),
        default="json",
        help="output (default: json); text: the text the offsets point into (a PDF's or Word "
        "file's extracted text)",
    )

    _add_match_parser(sub, db_help, sources_help)

    ref = _verb(
        sub,
        "refresh",
        cmd_refresh,
        "refresh counts, changed records, retractions and who cites (a Prefect flow)",
    )
    ref.add_argument("--db", help=db_help)
    ref.add_argument(
        "--stale-after",
        default="7d",
        help="refresh works whose newest observation is older (default: 7d; units w d h m s)",
    )
    ref.add_argument("--sources", default=",".join(SOURCES), help=sources_help)
    ref.add_argument("--report", **report_option)

    rp = _verb(sub, "report", cmd_report, "one self-contained HTML report")
    rp.add_argument("--db", help=db_help)
    rp.add_argument("--out", default="report.html", help="the HTML file (default: report.html)")
    rp.add_argument("--seed", metavar="DOC", help="only the works of this seed document")

    sql = _verb(sub, "sql", cmd_sql, "ad hoc SQL on the warehouse")
    sql.add_argument("query", help="one or more SQL statements; the last one's rows are printed")
    sql.add_argument("--db", help=db_help)
    sql.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output (default: table)",
    )
    sql.add_argument(
        "--write", action="store_true", help="allow statements that change the warehouse"
    )

    st = _verb(sub, "status", cmd_status, "coverage, ledger counts, last runs")
    st.add_argument("--db", help=db_help)

    ex = _verb(
        sub, "export", cmd_export, "tables and views as parquet/csv, works as bibtex/csljson/ris"
    )
    ex.add_argument("directory", help="folder to write into (created)")
    ex.add_argument("--db", help=db_help)
    ex.add_argument(
        "--format",
        choices=("parquet", "csv", "bibtex", "csljson", "ris"),
        default="parquet",
        help="parquet/csv: one file per table and view; bibtex/csljson/ris: one works file "
        "(default: parquet)",
    )
    subset = ex.add_mutually_exclusive_group()
    subset.add_argument(
        "--seed", metavar="DOC", help="only the works of this seed document (path or id)"
    )
    subset.add_argument(
        "--sql", metavar="QUERY", help='only the works a query selects ("select work_id ...")'
    )

    rb = _verb(sub, "rebuild", cmd_rebuild, "re-normalise from stored raw responses (no HTTP)")
    rb.add_argument("--db", help=db_help)
    rb.add_argument(
        "--from-raw",
        metavar="OLD",
        help="build --db, a new file, from the raw answers still readable in OLD (a damaged "
        "warehouse; it is only read)",
    )

    sv = _verb(sub, "serve", cmd_serve, "register the scheduled deployments and serve them")
    sv.add_argument("--db", help=db_help)
    sv.add_argument(
        "--paths",
        nargs="*",
        help="seed paths for the scheduled run (default: $ENRICH_HOME/seeds)",
    )
    sv.add_argument(
        "--refresh-cron",
        default=None,
        help=f"cron for the refresh (default: $ENRICH_REFRESH_CRON or '{DEFAULT_REFRESH_CRON}', UTC)",
    )
    sv.add_argument(
        "--run-cron",
        default=None,
        help=f"cron for the full run (default: $ENRICH_RUN_CRON or '{DEFAULT_RUN_CRON}', UTC)",
    )
    sv.add_argument(
        "--stale-after",
        default="7d",
        help="what the scheduled refresh counts as stale (default: 7d)",
    )
    sv.add_argument(
        "--register-only", action="store_true", help="register the deployments and exit"
    )

    dm = _verb(sub, "demo", cmd_demo, "the whole pipeline offline, against a bundled fake API")
    dm.add_argument(
        "--dir",
        help="folder for the demo's warehouse and reading list (default: $ENRICH_HOME/demo-warehouse)",
    )
    dm.add_argument(
        "--works",
        type=int,
        default=DEMO_WORKS,
        help=f"generated works beside the seeds' own (default: {DEMO_WORKS})",
    )
    return p


def _verb(sub, name: str, func: Callable, summary: str) -> argparse.ArgumentParser:
    """One verb's parser: its summary, the command's docstring, and its examples at the end."""
    parser = sub.add_parser(
        name,
        help=summary,
        description=_doc(func),
        epilog="examples:\n" + EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def _doc(func: Callable) -> str:
    return inspect.cleandoc(func.__doc__ or "")


# ------------------------------------------------------------------------------------------
# verbs
# ------------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace):
    from pipeline.config import Settings

    overrides: dict[str, object] = {"db_path": Path(args.db)} if getattr(args, "db", None) else {}
    settings = Settings.from_env(**overrides)
    report = getattr(args, "report", None)
    if report is not None:  # --report alone: report.html beside the warehouse
        overrides["report_path"] = (
            Path(report) if report else settings.db_path.with_name("report.html")
        )
    return Settings.from_env(**overrides) if overrides else settings


def cmd_run(args: argparse.Namespace) -> int:
    """Extract identifiers from the seed documents, enrich them from OpenAlex, Crossref and
    PubMed, and load the warehouse. Runs as a Prefect flow (a local server of its own unless
    PREFECT_API_URL is set). Ctrl-C or SIGTERM stops it cleanly: what was loaded is kept, the
    rest is left pending for the next run, exit 130."""
    settings = _settings(args)
    sources = parse_sources(args.sources)
    paths = args.paths or [str(settings.seeds_path)]
    _check_paths(paths, default=not args.paths)
    say(f"run on {', '.join(paths)} into {settings.db_path} ({', '.join(sources)})")
    # the local server's start-up is the run's longest wait: its process starts first, and
    # the probe runs while it does (a damaged warehouse is still the only line said)
    with stop_on_signals(), prefect_api(os.environ, announce=False) as api:
        _probe_warehouse(settings.db_path)  # before any flow starts and anything is fetched
        api.announce()
        with head_start(paths, settings) as head:
            from flows.enrich import run_enrich

            head.may_warm()  # Prefect is imported: the head start may import what the flow needs

            def body() -> dict:
                head.warmed()  # never import in two threads at once (flows.head_start)
                return run_enrich(
                    paths,
                    settings=settings,
                    sources=sources,
                    refresh=args.refresh,
                    expand=args.expand,
                )

            summary = api.run(body)
    if summary.get("interrupted"):
        return _interrupted(summary)
    from flows.report import print_run_summary

    for line in summary.get("problems", []):  # the same one line per file as `extract`
        say(line)
    print_run_summary(summary, stream=sys.stderr)
    if summary.get("input_errors"):
        return EXIT_USAGE
    return EXIT_OK if summary.get("settled", False) else EXIT_UNSETTLED


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract identifiers only and print the mentions (JSON array or a table) on stdout."""
    _check_paths(args.paths)
    from pipeline.config import Settings
    from pipeline.extract import extract_paths, mentions_json, mentions_table

    limits = Settings.from_env().read_limits
    if args.format == "text":
        return _print_texts(args.paths, limits)
    docs = []
    for doc in extract_paths(args.paths, limits=limits):
        print_problems(doc.problems)
        docs.append(doc)
    out = mentions_json(docs) if args.format == "json" else mentions_table(docs)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return EXIT_USAGE if any(input_error(p) for d in docs for p in d.problems) else EXIT_OK


def input_error(problem) -> bool:
    """Exit 2's rule: a file named on the command line that could not be read at all, or a
    document of a format enrich reads that is damaged (a truncated or encrypted PDF, a Word
    file that is not one, an unreadable path). A file found in a folder that is no document
    enrich reads (an image, an archive, a scanned PDF) is skipped with its line, no error."""
    return problem.fatal and not problem.skipped


def print_problems(problems) -> None:
    """One line per problem file on stderr: ``enrich: PATH: message``."""
    for problem in problems:
        say(f"{problem.path}: {problem.message}")


def _print_texts(paths: Sequence[str], limits) -> int:
    """``--format text``: each file's text, as offsets count it."""
    from pipeline.extract import expand_paths
    from pipeline.readers import BinaryFile, DocumentError, extracted_text

    code = EXIT_OK
    for path, _named in expand_paths(paths):
        try:
            sys.stdout.write(extracted_text(path, limits))
        except (BinaryFile, DocumentError, OSError) as exc:
            say(f"{path}: {exc}")
            code = EXIT_USAGE
    return code


# -- enrich match (issue 17: reference strings without identifiers) ---------------------------


def _add_match_parser(sub, db_help: str, sources_help: str) -> None:
    m = _verb(sub, "match", cmd_match, "match reference strings without identifiers to works")
    m.add_argument("paths", nargs="+", help="seed files or folders")
    m.add_argument(
        "--format", choices=("json", "table"), default="json", help="output (default: json)"
    )
    m.add_argument("--db", help=db_help + "; decisions and overrides are kept there")
    m.add_argument("--refresh", action="store_true", help="ask again about settled strings")
    m.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="[PATH:]LINE=DOI",
        help="correct the match of the entry at LINE (a DOI, pmid:N, or 'none'); repeatable",
    )
    m.add_argument(
        "--sources",
        default="crossref,pubmed",
        help="crossref (search) and pubmed (ECitMatch); default both",
    )


def parse_accept(text: str) -> tuple[str | None, int, str | None, str | None]:
    """``'12=10.1/x'`` / ``'refs.txt:12=pmid:123'`` / ``'12=none'`` -> (path, line, doi, pmid)."""
    from pipeline.identifiers import normalise

    where, eq, target = text.partition("=")
    path, _, line = where.rpartition(":")
    if not eq or not line.strip().isdigit() or not target.strip():
        raise UsageError(f"--accept {text!r}: expected LINE=DOI, PATH:LINE=DOI or LINE=none")
    target = target.strip()
    if target.lower() == "none":
        return path or None, int(line), None, None
    if target.lower().startswith("pmid:"):
        pmid = normalise("pmid", target[5:])
        if pmid is None:
            raise UsageError(f"--accept {text!r}: {target[5:]!r} is not a PMID")
        return path or None, int(line), None, pmid
    doi = normalise("doi", target)
    if doi is None:
        raise UsageError(f"--accept {text!r}: {target!r} is not a DOI")
    return path or None, int(line), doi, None


def cmd_match(args: argparse.Namespace) -> int:
    """Match the reference-list entries that print no DOI or PMID to works: one Crossref
    bibliographic search per new string, every candidate validated against the string, PubMed's
    ECitMatch for journal references Crossref leaves unmatched. Prints one object per entry
    (document, line, text, doi, pmid, status, score, candidates). Decisions are kept in the
    warehouse (--db), so a string is asked once; --accept records a correction that wins over
    the matcher. Ctrl-C or SIGTERM stops it cleanly: the decisions made are kept, exit 130."""
    settings = _settings(args)
    sources = [s for s in parse_sources(args.sources) if s in ("crossref", "pubmed")]
    if "crossref" not in sources:
        raise UsageError(f"--sources {args.sources!r}: matching needs crossref")
    accepts = [parse_accept(a) for a in args.accept]
    _check_paths(args.paths)
    from flows.matching import entries_to_match, match_documents
    from pipeline.extract import extract_paths
    from warehouse.db import connect

    docs = []
    for doc in extract_paths(args.paths, limits=settings.read_limits):
        print_problems(doc.problems)
        docs.append(doc)
    entries = entries_to_match(docs)
    corrections = _accepted_entries(entries, accepts)  # checked before the warehouse is opened
    with stop_on_signals() as stop:
        con = connect(settings.db_path)
        try:
            _apply_accepts(con, corrections)
            decisions, tally = match_documents(
                entries, settings, con=con, refresh=args.refresh, sources=sources
            )
        finally:
            con.close()
        if stop.is_set():
            say(
                f"interrupted by {stop.reason}: {tally.strings} decisions are kept, the other "
                "strings are asked next time; rerun to continue"
            )
            return EXIT_INTERRUPTED
    sys.stdout.write(_match_output(decisions, args.format))
    if tally.strings:
        counts = ", ".join(f"{v} {k}" for k, v in tally.by_status.items() if v)
        say(f"{tally.strings} new strings decided: {counts}; {tally.requests} requests")
    if any(input_error(p) for d in docs for p in d.problems):
        return EXIT_USAGE
    return EXIT_OK if all(d.result.settled for d in decisions) else EXIT_UNSETTLED


def _accepted_entries(entries, accepts) -> list:
    """(entry, doi, pmid) for each --accept, or a UsageError naming the one that fits none."""
    out = []
    for path, line, doi, pmid in accepts:
        found = [e for e in entries if e.line == line and (path is None or e.document == path)]
        if not found:
            where = f"{path}:{line}" if path else f"line {line}"
            raise UsageError(f"--accept: no reference entry without identifiers at {where}")
        if len({e.document for e in found}) > 1:
            raise UsageError(
                f"--accept: line {line} is an entry in several files; use PATH:{line}=…"
            )
        out.append((found[0], doi, pmid))
    return out


def _apply_accepts(con, corrections) -> None:
    from warehouse.matches import set_override

    for entry, doi, pmid in corrections:
        set_override(con, entry.key, doi=doi, pmid=pmid, note=f"{entry.document}:{entry.line}")


def _match_output(decisions, fmt: str) -> str:
    from pipeline.extract import _json_line

    if fmt == "json":
        rows = [_json_line(d.to_json()) for d in decisions]
        return ("[\n" + ",\n".join(rows) + "\n]\n") if rows else "[]\n"
    header = ("document", "line", "status", "doi/pmid", "score", "text")
    rows = [header]
    for d in decisions:
        r = d.result
        ident = r.doi or (f"pmid:{r.pmid}" if r.pmid else "")
        score = f"{r.score:.2f}" if r.score is not None else ""
        rows.append(
            tuple(
                printable(c)  # a file name or a reference string may hold control characters
                for c in (
                    d.entry.document,
                    str(d.entry.line),
                    r.status,
                    ident,
                    score,
                    d.entry.text[:70],
                )
            )  # fmt: skip
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in [*widths, 4]))
    return "\n".join(lines) + "\n"


def cmd_refresh(args: argparse.Namespace) -> int:
    """Keep works whose newest observation is older than --stale-after current: append fresh
    citation counts (never overwritten), re-fetch the records that changed since they were
    fetched (the change, a retraction, a new preprint is recorded with when it was seen), and
    ask who cites them (at most $ENRICH_CITING_CAP citing works each; a seed's subject: all).
    Runs as a Prefect flow, unless nothing is stale: then it says so at once and starts no flow
    run. Ctrl-C or SIGTERM stops it cleanly (exit 130; the works not refreshed stay stale, the
    changed ones not re-fetched yet are fetched by the next refresh)."""
    settings = _settings(args)
    stale = parse_duration(args.stale_after)
    sources = parse_sources(args.sources)
    say(f"refresh of {settings.db_path}: works whose newest count is older than {args.stale_after}")
    _probe_warehouse(settings.db_path)  # a damaged warehouse is said before Prefect starts
    from flows.steps import nothing_stale

    if nothing_stale(settings.db_path, stale_after=stale, sources=sources):
        say(
            f"nothing to refresh: every work has a count newer than {args.stale_after}; "
            "no flow run started"
        )
        return EXIT_OK
    with stop_on_signals(), prefect_api(os.environ) as api:
        from flows.refresh import run_refresh
        from flows.report import print_refresh_summary

        summary = api.run(
            lambda: run_refresh(settings=settings, stale_after=stale, sources=sources)
        )
    if summary.get("interrupted"):
        return _interrupted(summary)
    print_refresh_summary(summary, stream=sys.stderr)
    return EXIT_OK if summary.get("settled", False) else EXIT_UNSETTLED


def _interrupted(summary: dict) -> int:
    """The one line of a run stopped by a signal; exit 130."""
    left = sum(t.get("interrupted", 0) for t in summary.get("sources", {}).values())
    kept = f"{left} identifiers left pending" if left else "nothing left half-done"
    run = f" (run {summary['run_id']})" if summary.get("run_id") else ""
    say(
        f"interrupted by {summary['interrupted']}: what was loaded is kept, {kept}; "
        f"rerun to continue{run}"
    )
    return EXIT_INTERRUPTED


def cmd_sql(args: argparse.Namespace) -> int:
    """Run ad hoc SQL on the warehouse; read-only unless --write. During a run or refresh
    (which holds the file) a read-only query is answered by that run, from its last committed
    load, and says so on stderr."""
    settings = _settings(args)
    _require_db(settings.db_path)
    from warehouse.db import connect
    from warehouse.query import format_result, run_sql

    if args.write:
        con = connect(settings.db_path)
        try:
            result = run_sql(con, args.query, write=True)
        finally:
            con.close()
        out = format_result(result, args.format, escape=printable)
    else:
        request = {"verb": "sql", "query": args.query, "format": args.format}
        out = _read_only(
            settings.db_path,
            request,
            lambda con: format_result(run_sql(con, args.query), args.format, escape=printable),
        )
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Coverage per seed document and per source, ledger counts by status, the last runs.
    Answered during a run too (see `enrich sql`)."""
    settings = _settings(args)
    _require_db(settings.db_path)
    from warehouse.query import format_status, status_report

    out = _read_only(
        settings.db_path,
        {"verb": "status"},
        lambda con: format_status(status_report(con), escape=printable),
    )
    sys.stdout.write(out + "\n")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Export to DIRECTORY: every table and view as Parquet or CSV (one file each), or the
    works as a bibliography (works.bib, works.json CSL JSON, works.ris) for Zotero, JabRef,
    EndNote or pandoc. --seed or --sql exports the works of one seed document, or those a
    query selects. Works during a run too (see `enrich sql`)."""
    settings = _settings(args)
    _require_db(settings.db_path)
    from flows.exports import export_with, summary_from_json, summary_json
    from warehouse.scope import ScopeError

    directory = str(Path(args.directory).resolve())  # another process may write them
    request = {
        "verb": "export",
        "directory": directory,
        "format": args.format,
        "seed": args.seed,
        "sql": args.sql,
    }
    try:
        out = _read_only(
            settings.db_path,
            request,
            lambda con: summary_json(
                export_with(con, directory, args.format, seed=args.seed, query=args.sql)
            ),
        )
    except ScopeError as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise _cannot_write(args.directory, exc) from None
    summary = summary_from_json(out)
    what = f"{summary.works} works" if summary.works is not None else f"{len(summary.files)} files"
    say(f"wrote {what} ({summary.scope}) to {args.directory}")
    if summary.left_out:
        say(f"left out of the subset (no work_id column): {', '.join(summary.left_out)}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML report of the warehouse (or of one seed document's works):
    coverage, the fetch ledger, citation histories, most cited works and top movers, each seed
    document's works, and what needs attention (retractions, disagreements between sources,
    missing sources, failed and pending identifiers). It opens offline; no CDN."""
    settings = _settings(args)
    _require_db(settings.db_path)
    from warehouse.db import connect
    from warehouse.report import write_report
    from warehouse.scope import ScopeError

    con = connect(settings.db_path, read_only=True)
    try:
        summary = write_report(con, args.out, seed=args.seed, source=str(settings.db_path))
    except ScopeError as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise _cannot_write(args.out, exc) from None
    finally:
        con.close()
    say(
        f"wrote {summary.path} ({summary.bytes / 1e6:.1f} MB, {summary.scope}) "
        f"in {summary.seconds:.1f} s"
    )
    return EXIT_OK


def _read_only(db_path: Path, request: dict, local: Callable) -> str:
    """``local(con)`` on a read-only connection; when a run holds the file, the run answers
    ``request`` instead (flows.sharing); when nobody answers, wait for the lock as before."""
    from warehouse.db import WarehouseBusy, connect

    try:
        con = connect(db_path, read_only=True, wait=0)
    except WarehouseBusy:
        reply = _ask_the_run(db_path, request)
        if reply is not None:
            say(as_of_line(reply))
            return reply["out"]
        con = connect(db_path, read_only=True)
    try:
        return local(con)
    finally:
        con.close()


def _ask_the_run(db_path: Path, request: dict) -> dict | None:
    from flows.sharing import NoRunAnswers, RunRefused, ask
    from warehouse.query import SqlError

    try:
        return ask(db_path, request)
    except NoRunAnswers:
        return None
    except RunRefused as exc:
        if exc.kind == "WriterClosed":  # the run is finishing: its lock is about to go
            return None
        if exc.kind == "SqlError":
            raise SqlError(str(exc)) from None
        if exc.kind == "ScopeError":  # an export's --seed/--sql subset the run could not make
            raise InputError(str(exc)) from None
        raise EnrichError(f"the run holding {db_path} could not answer: {exc}") from None


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Re-normalise every stored raw response into the tables, without any HTTP. With
    --from-raw OLD, build a new warehouse (--db, which must not exist) from the raw answers
    still readable in OLD, a damaged warehouse; then `enrich run SEEDS --db NEW` adds the seed
    documents back, fetching only what the rebuilt ledger does not settle."""
    from flows.steps import rebuild_warehouse

    settings = _settings(args)
    if args.from_raw:
        return _rebuild_from_raw(args.from_raw, settings)
    _require_db(settings.db_path)
    counts = rebuild_warehouse(
        settings.db_path, memory_mb=settings.duckdb_memory_mb, citing_cap=settings.citing_cap
    )
    say("rebuilt " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return EXIT_OK


def _rebuild_from_raw(old: str, settings) -> int:
    from flows.recover import rebuild_from_raw

    done = rebuild_from_raw(
        old, settings.db_path, memory_mb=settings.duckdb_memory_mb, citing_cap=settings.citing_cap
    )
    lost = done["answers_lost"] + sum(n for n in done["rows_lost"].values() if n > 0)
    say(
        f"rebuilt {settings.db_path} from {old}: {done['answers']} raw answers read"
        + (f", {done['answers_lost']} unreadable" if done["answers_lost"] else "")
        + f"; {done['records']} records, {done['settled']} identifiers settled"
    )
    if done["rows_lost"]:
        say("unreadable rows: " + ", ".join(
            f"{table} {'all' if n < 0 else n}" for table, n in sorted(done["rows_lost"].items())
        ))  # fmt: skip
    say(f"next: enrich run SEEDS --db {settings.db_path} (adds your seed documents back)")
    return EXIT_UNSETTLED if lost or any(n < 0 for n in done["rows_lost"].values()) else EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Register the deployments (the full run and the citation refresh, each on a cron schedule,
    UTC) with the Prefect server at PREFECT_API_URL and serve them until interrupted.
    """
    from flows.deploy import serve_deployments

    settings = _settings(args)
    parse_duration(args.stale_after)
    return serve_deployments(
        settings=settings,
        paths=args.paths or [str(settings.seeds_path)],
        run_cron=args.run_cron or settings.run_cron,
        refresh_cron=args.refresh_cron or settings.refresh_cron,
        stale_after=args.stale_after,
        register_only=args.register_only,
    )


DEMO_WORKS = 300
DEMO_DIR = "demo-warehouse"  # under ENRICH_HOME (beside, not inside, the demo/ package)


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole pipeline in under a minute, offline: start the bundled fake of OpenAlex,
    Crossref and PubMed on 127.0.0.1 (the seeds' works plus generated ones), run the real
    `enrich run` against it into a demo warehouse of its own, then show `enrich status` and a
    sample query. Never touches your warehouse or the real APIs."""
    from flows.demo import run_demo

    settings = _settings(args)
    directory = Path(args.dir) if args.dir else settings.home / DEMO_DIR
    return run_demo(directory, seeds=settings.seeds_path, works=args.works)


# ------------------------------------------------------------------------------------------
# helpers and entry point
# ------------------------------------------------------------------------------------------


def say(message: str) -> None:
    """One line on stderr, ``enrich: `` first, terminal-safe (pipeline.terminal.printable): a
    file name or a server's error text never moves the cursor or forges a line."""
    print(f"enrich: {printable(message)}", file=sys.stderr, flush=True)


def _check_paths(paths: Sequence[str], *, default: bool = False) -> None:
    for p in paths:
        if not os.path.exists(p):
            if os.path.lexists(p):
                raise InputError(f"{p}: broken or looping symbolic link")
            if default:
                raise InputError(
                    f"{p}: no such folder (the default seed folder, $ENRICH_HOME/seeds); "
                    "pass files or folders to read, or set ENRICH_HOME"
                )
            raise InputError(f"{p}: no such file or directory")


def _cannot_write(target: str, exc: OSError) -> Exception:
    """A file or folder the user named cannot be written: one line naming it and why. A full
    disk stays itself: main says it in its own line, exit 1."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return exc
    where = exc.filename or target
    return InputError(f"{target}: cannot write there ({exc.strerror or exc}: {where})")


def _probe_warehouse(path: Path) -> None:
    """A damaged warehouse is said before Prefect starts and anything is fetched."""
    from warehouse.db import probe

    probe(path)


def _require_db(path: Path) -> None:
    if str(path) != ":memory:" and not Path(path).exists():
        raise InputError(f"{path}: no warehouse here yet (run `enrich run` first, or pass --db)")


_user_env: frozenset[str] = frozenset()


def configure_environment() -> None:
    """Quiet, offline-safe Prefect defaults, set before Prefect is imported (user values win)."""
    global _user_env
    _user_env = frozenset(k for k in os.environ if k.startswith("PREFECT_"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "pipeline,warehouse,flows,enrich")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (not the one at creation, which a test
    runner's capture may have closed since)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; ignore
        pass


class _PrintableFormatter(logging.Formatter):
    """Log messages escaped like every other line (a traceback, with -v, keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = printable(record.message)
        return super().formatMessage(record)


def configure_logging(verbose: bool) -> None:
    """Our loggers to stderr: a line per batch at INFO; libraries stay at WARNING."""
    handler = _StderrHandler()
    handler.setFormatter(_PrintableFormatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    for name in ("pipeline", "warehouse", "flows", "enrich"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(logging.DEBUG if verbose else logging.INFO)
        lg.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``enrich`` console script and ``python -m flows``."""
    configure_environment()
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        configure_logging(args.verbose)
        if not args.verbose and "PREFECT_LOGGING_LEVEL" not in _user_env:
            # Prefect logs a failed task with its traceback at ERROR; the CLI reports every
            # failure itself in one line, so Prefect speaks only with -v (or when asked).
            os.environ["PREFECT_LOGGING_LEVEL"] = "CRITICAL"
        return int(args.func(args))
    except UsageError as exc:
        say(f"{exc} (see enrich --help)")
        return EXIT_USAGE
    except (ConfigError, InputError) as exc:
        say(str(exc))
        return EXIT_USAGE
    except (KeyboardInterrupt, Interrupted):
        say("interrupted; what was loaded is kept, rerun to continue")
        return EXIT_INTERRUPTED
    except EnrichError as exc:
        say(str(exc))
        return EXIT_UNSETTLED
    except Exception as exc:  # the CLI edge: a one-line message, the traceback only with -v
        full = _disk_full(exc, args)
        if full is not None:
            log.debug("disk full", exc_info=True)
            say(f"disk full at {full}; free space and rerun (what was loaded before is kept)")
            return EXIT_UNSETTLED
        damaged = _damaged(exc, args)
        if damaged is not None:
            log.debug("damaged warehouse", exc_info=True)
            say(damaged)
            return EXIT_DAMAGED
        code = _warehouse_exit_code(exc)
        if code is not None:
            say(str(exc))
            return code
        log.debug("unexpected error", exc_info=True)
        say(f"unexpected error: {type(exc).__name__}: {exc} (run with -v for details)")
        return EXIT_UNSETTLED


def entry() -> None:
    """The console script: :func:`main`, then :func:`exit_now`."""
    exit_now(main())


def exit_now(code: int) -> NoReturn:
    """Exit with ``code`` without tearing the interpreter down module by module: after
    Prefect's imports Python's own teardown takes 0.7-1.3 s (measured on an ``enrich run`` and on
    a bare ``import flows.enrich``), on every verb, for nothing. What must happen at exit still
    does, in Python's own order: threads that are not daemons are joined, then the atexit hooks
    run (logging's flush, Prefect's queue drains, temporary files' removal), then the standard
    streams are flushed.

    A run stopped by a signal (130) skips the joins and hooks: its data is committed and its
    line printed, and a fetch thread still blocked on a socket must not keep the process alive
    (they are daemons, but an atexit hook may wait on the network)."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        raise SystemExit(code)  # a profiler or debugger writes its output at a normal exit
    if code != EXIT_INTERRUPTED:
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        # atexit has no public "run the hooks now"; _run_exitfuncs is what the interpreter
        # calls at exit (CPython since 3.0), and it clears them, so nothing runs twice
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (enrich sql | head): nothing to save
            pass
    os._exit(code)


def _disk_full(exc: Exception, args: argparse.Namespace | None) -> str | None:
    """Where the disk ran full, if that is what ``exc`` says (warehouse.db.disk_full_path)."""
    if "warehouse" not in sys.modules and "duckdb" not in sys.modules:
        return None
    from warehouse.db import disk_full_path

    return disk_full_path(exc, default=_db_of(args).resolve().parent)


def _damaged(exc: Exception, args: argparse.Namespace | None) -> str | None:
    """The damaged-warehouse message for ``exc``, at open (WarehouseDamaged) or in the middle
    of a run (a DuckDB error that says so: warehouse.db.damage_detail); else None."""
    if "warehouse" not in sys.modules:
        return None
    from warehouse.db import WarehouseDamaged, WarehouseError, damage_detail

    if isinstance(exc, WarehouseDamaged):
        return str(exc)
    if isinstance(exc, WarehouseError):  # e.g. a file that is not a warehouse at all
        return None
    detail = damage_detail(exc)
    if detail is None:
        return None
    named = re.search(r'file "([^"]+)"', detail)  # DuckDB names the file it could not read
    return str(WarehouseDamaged(named.group(1) if named else str(_db_of(args)), detail))


def _db_of(args: argparse.Namespace | None) -> Path:
    """The warehouse a failed verb was using: --db, else the configured default ($ENRICH_DB,
    else under $ENRICH_HOME, a .env file included)."""
    if getattr(args, "db", None):
        return Path(args.db)
    try:
        from pipeline.config import Settings

        return Path(Settings.from_env().db_path)
    except Exception:  # noqa: BLE001 - a bad configuration must not hide the first error
        return Path(DEFAULT_DB)


def _warehouse_exit_code(exc: Exception) -> int | None:
    """Exit code for the warehouse's own errors, None for anything else.

    Busy (another process holds the file past the wait) is 1: nothing is wrong, try again later.
    A bad query, a missing file or a file that is not a warehouse is 2.
    """
    if "warehouse" not in sys.modules:  # never imported: cannot be one of its errors
        return None
    from warehouse.db import WarehouseBusy, WarehouseError
    from warehouse.query import SqlError

    if isinstance(exc, WarehouseBusy):
        return EXIT_UNSETTLED
    if isinstance(exc, (WarehouseError, SqlError)):
        return EXIT_USAGE
    return None
