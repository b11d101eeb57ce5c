"""Real ``enrich`` processes for the crash and concurrency tests, and what to check after them.

* :class:`EnrichProcess` runs ``python -m flows <verb> ...`` (the real CLI in its own process, so
  ``kill -9`` is real), collects its stderr line by line with timestamps, and can wait for a line.
* Run as a module (``python -m tests.reliability.helpers_process <verb> ...``) it is the same CLI
  with one instrument: with ``RELIABILITY_PAUSE_IN_LOAD=<seconds>`` every ``load_batch`` prints
  ``RELIABILITY load-mid`` to stderr *inside its transaction* (after every write, before the
  commit) and sleeps, so a test can kill the process exactly there.
* Warehouse readers: the ledger, the settled identifiers, the quality checks, and the contract
  tables with run ids and timestamps left out (for comparing a crashed history with a clean one).
* :func:`requested_text`: what the fake API received per source, for "was this asked again?".
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SETTLED = ("ok", "not_found")
# the fake API's stats buckets that serve each enrich source
API_BUCKETS = {"openalex": ("openalex",), "crossref": ("crossref",), "pubmed": ("eutils", "idconv")}
# compared between a crashed history and a clean run: everything but run ids, timestamps, raw ids
# and the first asserter of an id (which source answered first depends on thread timing)
VOLATILE = re.compile(r"(_at$|^run_id$|^raw_id$|^fetched_in$|^asserted_by$)")
COMPARED_TABLES = ("works", "work_ids", "source_records", "citation_counts")


# ------------------------------------------------------------------------------------------
# the seed document and the environment of a subprocess
# ------------------------------------------------------------------------------------------


def write_seed(catalog: Iterable, path: Path) -> int:
    """A Markdown reading list naming each work of ``catalog`` once (mostly by DOI, every fifth
    by PMID), one per paragraph so each line is its own work; returns how many it names."""
    lines, named = ["# Reading list", ""], 0
    for i, w in enumerate(catalog):
        if w.doi and i % 5:
            lines += [f"{i}. https://doi.org/{w.doi}", ""]
        elif w.pmid:
            lines += [f"{i}. PMID: {w.pmid}", ""]
        else:
            continue
        named += 1
    path.write_text("\n".join(lines), encoding="utf-8")
    return named


def cli_env(api_env: Mapping[str, str], prefect_api_url: str, **extra: str) -> dict[str, str]:
    """The environment of an ``enrich`` subprocess: the fake API's URLs, the shared Prefect
    server, fast pacing (the fake has no rate limits), and no developer secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENRICH_", "PREFECT_"))}
    env.pop("NCBI_API_KEY", None)
    env.pop("OPENALEX_API_KEY", None)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "PREFECT_API_URL": prefect_api_url,
            "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(ROOT / ".prefect-test")),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
            "ENRICH_MAILTO": "reliability@example.org",
            "ENRICH_OPENALEX_RPS": "50",
            "ENRICH_CROSSREF_RPS": "50",
            "ENRICH_CROSSREF_LIST_RPS": "20",
            "ENRICH_NCBI_RPS": "20",
            "ENRICH_TIMEOUT": "10",
            **dict(api_env),
            **extra,
        }
    )
    return env


# ------------------------------------------------------------------------------------------
# a real enrich process
# ------------------------------------------------------------------------------------------


