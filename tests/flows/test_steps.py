"""The plain steps the flows' tasks call."""

from __future__ import annotations

import gc
import json
import logging
import os
from datetime import UTC, datetime

import duckdb
import pytest

from flows.steps import (
    GC_THRESHOLDS,
    LOAD_HEADROOM_MB,
    M_MMAP_THRESHOLD,
    MALLOPTS,
    REBUILD_MEMORY_MB,
    WRITER_ALLOCATOR_FLUSH,
    SourceTally,
    Writer,
    WriterClosed,
    is_out_of_memory,
    load_stream,
    memory_ceiling_mb,
    rebuild_warehouse,
    tallies_summary,
    tune_allocator,
    tune_gc,
)
from pipeline.records import FetchBatch, Identifier, LedgerEntry, RawResponse
from warehouse.load import start_run

AT = datetime(2026, 11, 21, tzinfo=UTC)


def entry(value: str, status: str, http_status: int | None) -> LedgerEntry:
    return LedgerEntry("openalex", "doi", value, status, http_status, 1, None, AT)


def tally(source: str, *outcomes: LedgerEntry) -> SourceTally:
    t = SourceTally(source)
    t.add(FetchBatch(source, (), outcomes))
    return t


def test_a_run_is_settled_only_when_nothing_failed_or_is_pending():
    done = tally("openalex", entry("10.1/a", "ok", 200), entry("10.1/b", "not_found", 200))
    assert tallies_summary({"openalex": done})["settled"] is True
    failed = tally("crossref", entry("10.1/a", "failed", 503))
    assert tallies_summary({"openalex": done, "crossref": failed})["settled"] is False


def test_a_source_is_unreachable_only_when_every_outcome_is_pending_without_http():
    down = tally("pubmed", entry("1", "pending", None), entry("2", "pending", None))
    deferred = tally("openalex", entry("10.1/a", "pending", 429), entry("10.1/b", "pending", None))
    summary = tallies_summary(
        {"pubmed": down, "openalex": deferred, "crossref": SourceTally("crossref")}
    )
    assert summary["unreachable"] == ["pubmed"]
    assert summary["sources"]["pubmed"]["pending"] == 2


# -- load_stream -------------------------------------------------------------------------------


def _openalex_batch(n: int, *, body: str | None = None) -> FetchBatch:
    """One list answer with one work, W<n> / 10.5555/s<n>, as the OpenAlex client yields it."""
    work = {"id": f"https://openalex.org/W{n}", "doi": f"https://doi.org/10.5555/s{n}",
            "title": f"Work {n}", "publication_year": 2020, "cited_by_count": n}  # fmt: skip
    text = body if body is not None else json.dumps({"meta": {"count": 1}, "results": [work]})
    asked = Identifier("doi", f"10.5555/s{n}")
    raw = RawResponse("openalex", "works", f"https://api.openalex.org/works?page={n}", 200,
                      "application/json", text, AT, (asked,))  # fmt: skip
    entry = LedgerEntry("openalex", "doi", asked.value, "ok", 200, 1, None, AT)
    return FetchBatch("openalex", (raw,), (entry,))


def test_load_stream_loads_every_batch_and_counts_unparseable_answers(tmp_path):
    writer = Writer(tmp_path / "w.duckdb")
    run_id = writer(start_run, "test", {})
    batches = [_openalex_batch(n) for n in range(1, 13)] + [_openalex_batch(99, body="{trunc")]
    tally = SourceTally("openalex")

    load_stream(iter(batches), tally, writer=writer, run_id=run_id, total=len(batches))

    loaded = writer(lambda con: con.execute("select count(*) from source_records").fetchone()[0])
    raws = writer(lambda con: con.execute("select count(*) from raw_responses").fetchone()[0])
    ledger = writer(
        lambda con: con.execute(
            "select status, last_error from fetch_ledger where status <> 'ok'"
        ).fetchall()
    )
    notes = writer(
        lambda con: con.execute("select field, action from data_quality_notes").fetchall()
    )
    writer.close()
    assert (loaded, raws) == (12, 13)  # the unparseable answer is kept for a rebuild
    # its identifier was answered but nothing of it loaded: failed (asked again), never ok
    assert (tally.batches, tally.ok, tally.failed, tally.parse_errors) == (13, 12, 1, 1)
    assert ledger == [("failed", ledger[0][1])] and "could not be loaded" in ledger[0][1]
    assert notes == [("body", "answer_skipped")]


