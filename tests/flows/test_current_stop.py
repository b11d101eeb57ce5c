"""A stop (Ctrl-C, SIGTERM: issue 18's flows.interrupt) during issue 20's refresh steps: each
step ends within a fraction of a second, even while a request hangs, keeps what it loaded, and
the steps after it are skipped (no Prefect here)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

import warehouse.load
from flows import current, steps
from flows.interrupt import StopRequest
from pipeline.config import Settings
from pipeline.records import CitingAsk, FetchBatch, Identifier, LedgerEntry

NOW = datetime.now(UTC)
W = [Identifier("openalex", f"W{n}") for n in range(1, 4)]
PMIDS = [Identifier("pmid", str(n)) for n in range(1, 4)]


def ok(source: str, ident: Identifier) -> LedgerEntry:
    return LedgerEntry(source, ident.scheme, ident.value, "ok", 200, 1, None, NOW)


class HangingClient:
    """Answers the first ask of any kind, then the stop arrives while the next request hangs."""

    def __init__(self, source: str, stop: StopRequest, writer: steps.Writer) -> None:
        self.source, self.stop, self.writer = source, stop, writer
        self.requests_made = 1
        self.calls: list[str] = []

    def _first_then_hang(self, kind: str, asked):
        self.calls.append(kind)
        yield FetchBatch(self.source, (), (ok(self.source, asked[0]),))
        loads = self.writer.loads
        while self.writer.loads == loads:  # the batch above is committed
            time.sleep(0.01)
        self.stop.set("SIGTERM")
        threading.Event().wait(60)  # a request stuck on a socket

    def fetch_counts(self, ids):
        return self._first_then_hang("counts", list(ids))

    def fetch(self, ids):
        return self._first_then_hang("fetch", list(ids))

    def fetch_citing(self, asks):
        return self._first_then_hang("citing", [a.ident for a in asks])

    def fetch_modified(self, pairs):
        return self._first_then_hang("modified", [i for i, _ in pairs])


@pytest.fixture
def world(monkeypatch, tmp_path):
    from warehouse.load import start_run

    stop = StopRequest()
    writer = steps.Writer(tmp_path / "w.duckdb")
    clients: list[HangingClient] = []

    def make_client(source, settings, **_):
        clients.append(HangingClient(source, stop, writer))
        return clients[-1]

    monkeypatch.setattr(steps, "make_client", make_client)
    run_id = writer(start_run, "refresh", {})
    yield stop, writer, run_id, clients
    writer.close()


def test_a_stop_during_the_counts_skips_the_change_check_refetch_and_who_cites(world, monkeypatch):
    stop, writer, run_id, clients = world
    monkeypatch.setattr(warehouse.load, "changed_works", lambda con, source: W[1:])
    monkeypatch.setattr(
        warehouse.load, "citing_plan", lambda con, source, cap: [CitingAsk(W[0], 5, 200)]
    )
    started = time.monotonic()
    done = current.refresh_source(
        "openalex", W, settings=Settings(), writer=writer, run_id=run_id, stop=stop
    )
    assert time.monotonic() - started < 5, "waited for the hanging request"
    assert [c.calls for c in clients] == [["counts"]]
    assert done.changed == [] and done.refetched.asked == 0 and done.citing.asked == 0


def test_a_stop_during_who_cites_notes_only_the_works_whose_answer_was_loaded(world, monkeypatch):
    stop, writer, run_id, clients = world
    asks = [CitingAsk(w, 5, 200) for w in W]
    noted = []
    monkeypatch.setattr(warehouse.load, "citing_plan", lambda con, source, cap: asks)
    monkeypatch.setattr(
        warehouse.load, "record_scans",
        lambda con, source, scanned, run_id: noted.extend(scanned) or len(scanned),
    )  # fmt: skip
    started = time.monotonic()
    tally = current.scan_citing(
        "openalex", settings=Settings(), writer=writer, run_id=run_id, stop=stop
    )
    assert time.monotonic() - started < 5, "waited for the hanging request"
    assert tally.ok_ids == [W[0]] and noted == [(W[0], True)]


def test_a_stop_during_pubmeds_change_check_returns_what_it_found_so_far(world, monkeypatch):
    stop, writer, run_id, clients = world
    monkeypatch.setattr(
        warehouse.load, "fetched_at", lambda con, source, ids: dict.fromkeys(ids, NOW)
    )
    started = time.monotonic()
    changed, tally = current.pubmed_modified(
        PMIDS, settings=Settings(), writer=writer, run_id=run_id, stop=stop
    )
    assert time.monotonic() - started < 5, "waited for the hanging request"
    assert [c.calls for c in clients] == [["modified"]] and changed == []
