"""The ``enrich`` command line: parse arguments, call one library function, turn errors into
one-line messages and exit codes. No business logic lives here.

Exit codes (contract): 0 every identifier settled; 1 the run finished but some identifiers are
still failed/pending; 2 bad usage, bad configuration or unreadable input.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from pipeline.config import DEFAULT_DB, VERSION
from pipeline.errors import ConfigError, EnrichError, InputError

log = logging.getLogger("enrich.cli")

EXIT_OK, EXIT_UNSETTLED, EXIT_USAGE = 0, 1, 2
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


def build_parser() -> argparse.ArgumentParser:
    """The ``enrich`` parser with one sub-command per verb of the contract."""
    p = _Parser(
        prog="enrich",
        description="Extract scholarly identifiers from documents, "
        "enrich them from OpenAlex, Crossref and PubMed, and load a DuckDB warehouse.",
    )
    p.add_argument("--version", action="version", version=f"enrich {VERSION}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True
    db_help = f"warehouse file (default: $ENRICH_DB or {DEFAULT_DB})"

    run = sub.add_parser(
        "run", help="extract, enrich and load (a Prefect flow)", description=_doc(cmd_run)
    )
    run.add_argument(
        "paths", nargs="*", default=["seeds/"], help="seed files or folders (default seeds/)"
    )
    run.add_argument("--db", help=db_help)
    run.add_argument(
        "--sources", default=",".join(SOURCES), help="comma-separated (default all three)"
    )
    run.add_argument("--refresh", action="store_true", help="re-fetch identifiers already settled")
    run.add_argument(
        "--expand",
        action="append",
        choices=("citing",),
        default=[],
        help="also enrich the works known only as citing works (who cites the seeds' works)",
    )
    run.set_defaults(func=cmd_run)

    ext = sub.add_parser(
        "extract", help="extraction only; prints mentions", description=_doc(cmd_extract)
    )
    ext.add_argument("paths", nargs="+", help="seed files or folders")
    ext.add_argument("--format", choices=("json", "table"), default="json")
    ext.set_defaults(func=cmd_extract)

    ref = sub.add_parser(
        "refresh",
        help="refresh counts, changed records, retractions and who cites (a Prefect flow)",
        description=_doc(cmd_refresh),
    )
    ref.add_argument("--db", help=db_help)
    ref.add_argument(
        "--stale-after",
        default="7d",
        help="refresh works whose newest observation is older (default 7d)",
    )
    ref.add_argument(
        "--sources", default=",".join(SOURCES), help="comma-separated (default all three)"
    )
    ref.set_defaults(func=cmd_refresh)

    sql = sub.add_parser("sql", help="ad hoc SQL on the warehouse", description=_doc(cmd_sql))
    sql.add_argument("query")
    sql.add_argument("--db", help=db_help)
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument(
        "--write", action="store_true", help="allow statements that change the warehouse"
    )
    sql.set_defaults(func=cmd_sql)

    st = sub.add_parser(
        "status", help="coverage, ledger counts, last runs", description=_doc(cmd_status)
    )
    st.add_argument("--db", help=db_help)
    st.set_defaults(func=cmd_status)

    ex = sub.add_parser("export", help="export every table", description=_doc(cmd_export))
    ex.add_argument("directory")
    ex.add_argument("--db", help=db_help)
    ex.add_argument("--format", choices=("parquet",), default="parquet")
    ex.set_defaults(func=cmd_export)

    rb = sub.add_parser(
        "rebuild",
        help="re-normalise from stored raw responses (no HTTP)",
        description=_doc(cmd_rebuild),
    )
    rb.add_argument("--db", help=db_help)
    rb.set_defaults(func=cmd_rebuild)

    sv = sub.add_parser(
        "serve",
        help="register the scheduled deployments and serve them",
        description=_doc(cmd_serve),
    )
    sv.add_argument("--db", help=db_help)
    sv.add_argument(
        "--paths", nargs="*", default=["seeds/"], help="seed paths for the scheduled run"
    )
    sv.add_argument(
        "--refresh-cron",
        default=None,
        help="cron for the refresh (default $ENRICH_REFRESH_CRON or '0 3 * * *', UTC)",
    )
    sv.add_argument(
        "--run-cron",
        default=None,
        help="cron for the full run (default $ENRICH_RUN_CRON or '0 2 * * 0', UTC)",
    )
    sv.add_argument("--stale-after", default="7d")
    sv.add_argument(
        "--register-only", action="store_true", help="register the deployments and exit"
    )
    sv.set_defaults(func=cmd_serve)
    return p


def _doc(func: Callable) -> str:
    return (func.__doc__ or "").strip()


# ------------------------------------------------------------------------------------------
# verbs
# ------------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace):
    from pipeline.config import Settings

    overrides = {"db_path": Path(args.db)} if getattr(args, "db", None) else {}
    return Settings.from_env(**overrides)


def cmd_run(args: argparse.Namespace) -> int:
    """Extract identifiers from the seed documents, enrich them from OpenAlex, Crossref and
    PubMed, and load the warehouse. Runs as a Prefect flow (ephemeral server unless
    PREFECT_API_URL is set).

    Example: enrich run seeds/ --db warehouse/warehouse.duckdb --sources openalex,crossref
    """
    settings = _settings(args)
    sources = parse_sources(args.sources)
    _check_paths(args.paths)
    from flows.enrich import run_enrich

    summary = run_enrich(
        args.paths, settings=settings, sources=sources, refresh=args.refresh, expand=args.expand
    )
    from flows.report import print_run_summary

    print_run_summary(summary, stream=sys.stderr)
    if summary.get("input_errors"):
        return EXIT_USAGE
    return EXIT_OK if summary.get("settled", False) else EXIT_UNSETTLED


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract identifiers only and print the mentions (JSON array or a table) on stdout.

    Example: enrich extract seeds/*.txt --format json
    """
    _check_paths(args.paths)
    from pipeline.extract import extract_paths, mentions_json, mentions_table

    docs = []
    for doc in extract_paths(args.paths):
        for problem in doc.problems:
            print(f"enrich: {problem.path}: {problem.message}", file=sys.stderr)
        docs.append(doc)
    out = mentions_json(docs) if args.format == "json" else mentions_table(docs)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return EXIT_USAGE if any(p.fatal for d in docs for p in d.problems) else EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    """Keep works whose newest observation is older than --stale-after current: append fresh
    citation counts, re-fetch the records that changed since they were fetched (the change,
    a retraction, a new preprint is recorded with when it was seen), and ask who cites them
    (at most $ENRICH_CITING_CAP citing works each; a seed's subject: all). Runs as a Prefect flow.

    Example: enrich refresh --stale-after 1d
    """
    settings = _settings(args)
    stale = parse_duration(args.stale_after)
    sources = parse_sources(args.sources)
    from flows.refresh import run_refresh
    from flows.report import print_refresh_summary

    summary = run_refresh(settings=settings, stale_after=stale, sources=sources)
    print_refresh_summary(summary, stream=sys.stderr)
    return EXIT_OK if summary.get("settled", False) else EXIT_UNSETTLED