def test_load_stream_loads_what_came_before_a_fetch_error_then_raises_it(tmp_path):
    writer = Writer(tmp_path / "w.duckdb")
    run_id = writer(start_run, "test", {})

    def batches():
        yield _openalex_batch(1)
        yield _openalex_batch(2)
        raise RuntimeError("connection pool exploded")

    tally = SourceTally("openalex")
    with pytest.raises(RuntimeError, match="pool exploded"):
        load_stream(batches(), tally, writer=writer, run_id=run_id)
    loaded = writer(lambda con: con.execute("select count(*) from source_records").fetchone()[0])
    writer.close()
    assert loaded == tally.batches == 2


def test_tune_gc_raises_the_collector_thresholds_and_never_lowers_them():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        gc.set_threshold(10**6, 10, 10)
        tune_gc()
        assert gc.get_threshold() == (10**6, *GC_THRESHOLDS[1:])
    finally:
        gc.set_threshold(*before)


def test_a_load_stream_normalises_and_loads_with_the_collector_off(tmp_path, monkeypatch):
    import flows.steps as steps

    seen = []
    real = steps.normalise_batch

    def spy(batch):
        seen.append(gc.isenabled())
        return real(batch)

    monkeypatch.setattr(steps, "normalise_batch", spy)
    writer = Writer(tmp_path / "w.duckdb")
    run_id = writer(start_run, "test", {})
    body = json.dumps({"meta": {"count": 1}, "results": [{"id": "https://openalex.org/W1"}]})
    raw = RawResponse("openalex", "works", "https://api.openalex.org/works?p=1", 200,
                      "application/json", body, AT, (Identifier("openalex", "W1"),))  # fmt: skip
    batch = FetchBatch("openalex", (raw,), (LedgerEntry("openalex", "openalex", "W1", "ok", 200,
                                                        1, None, AT),))  # fmt: skip
    load_stream(iter([batch]), SourceTally("openalex"), writer=writer, run_id=run_id)
    writer.close()
    assert seen == [False]
    assert gc.isenabled()


class FakeLibc:
    def __init__(self, answer: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.answer = answer

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.answer


def test_tune_allocator_applies_every_malloc_option(monkeypatch):
    import ctypes

    libc = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    assert tune_allocator() is True
    assert libc.calls == list(MALLOPTS)
    assert (M_MMAP_THRESHOLD, 128 * 1024) in libc.calls  # a fixed threshold: no dynamic raise


def test_tune_allocator_says_false_when_the_libc_refuses_or_is_not_glibc(monkeypatch):
    import ctypes

    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc(answer=0))
    assert tune_allocator() is False
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())  # no mallopt (musl, macOS)
    assert tune_allocator() is False


def test_the_writer_caps_duckdb_memory_and_flushes_its_allocator_early(tmp_path):
    writer = Writer(tmp_path / "w.duckdb")
    try:
        got = writer(
            lambda con: con.execute(
                "select current_setting('allocator_flush_threshold'), "
                "current_setting('memory_limit')"
            ).fetchone()
        )
    finally:
        writer.close()
    assert got == (WRITER_ALLOCATOR_FLUSH, "244.1 MiB")  # DUCKDB_MEMORY_MB = 256, as MiB


def _write_rows(con, n=20_000):
    con.execute("create table if not exists t (k varchar primary key, body varchar)")
    start = con.execute("select count(*) from t").fetchone()[0]
    con.execute(
        f"insert into t select 'k' || range, repeat('x', 500) from range({start}, {start + n})"
    )


def test_the_writer_checkpoints_once_the_log_passes_its_threshold(tmp_path, monkeypatch):
    import flows.steps as steps

    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_BYTES", 2**20)
    writer = Writer(tmp_path / "w.duckdb")
    wal = tmp_path / "w.duckdb.wal"
    try:
        sizes = []
        for _ in range(3):  # each write ~10 MB of log
            writer(_write_rows)
            sizes.append(wal.stat().st_size if wal.exists() else 0)
        rows = writer(lambda con: con.execute("select count(*) from t").fetchone()[0])
    finally:
        writer.close()
    assert max(sizes) < 2**20  # checkpointed after each write: the rows are in the file
    assert rows == 60_000


