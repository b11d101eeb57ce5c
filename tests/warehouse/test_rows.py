"""Warehouse rows from records (warehouse/rows.py): the reference rows' keys and cited ids."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.records import Identifier, ReferenceRecord, SourceRecord
from warehouse.rows import RecordRows

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _reference_rows(*refs: ReferenceRecord) -> list[tuple]:
    record = SourceRecord("crossref", "10.1/a", (Identifier("doi", "10.1/a"),), references=refs)
    rows = RecordRows(run_id="r1", now=AT)
    rows.add(record, "w_1", fetched_at=AT)
    return [row[2:7] for row in rows.references.values()]


def test_a_reference_with_a_cited_id_is_keyed_by_it():
    rows = _reference_rows(ReferenceRecord("doi", "10.1/b", 1, "B. 2020"))
    assert rows == [("doi:10.1/b", "doi", "10.1/b", 1, "B. 2020")]


def test_a_reference_without_a_full_id_is_keyed_by_position_or_text_and_cites_no_id():
    rows = _reference_rows(
        ReferenceRecord(None, None, 2, "Text only"),
        ReferenceRecord("doi", "", 3),
        ReferenceRecord("", "10.1/c", 4),
        ReferenceRecord(None, None, None, "No position"),
    )
    assert [row[0] for row in rows[:3]] == ["pos:2", "pos:3", "pos:4"]
    assert rows[3][0].startswith("text:")
    # a scheme without a value (or the reverse) is kept as the source gave its half
    assert [row[1:3] for row in rows] == [(None, None), (None, ""), ("", None), (None, None)]


def test_a_repeated_reference_keeps_one_row_with_its_last_position():
    rows = _reference_rows(ReferenceRecord("doi", "10.1/b", 1), ReferenceRecord("doi", "10.1/b", 5))
    assert rows == [("doi:10.1/b", "doi", "10.1/b", 5, None)]