def cmd_sql(args: argparse.Namespace) -> int:
    """Run ad hoc SQL on the warehouse; read-only unless --write.

    Example: enrich sql "select title, publication_year from works order by 2 desc" --format csv
    """
    settings = _settings(args)
    _require_db(settings.db_path)
    from warehouse.db import connect
    from warehouse.query import format_result, run_sql

    con = connect(settings.db_path, read_only=not args.write)
    try:
        result = run_sql(con, args.query, write=args.write)
    finally:
        con.close()
    out = format_result(result, args.format)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Coverage per seed document and per source, ledger counts by status, the last runs.

    Example: enrich status --db warehouse/warehouse.duckdb
    """
    settings = _settings(args)
    _require_db(settings.db_path)
    from warehouse.db import connect
    from warehouse.query import format_status, status_report

    con = connect(settings.db_path, read_only=True)
    try:
        report = status_report(con)
    finally:
        con.close()
    sys.stdout.write(format_status(report) + "\n")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Export every warehouse table to DIRECTORY as Parquet files.

    Example: enrich export --format parquet out/
    """
    settings = _settings(args)
    _require_db(settings.db_path)
    from warehouse.db import connect
    from warehouse.query import export_parquet

    con = connect(settings.db_path, read_only=True)
    try:
        written = export_parquet(con, args.directory)
    finally:
        con.close()
    print(f"enrich: wrote {len(written)} files to {args.directory}", file=sys.stderr)
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Re-normalise every stored raw response into the tables, without any HTTP.

    Example: enrich rebuild --db warehouse/warehouse.duckdb
    """
    from flows.steps import rebuild_warehouse

    settings = _settings(args)
    _require_db(settings.db_path)
    counts = rebuild_warehouse(
        settings.db_path, memory_mb=settings.duckdb_memory_mb, citing_cap=settings.citing_cap
    )
    print("enrich: rebuilt " + ", ".join(f"{k}={v}" for k, v in counts.items()), file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Register the deployments (the full run and the citation refresh, each on a cron schedule,
    UTC) with the Prefect server at PREFECT_API_URL and serve them until interrupted.

    Example: prefect server start &  PREFECT_API_URL=http://127.0.0.1:4200/api enrich serve
    """
    from flows.deploy import serve_deployments

    settings = _settings(args)
    parse_duration(args.stale_after)
    run_cron = args.run_cron or os.environ.get("ENRICH_RUN_CRON") or "0 2 * * 0"
    refresh_cron = args.refresh_cron or os.environ.get("ENRICH_REFRESH_CRON") or "0 3 * * *"
    return serve_deployments(
        settings=settings,
        paths=args.paths,
        run_cron=run_cron,
        refresh_cron=refresh_cron,
        stale_after=args.stale_after,
        register_only=args.register_only,
    )


