"""Plain functions the Prefect tasks call, one call per task. They compose the library
(``pipeline``: fetch, normalise) with the warehouse (``warehouse``: plan, load); neither of those
may import the other, so the composition lives here. No Prefect import: testable on its own.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows import settle
from flows.interrupt import STOP, Interrupted, StopRequest
from pipeline.collector import collector_paused
from pipeline.config import DUCKDB_MEMORY_MB, Settings
from pipeline.errors import ParseError
from pipeline.records import FetchBatch, Identifier, Normalised, RawResponse

log = logging.getLogger("flows.steps")

ProgressFn = Callable[[str, int, int], None]  # (source, done, total)


def fresh_http_state() -> None:
    """Forget limiters and unreachable marks from an earlier run in this process: a host that
    was down yesterday is asked again today (a long-lived ``enrich serve`` runs many flows)."""
    from pipeline.http import reset_host_state

    reset_host_state()


def make_client(source: str, settings: Settings, *, known: bool = False) -> Any:
    """The client for one source (imported lazily so `enrich extract` stays light). ``known``:
    the ids are the source's own already (a refresh re-fetching its records), so Crossref needs
    no agency lookup for them."""
    if source == "openalex":
        from pipeline.sources.openalex import OpenAlexClient

        return OpenAlexClient(settings)
    if source == "crossref":
        from pipeline.sources.crossref import CrossrefClient
        from pipeline.sources.doira import DoiRaClient

        # doi.org's agency lookup first: DOIs another agency registered cost Crossref nothing
        return CrossrefClient(settings, agencies=None if known else DoiRaClient(settings))
    if source == "pubmed":
        from pipeline.sources.pubmed import PubMedClient

        return PubMedClient(settings)
    raise ValueError(f"unknown source {source!r}")


# Write-ahead log size past which the writer checkpoints. DuckDB's 16 MB meant a checkpoint nearly
# every load (raw answers are stored); 64 MB loads 1.3x faster (bench ingest: 1,375 -> 1,740
# works/s, 256 MB: 1,910) while uncheckpointed data, held in memory, stays small (a run that
# never checkpoints holds it all: 167 MB after 7,000 OpenAlex works). The writer checkpoints
# itself (Writer.checkpoint_if_due); DuckDB's own automatic checkpoint, at commit, is set beyond
# reach (WRITER_DUCKDB_CHECKPOINT). A checkpoint fills whatever limit it is given: raised for it
# to the ceiling, a 30,000-id run peaked at 705 MB; by 128 MB, 664 MB at 30,000 and 949 MB at
# 100,000 ids; not raised, 659 and 805 MB (main, never checkpointing: 637 and 913). So
# CHECKPOINT_HEADROOM_MB is 0. A checkpoint out of memory invalidated the database once, at a
# fixed 256 MB cap ~90% into a 100,000-id run (f45ae01); raise it if that is seen again.
WRITER_CHECKPOINT_BYTES = 64 * 2**20
# Once the database file passes WRITER_CHECKPOINT_SHRINK_FROM bytes, the threshold shrinks in
# proportion to the file's size (threshold x shrink_from / file), never below
# WRITER_CHECKPOINT_MIN_BYTES (0: the threshold stays WRITER_CHECKPOINT_BYTES). A checkpoint's
# working set grows with the file: at 100,000 ids the run's peak was the checkpoint of a
# ~320 MB file with 64 MB of log (884 and 922 MB; 927 at stop 28). Shrinking from 128 MB (a
# 330 MB file checkpoints at ~25 MB of log) peaked at 831 and 813 MB (with a response-byte
# bound that did nothing alone) in the same period, 41 checkpoints instead of 23 at the same
# CPU (409.7 against 412.2 and 405.3 s). Runs whose file stays under 128 MB (roughly 25,000
# ids: 36 MB at 5,000, 385 MB at 100,000) take the flat threshold as before.
WRITER_CHECKPOINT_SHRINK_FROM = 128 * 2**20
WRITER_CHECKPOINT_MIN_BYTES = 16 * 2**20
WRITER_DUCKDB_CHECKPOINT = "1TB"
CHECKPOINT_HEADROOM_MB = 0


# DuckDB's allocator keeps freed memory for reuse until a task's peak passes this (default
# 128 MB): measured at the peak of a 10,000-id run, 264 MB resident for 66 MB allocated.
WRITER_ALLOCATOR_FLUSH = "16MB"


# DuckDB keeps a table's primary-key index (ART) in memory while it inserts into the table, and a
# load's own uncommitted rows too; neither can be evicted. A fixed cap therefore fails once the
# warehouse outgrows it (measured: 100,000 ids at 128 MB died with "failed to pin block" after
# 100 s, ART_INDEX ~45 MB + ~70 MB of the load's own rows). Worse, DuckDB 2.0 can leave index
# entries behind when a *commit* runs out of memory (reproduced: the keys then count as
# duplicates, even after reopening). So the writer keeps headroom before each call: its limit is
# at least twice the resident index plus LOAD_HEADROOM_MB, and an out-of-memory error raises the
# limit and runs the call again (every writer call is one transaction, idempotent by design).
LOAD_HEADROOM_MB = 96
MEMORY_RETRIES = 3
# How DuckDB words running out of its limit when the error comes wrapped (a failed commit is a
# TransactionException whose message carries the allocator's complaint).
OUT_OF_MEMORY_PHRASES = (
    "Out of Memory", "failed to pin block", "could not allocate", "failed to allocate",
)  # fmt: skip


def memory_ceiling_mb() -> int:
    """The highest limit the writer raises DuckDB's to: DuckDB's own default, 80% of RAM."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 4096
    return max(DUCKDB_MEMORY_MB, int(ram * 0.8) // 2**20)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether a DuckDB error is its out-of-memory error, raised directly or from a commit."""
    import duckdb

    if isinstance(exc, duckdb.OutOfMemoryException):
        return True
    text = str(exc)
    return isinstance(exc, duckdb.Error) and any(p in text for p in OUT_OF_MEMORY_PHRASES)


def checkpoint_threshold(file_bytes: int) -> int:
    """The write-ahead log size past which the writer checkpoints a database of ``file_bytes``:
    WRITER_CHECKPOINT_BYTES, shrinking in proportion once the file passes
    WRITER_CHECKPOINT_SHRINK_FROM (when set), never below WRITER_CHECKPOINT_MIN_BYTES."""
    if not WRITER_CHECKPOINT_SHRINK_FROM or file_bytes <= WRITER_CHECKPOINT_SHRINK_FROM:
        return WRITER_CHECKPOINT_BYTES
    shrunk = WRITER_CHECKPOINT_BYTES * WRITER_CHECKPOINT_SHRINK_FROM // file_bytes
    return max(WRITER_CHECKPOINT_MIN_BYTES, shrunk)


class WriterClosed(RuntimeError):
    """A write was asked of a Writer already closed (its run is over)."""


class Writer:
    """Serialises warehouse writes from the fetch threads.

    DuckDB allows one writer per file, and one connection shared by threads refuses concurrent
    calls (prefect-notes section 7.3), so every call takes a lock and a fresh cursor. Loading is
    cheap beside fetching, so the lock costs little while the sources fetch concurrently.

    DuckDB's memory is capped at ``memory_mb`` to start with, and raised when the warehouse's
    indexes need more (see LOAD_HEADROOM_MB), up to ``ceiling_mb``.
    """

    def __init__(
        self,
        db_path: str | Path,
        *,
        wait: float = 30.0,
        memory_mb: int = DUCKDB_MEMORY_MB,
        ceiling_mb: int | None = None,
    ) -> None:
        from warehouse.db import connect

        self.db_path = str(db_path)
        self.con = connect(self.db_path, wait=wait)
        self.ceiling_mb = max(int(memory_mb), ceiling_mb or memory_ceiling_mb())
        # DuckDB's default limit is 80% of RAM, and it keeps what a run inserts in its buffer
        # pool: the writer's memory grew with the run (2.9 GB at 100,000 ids). Capped
        # (Settings.duckdb_memory_mb), DuckDB evicts written blocks and spills to <db>.tmp.
        self.memory_mb = 0
        self._set_limit(int(memory_mb))
        # A crash replays at most this much log on the next open, nothing more.
        self.con.execute(f"set checkpoint_threshold = '{WRITER_DUCKDB_CHECKPOINT}'")
        self.con.execute(f"set allocator_flush_threshold = '{WRITER_ALLOCATOR_FLUSH}'")
        self._lock = threading.Lock()
        # what readers in other processes are told (flows.sharing): the run, and the number and
        # time of the last write that committed
        self.run_id: str | None = None
        self.loads = 0
        self.committed_at = datetime.now(UTC)

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self.con is None:
                raise WriterClosed(f"the warehouse writer for {self.db_path} is closed")
            self._keep_headroom()
            retries = 0
            while True:
                cur = self.con.cursor()
                try:
                    result = fn(cur, *args, **kwargs)
                    self.loads += 1
                    self.committed_at = datetime.now(UTC)
                    self.checkpoint_if_due()
                    return result
                except Exception as exc:
                    retries += 1
                    if (
                        retries > MEMORY_RETRIES
                        or not is_out_of_memory(exc)
                        or not self._raise_limit(self.memory_mb * 2, f"out of memory ({exc})")
                    ):
                        raise
                finally:
                    cur.close()

    def checkpoint_if_due(self) -> bool:
        """Checkpoint once the write-ahead log passes ``checkpoint_threshold``, DuckDB's limit
        raised by CHECKPOINT_HEADROOM_MB (at most to the ceiling) meanwhile; True when it did.
        A checkpoint DuckDB refuses (a reader's open transaction) is tried again after a later
        write: it moves nothing the warehouse holds, only where DuckDB keeps it. Called with
        the writer's lock held."""
        import duckdb

        try:
            size = os.stat(f"{self.db_path}.wal").st_size
        except OSError:  # no log (":memory:", or nothing written since the last checkpoint)
            return False
        if size <= checkpoint_threshold(self._file_bytes()):
            return False
        room = min(self.ceiling_mb, self.memory_mb + CHECKPOINT_HEADROOM_MB)
        if room > self.memory_mb:
            self.con.execute(f"set memory_limit = '{int(room)}MB'")
        try:
            self.con.execute("checkpoint").fetchall()
        except duckdb.Error as exc:
            log.debug("checkpoint put off (%s)", str(exc).splitlines()[0][:200])
            return False
        finally:
            if room > self.memory_mb:
                self.con.execute(f"set memory_limit = '{int(self.memory_mb)}MB'")
        return True

    def _file_bytes(self) -> int:
        """The database file's size (0 when it has none)."""
        try:
            return os.stat(self.db_path).st_size
        except OSError:
            return 0

    def reader(self) -> tuple[Any, dict]:
        """A cursor whose transaction sees the last committed write (a load in progress is
        invisible to it), and what that write was: ``run_id``, ``load`` (writes committed so
        far) and ``committed_at``. Never waits for the writer's lock: a reader is answered in
        the middle of a long load. The count is read before the snapshot is taken, so a write
        committing in between makes the data newer than it says, never older. The caller closes
        the cursor."""
        as_of = {
            "run_id": self.run_id,
            "load": self.loads,
            "committed_at": self.committed_at.isoformat(),
        }
        con = self.con
        if con is None:
            raise WriterClosed(f"the warehouse writer for {self.db_path} is closed")
        try:
            cur = con.cursor()
            cur.execute("begin transaction")
            cur.execute("select 1").fetchall()  # the snapshot is taken at the first statement
        except Exception as exc:  # closed under us: the run is ending
            raise WriterClosed(f"the warehouse writer for {self.db_path} is closing") from exc
        return cur, as_of

    def index_mb(self) -> float:
        """Memory DuckDB holds for primary-key indexes now, in MB."""
        # fetchall, not fetchone: a result left unread keeps its transaction open on the
        # writer's connection, and DuckDB then skips every automatic checkpoint
        rows = self.con.execute(
            "select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory() "
            "where tag = 'ART_INDEX'"
        ).fetchall()
        return rows[0][0] / 2**20

    def _keep_headroom(self) -> None:
        need = int(2 * self.index_mb()) + LOAD_HEADROOM_MB
        if need > self.memory_mb:
            self._raise_limit(max(need, self.memory_mb * 3 // 2), "indexes grew")

    def _raise_limit(self, target_mb: int, why: str) -> bool:
        """Raise DuckDB's limit to ``target_mb`` (at most the ceiling); False when at it."""
        target = min(int(target_mb), self.ceiling_mb)
        if target <= self.memory_mb:
            return False
        log.warning(
            "warehouse memory limit raised from %d MB to %d MB: %s (ENRICH_DUCKDB_MEMORY_MB "
            "sets where a run starts)", self.memory_mb, target, why.splitlines()[0][:200],
        )  # fmt: skip
        self._set_limit(target)
        return True

    def _set_limit(self, memory_mb: int) -> None:
        self.con.execute(f"set memory_limit = '{int(memory_mb)}MB'")
        self.memory_mb = int(memory_mb)

    def close(self) -> None:
        """Close the connection and drop it: Prefect keeps task parameters (this Writer) alive
        after the run, and a DuckDB connection alive at exit makes nanobind print leak noise."""
        with self._lock:
            if self.con is not None:
                self.con.close()
                self.con = None


def finish_quietly(writer: Writer, finish_run: Callable, run_id: str, status: str, summary: dict):
    """Record a run's end while another error is on its way out. A failure here (the same full
    disk, a database DuckDB has invalidated after a fatal error) is logged, never raised: it
    would replace the error worth reporting. The next run marks such a run ``crashed``."""
    try:
        writer(finish_run, run_id, status, summary)
    except Exception as second:  # noqa: BLE001 - the first error is the one the user needs
        log.warning("could not record the end of run %s: %s", run_id, str(second).splitlines()[0])


@dataclass
class SourceTally:
    """What one source did in one run: outcomes by status, requests, batches."""

    source: str
    asked: int = 0
    ok: int = 0
    not_found: int = 0
    not_in_source: int = 0  # another registration agency holds it: the source was not asked
    failed: int = 0
    pending: int = 0
    unreachable: int = 0  # pending with no HTTP status: the host could not be reached
    interrupted: int = 0  # left pending by a stop (SIGINT/SIGTERM) before their answer loaded
    requests: int = 0
    batches: int = 0
    parse_errors: int = 0
    seconds: float = 0.0
    ok_ids: list[Identifier] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a few distinct last_error lines

    def add(self, batch: FetchBatch) -> None:
        """Count one batch's outcomes."""
        self.batches += 1
        for o in batch.outcomes:
            self.asked += 1
            setattr(self, o.status, getattr(self, o.status) + 1)
            if o.status == "ok":
                self.ok_ids.append(o.identifier)
            if o.status == "pending" and o.http_status is None:
                self.unreachable += 1
            if o.last_error and o.status in ("failed", "pending") and len(self.errors) < 5:
                if o.last_error not in self.errors:
                    self.errors.append(o.last_error)

    def merge(self, other: SourceTally) -> None:
        """Fold another round's tally of the same source into this one."""
        for name in (
            "asked",
            "ok",
            "not_found",
            "not_in_source",
            "failed",
            "pending",
            "unreachable",
            "interrupted",
            "requests",
            "batches",
            "parse_errors",
            "seconds",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ok_ids.extend(other.ok_ids)
        self.errors.extend(e for e in other.errors if e not in self.errors)

    def as_dict(self) -> dict:
        """JSON-ready, without the id list."""
        return {k: v for k, v in self.__dict__.items() if k not in ("ok_ids", "source")}


def tallies_summary(tallies: dict[str, SourceTally]) -> dict:
    """What a run's tallies say, for its summary: per-source counts, whether every identifier is
    settled, and which sources could not be reached at all (every outcome pending, no HTTP)."""
    return {
        "sources": {s: t.as_dict() for s, t in tallies.items()},
        "settled": all(t.failed == 0 and t.pending == 0 for t in tallies.values()),
        "unreachable": sorted(
            s for s, t in tallies.items() if t.asked and t.unreachable == t.asked
        ),
    }


def with_prefect_share(summary: dict, started: float) -> dict:
    """Add the wall time since ``started`` and the part of it spent outside the flow body
    (Prefect's start-up and orchestration) to a flow's summary."""
    wall = time.perf_counter() - started
    summary["wall_seconds"] = round(wall, 3)
    summary["prefect_seconds"] = round(max(0.0, wall - summary.get("seconds", 0.0)), 3)
    return summary


def normalise_batch(batch: FetchBatch) -> tuple[list[Normalised], int]:
    """Normalise every raw answer of a batch; a body that cannot be parsed is logged, counted
    and noted (an ``answer_skipped`` data-quality note; its raw is still stored, so ``enrich
    rebuild`` can retry it after a fix)."""
    from pipeline.normalise import normalise

    out, errors = [], 0
    for raw in batch.raws:
        try:
            out.append(normalise(raw))
        except ParseError as exc:
            errors += 1
            log.warning(
                "%s %s: cannot normalise %s: %s", raw.source, raw.endpoint, raw.request_url, exc
            )
            out.append(Normalised(notes=(settle.unreadable_note(raw, str(exc)),)))
    return out, errors


# Fetched batches waiting to be loaded, at most (bounds memory; room for a full load group of
# OpenAlex's batches of 100).
PREFETCH_DEPTH = 10
# Batches already waiting are loaded together, in one transaction, up to this many identifiers:
# a load costs ~150 ms of fixed overhead (about 30 staged statements and a commit) whatever its
# size, so when loading falls behind fetching, fewer and larger loads catch up: loads of
# 100 / 500 / 1,000 / 2,000 OpenAlex works ran at 500 / 1,145 / 1,835 / 2,452 works/s.
LOAD_GROUP_IDS = 1000


# How often a consumer waiting for the next fetched batch looks at the stop request (seconds).
STOP_POLL = 0.1


def prefetched(
    items: Iterator[Any],
    *,
    depth: int,
    size: Callable[[Any], int] = lambda _: 1,
    group: int = 1,
    stop: StopRequest = STOP,
) -> Iterator[list[Any]]:
    """Iterate ``items`` in a helper thread, at most ``depth`` items ahead of the consumer.

    Yields lists: the next item, plus those already waiting while their ``size`` sum stays within
    ``group`` (``group=1``: one item per list). An exception raised by ``items`` is re-raised here
    after the items before it; a consumer that stops early (an exception while loading) stops
    the helper at its next item.

    Once ``stop`` is asked, the consumer raises Interrupted within STOP_POLL seconds, before
    the next list, and does not wait for the helper: it may be blocked on a socket for minutes
    (a daemon thread, abandoned; what it fetches after that is never loaded).
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    halt = threading.Event()  # the consumer is gone: the helper stops at its next item
    done = object()

    def put(item: Any) -> bool:
        while not halt.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((done, exc))
            return
        put((done, None))

    helper = threading.Thread(target=produce, name="fetch-prefetch", daemon=True)
    helper.start()
    pending: tuple | None = None
    try:
        while True:
            item, exc = pending if pending is not None else _next(q, stop)
            pending = None
            if item is done:
                if exc is not None:
                    raise exc
                return
            out, total = [item], size(item)
            while True:
                try:
                    nxt = q.get_nowait()
                except queue.Empty:
                    break
                if nxt[0] is done or total + size(nxt[0]) > group:
                    pending = nxt
                    break
                out.append(nxt[0])
                total += size(nxt[0])
            yield out
            stop.check()
    finally:
        halt.set()
        helper.join(timeout=0 if stop.is_set() else 5)


def _next(q: queue.Queue, stop: StopRequest) -> Any:
    """The next item of ``q``, raising Interrupted as soon as ``stop`` is asked."""
    while True:
        stop.check()
        try:
            return q.get(timeout=STOP_POLL)
        except queue.Empty:
            continue


def fetch_and_load(
    source: str,
    ids: Sequence[Identifier],
    *,
    settings: Settings,
    writer: Writer,
    run_id: str,
    counts: bool = False,
    cited_in: bool = False,
    known: bool = False,
    progress: ProgressFn | None = None,
    stop: StopRequest = STOP,
) -> SourceTally:
    """Fetch ``ids`` from one source batch by batch, normalise and load them (see
    ``load_stream``); a crash loses at most the batches in flight, which stay unsettled in the
    ledger and are asked again. Once ``stop`` is asked, fetching stops within a fraction of a
    second (a load in its transaction commits first) and the identifiers not loaded yet are
    recorded ``pending``. ``cited_in`` (PubMed): the records' batches also carry their cited-in
    counts (``PubMedClient.fetch``), so no separate counts pass resolves them again. ``known``:
    the ids are records the source already gave (``make_client``)."""
    tally = SourceTally(source)
    if not ids or stop.is_set():
        return tally
    started = time.perf_counter()
    client = make_client(source, settings, known=known)
    if counts:
        fetched = client.fetch_counts(ids)
    elif cited_in:
        fetched = client.fetch(ids, cited_in=True)
    else:
        fetched = client.fetch(ids)
    batches: Iterator[FetchBatch] = settle.guarded(fetched, ids, source)
    loaded: set[Identifier] = set()
    try:
        load_stream(
            batches, tally, writer=writer, run_id=run_id, counts=counts, total=len(ids),
            progress=progress, stop=stop, settled_here=loaded, citing_cap=settings.citing_cap,
        )  # fmt: skip
    except Interrupted:
        if not counts:  # a count refresh never writes the ledger: its works simply stay stale
            _leave_pending(source, ids, loaded, tally, writer=writer, run_id=run_id, stop=stop)
    tally.requests = client.requests_made
    tally.seconds = time.perf_counter() - started
    return tally


def _leave_pending(
    source: str,
    ids: Sequence[Identifier],
    loaded: set[Identifier],
    tally: SourceTally,
    *,
    writer: Writer,
    run_id: str,
    stop: StopRequest,
) -> None:
    """Record every identifier of ``ids`` whose outcome was not loaded as ``pending``: asked
    (or about to be) when the run was stopped, so the next run asks it again."""
    from warehouse.load import mark_ledger

    left = [i for i in distinct(ids) if i not in loaded]
    if not left:
        return
    reason = f"interrupted by {stop.reason or 'a signal'} before its answer was loaded"
    writer(mark_ledger, source, left, status="pending", error=reason, run_id=run_id)
    tally.asked += len(left)
    tally.pending += len(left)
    tally.interrupted += len(left)
    log.info("%s: stopped; %d identifiers left pending for the next run", source, len(left))


# A run allocates millions of small objects (parsed JSON, records, row tuples) and frees them in
# bulk, with few reference cycles. At Python's default thresholds (700, 10, 10) the cyclic
# collector ran so often that it cost 25% of normalising (bench ingest: 3,500 -> 4,500 works/s).
GC_THRESHOLDS = (50_000, 20, 10)


def tune_gc() -> None:
    """Raise the cyclic collector's thresholds for this process (never lowers them)."""
    current = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(current, GC_THRESHOLDS, strict=True)))


# glibc malloc tuning for a run (mallopt; skipped where libc is not glibc). Measured in-process on
# 10,000 ids: glibc held 239 MB in its arenas at the peak, 144 MB of it free. Response bodies and
# their decoded text (~1 MB each) are above the mmap threshold, but glibc raises that threshold
# to a freed chunk's size, so after the first free they came from the arenas and fragmented
# them. A fixed threshold keeps large blocks in their own maps, handed back on free; fewer
# arenas (one per thread by default, up to 8 per core) leave less free memory stranded.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MALLOPTS = ((M_MMAP_THRESHOLD, 128 * 1024), (M_TRIM_THRESHOLD, 128 * 1024), (M_ARENA_MAX, 2))


def tune_allocator() -> bool:
    """Apply MALLOPTS to this process's C allocator; False where that is not glibc."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(param, value) == 1 for param, value in MALLOPTS)


def load_stream(
    batches: Iterator[FetchBatch],
    tally: SourceTally,
    *,
    writer: Writer,
    run_id: str,
    counts: bool = False,
    total: int = 0,
    progress: ProgressFn | None = None,
    stop: StopRequest = STOP,
    settled_here: set[Identifier] | None = None,
    citing_cap: int | None = None,
) -> None:
    """Normalise and load fetched ``batches`` into the warehouse, counting them in ``tally``
    (citing links: at most ``citing_cap`` per cited work and source, None: all).

    Fetching (the ``batches`` iterator) runs in its own thread, at most PREFETCH_DEPTH batches
    ahead, so the client's pacing slots are not left idle during CPU work or while another source
    holds the writer. Batches waiting when a load starts are normalised and loaded together, in
    one transaction, up to LOAD_GROUP_IDS identifiers. (Normalising in a third thread, to overlap
    the loads, measured 0.93x: DuckDB already keeps both cores busy while it executes.)
    The identifiers whose outcome was loaded are added to ``settled_here``; Interrupted is raised
    between loads once ``stop`` is asked.
    """
    tune_gc()
    tune_allocator()
    waiting = prefetched(
        batches,
        depth=PREFETCH_DEPTH,
        size=lambda b: max(1, len(b.outcomes)),
        group=LOAD_GROUP_IDS,
        stop=stop,
    )
    for fetched in waiting:
        with collector_paused():
            group = _normalise_and_load(
                fetched, tally, writer=writer, run_id=run_id, counts=counts, citing_cap=citing_cap
            )
        for batch in group:
            tally.add(batch)
            if settled_here is not None:
                settled_here.update(o.identifier for o in batch.outcomes)
            log.info(
                "%s: batch %d, %d ids (%d ok, %d not found, %d failed, %d pending), %d/%d done",
                tally.source,
                tally.batches,
                len(batch.outcomes),
                *_statuses(batch),
                tally.asked,
                total,
            )
        if progress:
            progress(tally.source, tally.asked, total)


def _normalise_and_load(
    fetched: list[FetchBatch],
    tally: SourceTally,
    *,
    writer: Writer,
    run_id: str,
    counts: bool,
    citing_cap: int | None,
) -> list[FetchBatch]:
    """Normalise fetched batches (parse errors counted in ``tally``) and load them in one
    transaction; returns the batches as loaded (``_load_group``)."""
    group, normalised = [], []
    for batch in fetched:
        done, errors = normalise_batch(batch)
        group.append(settle.settle_unloaded(batch, done))
        normalised.append(done)
        tally.parse_errors += errors
    return _load_group(
        group, normalised, writer=writer, run_id=run_id, counts=counts, citing_cap=citing_cap
    )


def _load_group(
    group: list[FetchBatch],
    normalised: list[list[Normalised]],
    *,
    writer: Writer,
    run_id: str,
    counts: bool,
    citing_cap: int | None = None,
) -> list[FetchBatch]:
    """Load fetched batches (and their normalised answers) in one transaction; returns the
    batches as loaded.

    When the load refuses the data (a value no normaliser check caught), each batch is loaded
    alone, and a batch still refused is loaded without its records: its answers are stored and
    its ``ok`` identifiers become ``failed`` with the load's error. One bad record never costs
    the run, nor the other batches, nor a ledger row.
    """
    from warehouse.load import load_batch

    # a count refresh must not rewrite the enrichment ledger (a failed refresh of a work whose
    # record is loaded is not a failed record); its outcomes are counted in the tally instead
    flat = [n for done in normalised for n in done]
    try:
        writer(load_batch, _merged(group, counts), flat, run_id=run_id, citing_cap=citing_cap)
        return group
    except Exception as exc:
        if not settle.is_data_error(exc):
            raise
        log.warning("%s: a load of %d batch(es) was refused (%s); loading them one by one",
                    group[0].source, len(group), exc)  # fmt: skip
    loaded = []
    for batch, done in zip(group, normalised, strict=True):
        try:
            writer(load_batch, _merged([batch], counts), done, run_id=run_id, citing_cap=citing_cap)
        except Exception as exc:
            if not settle.is_data_error(exc):
                raise
            batch = settle.without_records(batch, exc)
            log.error("%s: a batch of %d identifier(s) could not be loaded: %s",
                      batch.source, len(batch.outcomes), exc)  # fmt: skip
            writer(load_batch, _merged([batch], counts), [], run_id=run_id, citing_cap=citing_cap)
        loaded.append(batch)
    return loaded


def _merged(group: list[FetchBatch], counts: bool) -> FetchBatch:
    """One FetchBatch carrying every raw answer (and, unless ``counts``, outcome) of ``group``."""
    if len(group) == 1 and not counts:
        return group[0]
    return replace(
        group[0],
        raws=tuple(r for b in group for r in b.raws),
        outcomes=() if counts else tuple(o for b in group for o in b.outcomes),
        requests_made=sum(b.requests_made for b in group),
    )


def _statuses(batch: FetchBatch) -> tuple[int, int, int, int]:
    by = {"ok": 0, "not_found": 0, "not_in_source": 0, "failed": 0, "pending": 0}
    for o in batch.outcomes:
        by[o.status] += 1
    return by["ok"], by["not_found"] + by["not_in_source"], by["failed"], by["pending"]


# A rebuild is one transaction over the whole warehouse: it keeps at least the cap every run had
# before schema v4 (512 MB); the 256 MB default was measured on runs, not on rebuilds.
REBUILD_MEMORY_MB = 512


def rebuild_warehouse(
    db_path: str | Path, *, memory_mb: int = DUCKDB_MEMORY_MB, citing_cap: int | None = None
) -> dict:
    """Re-normalise every stored raw response into the warehouse without any HTTP, with DuckDB
    capped at ``memory_mb`` but never below REBUILD_MEMORY_MB (citing links: ``citing_cap``)."""
    from pipeline.normalise import normalise
    from warehouse.load import finish_run, rebuild, start_run

    writer = Writer(db_path, memory_mb=max(REBUILD_MEMORY_MB, memory_mb))
    try:
        run_id = writer(start_run, "rebuild", {})
        counts = writer(rebuild, _safe_normalise(normalise), run_id=run_id, citing_cap=citing_cap)
        writer(finish_run, run_id, "completed", dict(counts))
        return counts
    finally:
        writer.close()


def _safe_normalise(fn: Callable[[RawResponse], Normalised]) -> Callable[[RawResponse], Normalised]:
    def wrapped(raw: RawResponse) -> Normalised:
        try:
            return fn(raw)
        except ParseError as exc:
            log.warning("cannot normalise %s: %s", raw.request_url, exc)
            return Normalised(notes=(settle.unreadable_note(raw, str(exc)),))

    return wrapped


def nothing_stale(db_path: str | Path, *, stale_after: timedelta, sources: Sequence[str]) -> bool:
    """Whether a refresh would find nothing to do: no source has a stale work. False whenever
    that cannot be told at once (no file yet, another process holds it, an older schema that
    only a read-write open upgrades): the refresh flow then decides, as before."""
    import duckdb

    from warehouse.db import WarehouseError, connect, latest_version, schema_version
    from warehouse.load import stale_works

    if str(db_path) == ":memory:" or not Path(db_path).exists():
        return False
    try:
        con = connect(db_path, read_only=True, wait=0)
    except WarehouseError:
        return False
    try:
        if schema_version(con) < latest_version():
            return False
        return not any(stale_works(con, s, stale_after=stale_after) for s in sources)
    except duckdb.Error:
        return False
    finally:
        con.close()


def distinct(ids: Iterable[Identifier]) -> list[Identifier]:
    """Identifiers in first-seen order without repeats."""
    return list(dict.fromkeys(ids))
