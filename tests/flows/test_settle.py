"""flows.settle and the load's fallbacks: an answer, a record or a client that cannot be used
leaves its identifiers ``failed`` with the reason, never ``ok`` with nothing loaded, never
without a ledger row."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from flows import settle
from flows.steps import SourceTally, Writer, load_stream
from pipeline.records import (
    DataQualityNote,
    FetchBatch,
    Identifier,
    LedgerEntry,
    Normalised,
    RawResponse,
    SourceRecord,
)
from warehouse.load import start_run

AT = datetime(2026, 11, 21, tzinfo=UTC)
A, B = Identifier("doi", "10.5555/a"), Identifier("doi", "10.5555/b")


def ok(ident: Identifier) -> LedgerEntry:
    return LedgerEntry("crossref", ident.scheme, ident.value, "ok", 200, 1, None, AT)


def raw(body: str, *asked: Identifier) -> RawResponse:
    return RawResponse("crossref", "works", "https://api.crossref.org/works", 200,
                       "application/json", body, AT, asked)  # fmt: skip


def crossref_list(*dois: str, count: object = 3) -> str:
    items = [{"DOI": d, "title": [f"Title {d}"], "is-referenced-by-count": count} for d in dois]
    return json.dumps({"status": "ok", "message-type": "work-list", "message": {"items": items}})


def statuses(batch: FetchBatch) -> dict[str, str]:
    return {o.value: o.status for o in batch.outcomes}


def test_a_batch_whose_answers_all_loaded_keeps_its_outcomes():
    batch = FetchBatch("crossref", (raw("{}", A),), (ok(A), ok(B)))
    record = SourceRecord("crossref", A.value, (A,))
    assert settle.settle_unloaded(batch, [Normalised(records=(record,))]) is batch


def test_ok_outcomes_no_loaded_record_backs_fail_when_a_record_was_skipped():
    batch = FetchBatch("crossref", (raw("{}", A, B),), (ok(A), ok(B)))
    record = SourceRecord("crossref", A.value, (A,))
    skipped = DataQualityNote("crossref", None, "DOI", '"x"', "no valid DOI", "record_skipped")
    out = settle.settle_unloaded(batch, [Normalised(records=(record,), notes=(skipped,))])
    assert statuses(out) == {A.value: "ok", B.value: "failed"}
    assert "could not be loaded: no valid DOI" in out.outcomes[1].last_error


def test_a_load_refused_for_its_data_stores_the_answer_and_fails_its_ids(tmp_path):
    """A value no normaliser check caught (planted here past the normaliser) makes DuckDB
    refuse the load: the batch is loaded again without records, its ok ids failed."""
    writer = Writer(tmp_path / "w.duckdb")
    run_id = writer(start_run, "enrich", {})
    good = FetchBatch("crossref", (raw(crossref_list(B.value), B),), (ok(B),))
    bad = FetchBatch("crossref", (raw("{}", A),), (ok(A),))
    poisoned = Normalised(records=(SourceRecord("crossref", A.value, (A,), cited_by_count=-1),))

    import flows.steps as steps

    real_normalise = steps.normalise_batch

    def normalise(batch):
        return ([poisoned], 0) if batch is bad else real_normalise(batch)

    tally = SourceTally("crossref")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(steps, "normalise_batch", normalise)
        load_stream(iter([good, bad]), tally, writer=writer, run_id=run_id)
    rows = writer(
        lambda con: con.execute(
            "select value, status, last_error from fetch_ledger order by value"
        ).fetchall()
    )
    raws = writer(lambda con: con.execute("select count(*) from raw_responses").fetchone()[0])
    records = writer(lambda con: con.execute("select source_key from source_records").fetchall())
    writer.close()
    assert [(v, s) for v, s, _ in rows] == [(A.value, "failed"), (B.value, "ok")]
    assert "ConstraintException" in rows[0][2]
    assert raws == 2 and records == [(B.value,)]
    assert (tally.ok, tally.failed) == (1, 1)


def test_a_client_that_raises_leaves_failed_rows_for_what_it_never_settled():
    def client():
        yield FetchBatch("crossref", (), (ok(A),))
        raise TypeError("'float' object has no attribute 'get'")

    batches = list(settle.guarded(client(), [A, B, B], "crossref"))
    assert [statuses(b) for b in batches] == [{A.value: "ok"}, {B.value: "failed"}]
    assert "client error (TypeError" in batches[1].outcomes[0].last_error


def test_only_data_errors_are_retried_without_records():
    assert settle.is_data_error(duckdb.ConstraintException("CHECK constraint failed"))
    assert settle.is_data_error(duckdb.ConversionException("INT128 out of range"))
    assert not settle.is_data_error(duckdb.IOException("No space left on device"))
    assert not settle.is_data_error(duckdb.OutOfMemoryException("failed to pin block"))
    assert not settle.is_data_error(RuntimeError("bug"))


def test_an_unreadable_answer_is_noted_with_the_start_of_its_body():
    note = settle.unreadable_note(raw("<html>" + "x" * 500, A), "HTML page instead of JSON")
    assert (note.field, note.action, note.problem) == (
        "body",
        "answer_skipped",
        "HTML page instead of JSON",
    )
    assert note.raw_value.startswith('"<html>') and len(note.raw_value) <= 200