# ------------------------------------------------------------------------------------------
# helpers and entry point
# ------------------------------------------------------------------------------------------


def _check_paths(paths: Sequence[str]) -> None:
    for p in paths:
        if not os.path.exists(p):
            if os.path.lexists(p):
                raise InputError(f"{p}: broken or looping symbolic link")
            raise InputError(f"{p}: no such file or directory")


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


def configure_logging(verbose: bool) -> None:
    """Our loggers to stderr: a line per batch at INFO; libraries stay at WARNING."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    for name in ("pipeline", "warehouse", "flows", "enrich"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(logging.DEBUG if verbose else logging.INFO)
        lg.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``enrich`` console script and ``python -m flows``."""
    configure_environment()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        configure_logging(args.verbose)
        if not args.verbose and "PREFECT_LOGGING_LEVEL" not in _user_env:
            # Prefect logs a failed task with its traceback at ERROR; the CLI reports every
            # failure itself in one line, so Prefect speaks only with -v (or when asked).
            os.environ["PREFECT_LOGGING_LEVEL"] = "CRITICAL"
        return int(args.func(args))
    except UsageError as exc:
        print(f"enrich: {exc} (see enrich --help)", file=sys.stderr)
        return EXIT_USAGE
    except (ConfigError, InputError) as exc:
        print(f"enrich: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("enrich: interrupted; what was loaded is kept, rerun to continue", file=sys.stderr)
        return 130
    except EnrichError as exc:
        print(f"enrich: {exc}", file=sys.stderr)
        return EXIT_UNSETTLED
    except Exception as exc:  # the CLI edge: a one-line message, the traceback only with -v
        code = _warehouse_exit_code(exc)
        if code is not None:
            print(f"enrich: {exc}", file=sys.stderr)
            return code
        log.debug("unexpected error", exc_info=True)
        print(
            f"enrich: unexpected error: {type(exc).__name__}: {exc} (run with -v for details)",
            file=sys.stderr,
        )
        return EXIT_UNSETTLED


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