@dataclass(eq=False)  # compared by identity
class EnrichProcess:
    """``python -m flows <args>`` (or the instrumented launcher) with its stderr collected."""

    args: list[str]
    env: dict[str, str]
    instrumented: bool = False
    hold: bool = False  # pre-warmed: imports done, the run starts at go()
    lines: list[tuple[float, str]] = field(default_factory=list)
    started: float = 0.0
    proc: subprocess.Popen | None = None
    killed: bool = False
    _reader: threading.Thread | None = None
    _stdout: list[str] = field(default_factory=list)
    _cv: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> EnrichProcess:
        """Start the process: ``python -m flows <args>``, or the launcher of this module when
        instrumented or held (the same CLI entry point, ``flows.cli.main``)."""
        launcher = self.instrumented or self.hold
        module = "tests.reliability.helpers_process" if launcher else "flows"
        hold = ["--hold"] if self.hold else []
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", module, *hold, *self.args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE if self.hold else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # our own process group: a kill reaches nobody else
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        return self

    def go(self, timeout: float = 60.0) -> EnrichProcess:
        """Let a held process start its run (once it is ready); the clock restarts here."""
        assert self.hold, "go() is for held processes"
        if not self.wait_for(r"^RELIABILITY ready$", timeout=timeout):
            raise AssertionError(f"held process never got ready: {self.stderr[-2000:]}")
        self.started = time.monotonic()
        with self._cv:
            self.lines.clear()
        self.proc.stdin.write("go\n")
        self.proc.stdin.close()
        return self

    def discard(self) -> None:
        """End a held process that was never started (end of input: it exits 0)."""
        if self.proc.poll() is None and self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def _read(self) -> None:
        assert self.proc and self.proc.stderr
        for line in self.proc.stderr:
            with self._cv:
                self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        self._stdout.append(self.proc.stdout.read())

    def wait_for(self, pattern: str, *, count: int = 1, timeout: float = 60.0) -> bool:
        """Wait until ``count`` stderr lines match ``pattern`` (True), or the process ends or
        ``timeout`` passes (False)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                if sum(1 for _, ln in self.lines if rx.search(ln)) >= count:
                    return True
                if self.proc.poll() is not None and not self._reader.is_alive():
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))

    def kill(self) -> None:
        """SIGKILL the process (and anything it started), and reap it."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.killed = True
        self.proc.wait(timeout=30)
        self._reader.join(timeout=10)

    def finish(self, timeout: float = 120.0) -> int:
        """Wait for the process to exit by itself (killed after ``timeout``); its exit code."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"enrich {' '.join(self.args)} did not end in {timeout:g} s"
            ) from None
        self._reader.join(timeout=10)
        return self.proc.returncode

    @property
    def stderr(self) -> str:
        with self._cv:
            return "\n".join(ln for _, ln in self.lines)

    @property
    def stdout(self) -> str:
        return "".join(self._stdout)

    def phase(self) -> str:
        """Where the process was when it ended, from the last telling stderr line."""
        with self._cv:
            lines = [ln for _, ln in self.lines]
        for ln in reversed(lines):
            if "RELIABILITY load-mid" in ln:
                return "inside a load transaction"
            if re.search(r": batch \d+", ln):
                return "fetch/load (after a batch)"
            if re.search(r"^\S+ INFO +round \d", ln):
                return "fetch (round started)"
            if "loaded " in ln and "document" in ln:
                return "planning"
            if "schema now at version" in ln:
                return "extract/load documents"
        return "startup"


def run_to_end(args: list[str], env: dict[str, str], timeout: float = 120.0) -> EnrichProcess:
    """Run an enrich verb to its end; the process (exit code in ``proc.returncode``)."""
    p = EnrichProcess(args, env).start()
    p.finish(timeout)
    return p


# ------------------------------------------------------------------------------------------
# the warehouse as the tests see it
# ------------------------------------------------------------------------------------------


def open_ro(db: Path):
    """The warehouse read-only, through the project's own connect (so it must open)."""
    from warehouse.db import connect

    return connect(db, read_only=True, wait=30)


def quality(con) -> dict[str, int]:
    """The data-quality checks with offending rows (empty when healthy)."""
    from warehouse.query import check_quality

    return {name: n for name, n in check_quality(con) if n}


def ledger(con) -> dict[tuple[str, str, str], str]:
    return {
        (s, sc, v): st
        for s, sc, v, st in con.execute(
            "select source, scheme, value, status from fetch_ledger"
        ).fetchall()
    }


def settled(led: Mapping[tuple[str, str, str], str]) -> set[tuple[str, str, str]]:
    return {k for k, st in led.items() if st in SETTLED}


def contract_tables(con) -> dict[str, list[tuple]]:
    """The compared tables as sorted rows, volatile columns left out."""
    out = {}
    for table in COMPARED_TABLES:
        cols = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_name = ? "
                "order by ordinal_position",
                [table],
            ).fetchall()
            if not VOLATILE.search(r[0])
        ]
        select = ", ".join(f'"{c}"' for c in cols)
        rows = con.execute(f"select {select} from {table} order by all").fetchall()
        out[table] = [tuple(_hashable(v) for v in row) for row in rows]
    return out


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def requested_text(stats: Mapping[str, Mapping], skip: Iterable[str] = ()) -> dict[str, str]:
    """Per enrich source, every request the fake API received (path and query, decoded),
    leaving out requests whose path contains one of ``skip``."""
    out = {}
    for source, buckets in API_BUCKETS.items():
        parts = []
        for b in buckets:
            for _method, path, query in stats[b]["received"]:
                if not any(s in path for s in skip):
                    parts.append(unquote(path) + "?" + unquote(query))
        out[source] = "\n".join(parts).lower()
    return out