def test_the_writer_checkpoints_with_its_limit_raised_by_a_headroom_then_restores_it(
    tmp_path, monkeypatch
):
    import flows.steps as steps

    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_BYTES", 2**20)
    monkeypatch.setattr(steps, "CHECKPOINT_HEADROOM_MB", 128)
    writer = Writer(tmp_path / "w.duckdb", memory_mb=256, ceiling_mb=2048)
    limits = []
    real = writer.con

    class Spy:
        def execute(self, query, *args):
            if query.startswith("set memory_limit") or query == "checkpoint":
                limits.append(query)
            return real.execute(query, *args)

        def __getattr__(self, name):
            return getattr(real, name)

    try:
        writer(_write_rows)
        writer.con = Spy()
        done = writer.checkpoint_if_due()  # nothing left to checkpoint: no change of limit
        writer.con = real
        writer(_write_rows)  # the write itself, unspied
        writer.con = Spy()
        with writer._lock:
            real.execute("insert into t select 'z' || range, repeat('y', 500) from range(20000)")
            due = writer.checkpoint_if_due()
        writer.con = real
        limit = writer(lambda con: con.execute("select current_setting('memory_limit')").fetchone())
    finally:
        writer.con = real
        writer.close()
    assert done is False
    assert due is True
    assert limits == ["set memory_limit = '384MB'", "checkpoint", "set memory_limit = '256MB'"]
    assert limit == ("244.1 MiB",)


def test_a_checkpoint_a_reader_holds_off_never_fails_the_write(tmp_path, monkeypatch):
    import flows.steps as steps

    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_BYTES", 2**20)
    writer = Writer(tmp_path / "w.duckdb")
    try:
        writer(lambda con: con.execute("create table t (k varchar primary key, body varchar)"))
        cur, _ = writer.reader()  # a reader's open transaction, as `enrich sql` holds one
        try:
            writer(_write_rows)
            writer(_write_rows)
        finally:
            cur.close()
        rows = writer(lambda con: con.execute("select count(*) from t").fetchone()[0])
    finally:
        writer.close()
    assert rows == 40_000


def test_the_writer_takes_its_memory_cap_from_the_caller(tmp_path):
    writer = Writer(tmp_path / "w.duckdb", memory_mb=1024)
    try:
        got = writer(lambda con: con.execute("select current_setting('memory_limit')").fetchone())
    finally:
        writer.close()
    assert got == ("976.5 MiB",)


@pytest.mark.parametrize(("asked", "used"), [(256, REBUILD_MEMORY_MB), (2048, 2048)])
def test_a_rebuild_runs_with_at_least_its_memory_floor(tmp_path, monkeypatch, asked, used):
    import flows.steps as steps

    caps = []

    class Recording(Writer):
        def __init__(self, db_path, **kwargs):
            caps.append(kwargs["memory_mb"])
            super().__init__(db_path, **kwargs)

    monkeypatch.setattr(steps, "Writer", Recording)
    counts = rebuild_warehouse(tmp_path / "w.duckdb", memory_mb=asked)
    assert caps == [used] and counts["raw_responses"] == 0


def test_the_writer_raises_its_limit_when_the_indexes_outgrow_its_headroom(tmp_path, caplog):
    writer = Writer(tmp_path / "w.duckdb", memory_mb=128)
    try:
        writer(lambda con: con.execute("create table t (k varchar primary key)"))
        writer(lambda con: con.execute(
            "insert into t select 'key-' || i || repeat('x', 20) from range(600000) r(i)"
        ))  # fmt: skip
        index_mb = writer.index_mb()
        assert 2 * index_mb + LOAD_HEADROOM_MB > 128  # the premise: this index needs more room
        with caplog.at_level(logging.WARNING, logger="flows.steps"):
            writer(lambda con: None)
        assert writer.memory_mb >= 2 * index_mb + LOAD_HEADROOM_MB
        assert "raised from 128 MB" in caplog.text and "indexes grew" in caplog.text
    finally:
        writer.close()


