"""The stop request and the signal handlers behind Ctrl-C/SIGTERM (no Prefect here)."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime

import pytest

from flows import steps
from flows.interrupt import Interrupted, StopRequest, reclaimed, stop_on_signals


def test_a_stop_request_keeps_its_first_reason_and_raises_when_checked():
    stop = StopRequest()
    stop.check()  # nothing asked: no error
    stop.set("SIGTERM")
    stop.set("SIGINT")
    with pytest.raises(Interrupted, match="SIGTERM"):
        stop.check()
    stop.clear()
    assert not stop.is_set() and stop.reason is None


def test_the_first_signal_asks_to_stop_and_the_second_interrupts_at_once():
    stop = StopRequest()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2) and stop.reason == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_reclaimed_puts_our_handler_back_over_one_installed_since():
    stop = StopRequest()
    with stop_on_signals(stop):
        ours = signal.getsignal(signal.SIGTERM)
        theirs = signal.signal(signal.SIGTERM, lambda *a: None)  # as Prefect's flow engine does
        with reclaimed():
            assert signal.getsignal(signal.SIGTERM) is ours
        assert signal.getsignal(signal.SIGTERM) is not ours
        signal.signal(signal.SIGTERM, theirs)


def test_reclaimed_leaves_handlers_alone_outside_stop_on_signals():
    before = signal.getsignal(signal.SIGTERM)
    with reclaimed():
        assert signal.getsignal(signal.SIGTERM) is before


def test_prefetched_stops_within_a_poll_while_its_producer_is_blocked():
    stop = StopRequest()
    blocked = threading.Event()

    def items():
        yield 1
        blocked.set()
        threading.Event().wait(60)  # a fetch stuck on a socket
        yield 2

    got = []
    started = None
    with pytest.raises(Interrupted):
        for group in steps.prefetched(items(), depth=2, stop=stop):
            got += group
            assert blocked.wait(5)
            stop.set("SIGINT")
            started = time.monotonic()
    assert got == [1]
    assert time.monotonic() - started < 1.0, "waited for the blocked producer"


def test_an_interrupted_fetch_leaves_what_was_not_loaded_pending(monkeypatch, tmp_path):
    from pipeline.config import Settings
    from pipeline.records import FetchBatch, Identifier, LedgerEntry
    from warehouse.load import start_run

    ids = [Identifier("doi", f"10.1/{n}") for n in range(4)]
    stop = StopRequest()
    now = datetime.now(UTC)

    class Client:
        requests_made = 1

        def fetch(self, asked):
            outcomes = tuple(
                LedgerEntry("crossref", i.scheme, i.value, "ok", 200, 1, None, now)
                for i in asked[:2]
            )
            yield FetchBatch("crossref", (), outcomes)
            while writer.loads < 2:  # start_run, then this batch: committed
                time.sleep(0.01)
            stop.set("SIGINT")  # the signal arrives while the next request hangs
            threading.Event().wait(60)

    monkeypatch.setattr(steps, "make_client", lambda source, settings, **_: Client())
    writer = steps.Writer(tmp_path / "w.duckdb")
    try:
        run_id = writer(start_run, "enrich", {})
        tally = steps.fetch_and_load(
            "crossref", ids, settings=Settings(), writer=writer, run_id=run_id, stop=stop
        )
        rows = dict(
            writer.con.execute("select value, status from fetch_ledger order by value").fetchall()
        )
    finally:
        writer.close()
    assert rows == {"10.1/0": "ok", "10.1/1": "ok", "10.1/2": "pending", "10.1/3": "pending"}
    assert (tally.ok, tally.pending, tally.interrupted) == (2, 2, 2)