def was_requested(text: str, value: str) -> bool:
    """Whether ``value`` appears in ``text`` as a whole identifier (not inside a longer one)."""
    rx = re.compile(r"(?<![0-9a-z.])" + re.escape(value.lower()) + r"(?![0-9a-z])")
    return rx.search(text) is not None


# ------------------------------------------------------------------------------------------
# the instrumented launcher
# ------------------------------------------------------------------------------------------


def _instrument(pause: float, first: float) -> None:
    """Every ``load_batch`` announces itself inside its transaction and lingers there ``pause``
    seconds (``first`` seconds the first time)."""
    import warehouse.load as load

    original = load._load_normalised
    calls = []

    def slow_load(*args, **kwargs):
        result = original(*args, **kwargs)
        print("RELIABILITY load-mid", file=sys.stderr, flush=True)
        time.sleep(first if not calls else pause)
        calls.append(1)
        return result

    load._load_normalised = slow_load


def _prewarm() -> None:
    """Import what a run imports, so a held process starts its run at once. Prefect reads its
    settings at import: set them first, as ``flows.cli.main`` would for a run without -v."""
    from flows.cli import configure_environment

    user_level = "PREFECT_LOGGING_LEVEL" in os.environ
    configure_environment()
    if not user_level:
        os.environ["PREFECT_LOGGING_LEVEL"] = "CRITICAL"
    import duckdb  # noqa: F401
    import prefect  # noqa: F401

    import flows.cli  # noqa: F401
    import flows.enrich  # noqa: F401
    import flows.refresh  # noqa: F401
    import pipeline.normalise  # noqa: F401
    import pipeline.sources.crossref  # noqa: F401
    import pipeline.sources.openalex  # noqa: F401
    import pipeline.sources.pubmed  # noqa: F401
    import warehouse.load  # noqa: F401


def _lock_wait(seconds: float) -> None:
    """How long this process waits for the warehouse lock (default 30 s) before WarehouseBusy:
    both the readers' ``connect`` default and the flows' Writer."""
    import warehouse.db
    from flows import steps

    warehouse.db.connect.__kwdefaults__["wait"] = seconds
    steps.Writer.__init__.__kwdefaults__["wait"] = seconds


def _per_call_writer() -> None:
    """The alternative design, for measuring it: flows' Writer opens the warehouse for each call
    (a plan, a batch load) and closes it after, so readers get in between batches."""
    from flows import steps
    from warehouse.db import _open_waiting, connect

    class PerCallWriter(steps.Writer):
        def __init__(self, db_path, *, wait: float = 30.0) -> None:
            self.db_path, self.wait = str(db_path), wait
            self._lock = threading.Lock()
            connect(self.db_path, wait=wait).close()  # create / migrate once

        def __call__(self, fn, *args, **kwargs):
            with self._lock:
                con = _open_waiting(Path(self.db_path), read_only=False, wait=self.wait)
                try:
                    return fn(con, *args, **kwargs)
                finally:
                    con.close()

        def close(self) -> None:
            pass

    steps.Writer = PerCallWriter


def main(argv: list[str] | None = None) -> int:
    """``[--hold] <enrich arguments>``: with ``--hold``, import everything, print
    ``RELIABILITY ready``, and start only when a line arrives on stdin (exit 0 at end of input).
    ``RELIABILITY_PAUSE_IN_LOAD``, ``RELIABILITY_PAUSE_FIRST_LOAD`` and ``RELIABILITY_LOCK_WAIT``
    (seconds) instrument the run."""
    argv = list(sys.argv[1:] if argv is None else argv)
    pause = float(os.environ.get("RELIABILITY_PAUSE_IN_LOAD") or 0)
    first = float(os.environ.get("RELIABILITY_PAUSE_FIRST_LOAD") or pause)
    if pause > 0 or first > 0:
        _instrument(pause, first)
    if os.environ.get("RELIABILITY_LOCK_WAIT"):
        _lock_wait(float(os.environ["RELIABILITY_LOCK_WAIT"]))
    if argv[:1] == ["--hold"]:
        argv = argv[1:]
        _prewarm()
        if os.environ.get("RELIABILITY_PER_CALL_WRITER"):
            _per_call_writer()
        print("RELIABILITY ready", file=sys.stderr, flush=True)
        if not sys.stdin.readline():
            return 0
    from flows.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    from flows.cli import exit_now

    # ends as `python -m flows` does (flows.cli.entry): without the interpreter's module-by-module
    # teardown (0.3 s for a held process never released, 0.7-1.3 s after a run)
    exit_now(main())