def test_the_writer_keeps_its_limit_while_the_indexes_fit(tmp_path):
    writer = Writer(tmp_path / "w.duckdb", memory_mb=256)
    try:
        writer(lambda con: con.execute("create table t (k integer primary key)"))
        writer(lambda con: con.execute("insert into t select i from range(1000) r(i)"))
        writer(lambda con: None)
    finally:
        writer.close()
    assert writer.memory_mb == 256


def test_an_out_of_memory_call_runs_again_with_twice_the_limit(tmp_path):
    writer = Writer(tmp_path / "w.duckdb", memory_mb=256, ceiling_mb=4096)
    limits = []

    def load(con):
        limits.append(con.execute("select current_setting('memory_limit')").fetchone()[0])
        if len(limits) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block")
        return "loaded"

    try:
        assert writer(load) == "loaded"
    finally:
        writer.close()
    assert limits == ["244.1 MiB", "488.2 MiB"]


@pytest.mark.parametrize(
    "error",
    [
        duckdb.TransactionException(
            "TransactionContext Error: Failed to commit: failed to pin block"
        ),
        duckdb.OutOfMemoryException(
            "Out of Memory Error: could not allocate block of size 256 KiB"
        ),
    ],
)
def test_out_of_memory_is_recognised_from_a_statement_or_a_commit(error):
    assert is_out_of_memory(error)


@pytest.mark.parametrize(
    "error",
    [
        duckdb.ConstraintException("Constraint Error: Duplicate key"),
        MemoryError("Out of Memory"),  # Python's own: not DuckDB's limit
        ValueError("failed to pin block"),
    ],
)
def test_other_errors_are_not_taken_for_out_of_memory(error):
    assert not is_out_of_memory(error)


def test_out_of_memory_at_the_ceiling_is_raised_to_the_caller(tmp_path):
    writer = Writer(tmp_path / "w.duckdb", memory_mb=256, ceiling_mb=256)
    calls = []

    def load(con):
        calls.append(1)
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block")

    try:
        with pytest.raises(duckdb.OutOfMemoryException):
            writer(load)
    finally:
        writer.close()
    assert calls == [1]


def test_a_closed_writer_says_so(tmp_path):
    writer = Writer(tmp_path / "w.duckdb")
    writer.close()
    with pytest.raises(WriterClosed, match="is closed"):
        writer(lambda con: None)


def test_the_memory_ceiling_is_most_of_this_machines_ram():
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    assert 0.7 * ram_mb < memory_ceiling_mb() <= 0.8 * ram_mb


def test_the_checkpoint_threshold_shrinks_with_the_file_once_past_its_start(monkeypatch):
    import flows.steps as steps

    mb = 2**20
    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_BYTES", 64 * mb)
    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_SHRINK_FROM", 128 * mb)
    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_MIN_BYTES", 16 * mb)
    got = [steps.checkpoint_threshold(size * mb) for size in (0, 128, 256, 320, 512, 2048)]
    assert [t / mb for t in got] == pytest.approx([64, 64, 32, 25.6, 16, 16], abs=1e-6)
    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_SHRINK_FROM", 0)  # off: the flat threshold
    assert steps.checkpoint_threshold(2048 * mb) == 64 * mb


def test_the_writer_checkpoints_a_large_file_at_the_shrunk_threshold(tmp_path, monkeypatch):
    import flows.steps as steps

    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_BYTES", 64 * 2**20)
    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_SHRINK_FROM", 2**16)
    monkeypatch.setattr(steps, "WRITER_CHECKPOINT_MIN_BYTES", 2**16)
    writer = Writer(tmp_path / "w.duckdb")
    wal = tmp_path / "w.duckdb.wal"
    try:
        writer(_write_rows)
        with writer._lock:
            writer.con.execute("checkpoint")  # a file of ~1.3 MB: the threshold ~3 MB
        writer(_write_rows)  # ~10 MB of log: past the shrunk threshold, far below 64 MB
        left = wal.stat().st_size if wal.exists() else 0
    finally:
        writer.close()
    assert left < 2**20
