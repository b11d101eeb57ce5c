"""pipeline.normalise.validate: an odd value costs its field (a note says so), never the record,
and the bounds checked are the warehouse's own."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.normalise import normalise_crossref, normalise_openalex
from pipeline.normalise.validate import (
    COUNT,
    INT32,
    POSITION,
    SMALL_COUNT,
    shape_notes,
    shapes,
    validated,
)
from pipeline.records import (
    AuthorRecord,
    CitationCount,
    Identifier,
    Normalised,
    SourceRecord,
    TopicRecord,
)
from tests.pipeline.normalise import FIXTURES, make_raw

W1 = Identifier("openalex", "W1")
REAL = FIXTURES / "api_answers"


def record(**fields) -> SourceRecord:
    return SourceRecord("openalex", "W1", (W1,), raw_id="r1", **fields)


def check(*records, counts=()) -> Normalised:
    return validated(Normalised(records=records, counts=counts), source="openalex", raw_id="r1")


def notes(n: Normalised) -> list[tuple]:
    return [(x.record_key, x.field, x.raw_value, x.problem, x.action) for x in n.notes]


def test_a_valid_record_comes_back_as_the_same_object():
    rec = record(cited_by_count=3, counts_by_year=((2020, 1), (2021, 2)), reference_count=4)
    n = Normalised(records=(rec,))
    assert check(rec) == n and validated(n, source="openalex", raw_id="r1") is n


@pytest.mark.parametrize(
    ("value", "problem"),
    [(-5, "negative"), (2**63, "over the int64 range"), (10**30, "over the int64 range")],
)
def test_a_count_the_warehouse_cannot_hold_is_nulled_and_noted(value, problem):
    out = check(record(cited_by_count=value, title="Kept"))
    assert out.records[0].cited_by_count is None and out.records[0].title == "Kept"
    assert notes(out) == [("W1", "cited_by_count", str(value), problem, "nulled")]


def test_the_largest_int64_count_is_kept():
    assert check(record(cited_by_count=2**63 - 1)).records[0].cited_by_count == 2**63 - 1


def test_a_reference_count_over_int32_is_nulled():
    out = check(record(reference_count=2**31))
    assert out.records[0].reference_count is None
    assert notes(out)[0][1:] == ("reference_count", str(2**31), "over the int32 range", "nulled")


def test_a_bad_counts_by_year_entry_is_dropped_and_the_others_kept():
    out = check(record(counts_by_year=((2020, 4), (2021, -3), (2022, 2**64))))
    assert out.records[0].counts_by_year == ((2020, 4),)
    assert [(f, p, a) for _, f, _, p, a in notes(out)] == [
        ("counts_by_year[1].cited_by_count", "negative", "dropped"),
        ("counts_by_year[2].cited_by_count", "over the int64 range", "dropped"),
    ]


def test_a_count_observation_that_cannot_be_stored_is_left_out_with_a_note():
    good = CitationCount("openalex", W1, 7)
    bad = CitationCount("openalex", Identifier("doi", "10.1/x"), -1)
    out = check(counts=(good, bad))
    assert out.counts == (good,)
    assert notes(out) == [("doi:10.1/x", "cited_by_count", "-1", "negative", "record_skipped")]


def test_a_nested_entry_with_an_unusable_required_field_is_dropped():
    authors = (AuthorRecord(0, "Nobody"), AuthorRecord(2, "Ada Lovelace"))
    topics = (TopicRecord("mesh", "Humans", score=float("nan")),)
    out = check(record(authors=authors, topics=topics))
    assert [a.raw_name for a in out.records[0].authors] == ["Ada Lovelace"]
    assert out.records[0].topics[0].score is None
    assert [(f, a) for _, f, _, _, a in notes(out)] == [
        ("authors[0].position", "dropped"),
        ("topics[0].score", "nulled"),
    ]


def test_a_wrong_type_is_nulled_whatever_the_field():
    out = check(record(title=42, is_oa="yes", publication_year=True))
    r = out.records[0]
    assert (r.title, r.is_oa, r.publication_year) == (None, None, None)
    assert {n.field for n in out.notes} == {"title", "is_oa", "publication_year"}


def test_a_record_without_any_usable_identifier_cannot_load_and_is_skipped():
    bad = SourceRecord("openalex", "W2", (Identifier("openalex", ""),), raw_id="r1")
    out = check(bad, record())
    assert [r.source_key for r in out.records] == ["W1"]
    assert [n.action for n in out.notes] == ["dropped", "record_skipped"]


def test_shape_notes_say_what_came_instead():
    work = {"ids": ["https://openalex.org/W1"], "authorships": {}, "cited_by_count": "-3",
            "title": None, "counts_by_year": []}  # fmt: skip
    expected = shapes({"ids": "object", "authorships": "array", "cited_by_count": "integer",
                       "title": "string", "counts_by_year": "array"})  # fmt: skip
    got = shape_notes(work, expected, source="openalex", key="W1", raw_id="r1")
    assert [(n.field, n.problem, n.action) for n in got] == [
        ("ids", "an array where an object belongs", "ignored"),
        ("authorships", "an object where an array belongs", "ignored"),
        ("cited_by_count", "a string where an integer belongs", "ignored"),
    ]


def test_a_real_openalex_work_with_ids_as_a_list_loads_and_says_so():
    work = json.loads((REAL / "openalex_work_W3123223998.json").read_text())
    work["ids"] = list(work["ids"].values())
    work["cited_by_count"] = -3465
    out = normalise_openalex(make_raw("openalex", "works", json.dumps(work)))
    (rec,) = out.records
    assert rec.source_key == "W3123223998" and rec.cited_by_count is None
    assert Identifier("doi", "10.1257/0002828042002561") in rec.ids  # from the top-level doi
    assert {(n.field, n.action) for n in out.notes} == {
        ("ids", "ignored"),
        ("cited_by_count", "nulled"),
    }


def test_a_real_crossref_work_with_a_huge_count_keeps_everything_else():
    body = json.loads((REAL / "crossref_work_10.1002_jor.1100150407.json").read_text())
    body["message"]["is-referenced-by-count"] = 10**25
    body["message"]["author"] = {"given": "not", "family": "a list"}
    out = normalise_crossref(make_raw("crossref", "works", json.dumps(body)))
    (rec,) = out.records
    assert rec.cited_by_count is None and rec.authors == () and len(rec.references) == 36
    # a value note names the column it was meant for, a shape note the answer's own field
    assert {(n.field, n.action) for n in out.notes} == {
        ("cited_by_count", "nulled"),
        ("author", "ignored"),
    }


# -- the bounds are the warehouse's own ------------------------------------------------------

_TYPES = {"BIGINT": (-(2**63), 2**63 - 1), "INTEGER": INT32}


def _column_bounds(con, table: str, column: str) -> tuple[int, int]:
    """(lo, hi) a column accepts: its type's range, raised by a ``check (column >= N)``."""
    kind = con.execute(
        "select data_type from information_schema.columns where table_name = ? and column_name = ?",
        [table, column],
    ).fetchone()[0]
    lo, hi = _TYPES[kind]
    for (text,) in con.execute(
        "select expression from duckdb_constraints() where table_name = ? and "
        "constraint_type = 'CHECK'",
        [table],
    ).fetchall():
        match = re.fullmatch(rf"\(?\"?{column}\"? >= (\d+)\)?", text.strip())
        if match:
            lo = max(lo, int(match.group(1)))
    return lo, hi


@pytest.mark.parametrize(
    ("table", "column", "bounds"),
    [
        ("source_records", "cited_by_count", COUNT),
        ("source_records", "reference_count", SMALL_COUNT),
        ("source_records", "publication_year", INT32),
        ("citation_counts", "cited_by_count", COUNT),
        ("counts_by_year", "cited_by_count", COUNT),
        ("counts_by_year", "year", INT32),
        ("authorships", "position", POSITION),
        ("work_references", "position", INT32),
    ],
)
def test_the_bounds_checked_are_the_columns_bounds(table, column, bounds):
    from warehouse.db import connect

    con = connect(":memory:")
    try:
        assert _column_bounds(con, table, column) == bounds
    finally:
        con.close()


def test_every_field_of_every_record_a_normaliser_emits_has_a_check():
    """A field added to a record type without a check here would reach the warehouse
    unchecked: this fails until the new field is given one."""
    import dataclasses

    from pipeline.normalise import validate

    specs = [validate.SOURCE_RECORD, validate.AUTHOR, validate.INSTITUTION, validate.REFERENCE,
             validate.FUNDER, validate.TOPIC, validate.CITATION_COUNT, validate.IDENTITY_LINK,
             validate.UPDATE, validate.VERSION, validate.CITATION_LINK]  # fmt: skip
    for spec in specs:
        declared = [f.name for f in dataclasses.fields(spec.cls)]
        checked = [name for name, _ in spec.fields]
        assert sorted(checked) == sorted(declared), spec.cls.__name__


def test_every_record_type_a_normalised_answer_carries_is_validated():
    """A new kind of record in Normalised (issue 20 added citing links and modified ids) must
    be checked by ``validated`` too: each field's record type has a spec above."""
    import dataclasses

    from pipeline.normalise import validate

    checked_types = {spec.cls for spec in (validate.SOURCE_RECORD, validate.CITATION_COUNT,
                                           validate.IDENTITY_LINK, validate.CITATION_LINK)}  # fmt: skip
    carried = {
        "records": SourceRecord, "links": validate.IdentityLink, "counts": CitationCount,
        "citations": validate.CitationLink, "not_found": Identifier, "modified": Identifier,
        "notes": validate.DataQualityNote,
    }  # fmt: skip
    assert sorted(f.name for f in dataclasses.fields(Normalised)) == sorted(carried)
    assert {t for t in carried.values() if t not in (Identifier, validate.DataQualityNote)} <= (
        checked_types
    )


# -- issue 20's records: updates, versions, citing links, change keys, modified ids ------------


def test_an_update_or_version_without_a_usable_key_is_dropped_and_the_record_kept():
    from pipeline.records import UpdateRecord, VersionRecord

    good = UpdateRecord("retraction", Identifier("doi", "10.1/x"), Identifier("doi", "10.1/n"))
    no_target = UpdateRecord("retraction", Identifier("doi", ""))
    bad_notice = UpdateRecord("correction", Identifier("doi", "10.1/x"), notice="10.1/n")
    versions = (VersionRecord("has-preprint", Identifier("nope", "1")),
                VersionRecord("location", Identifier("arxiv", "1706.03762"), version=3))  # fmt: skip
    out = check(record(updates=(good, no_target, bad_notice), versions=versions, change_key=7))
    r = out.records[0]
    assert r.updates == (good, UpdateRecord("correction", Identifier("doi", "10.1/x")))
    assert r.versions == (VersionRecord("location", Identifier("arxiv", "1706.03762")),)
    assert r.change_key is None
    assert [(f, a) for _, f, _, _, a in notes(out)] == [
        ("updates[1].target", "dropped"),
        ("updates[2].notice", "nulled"),
        ("versions[0].other", "dropped"),
        ("versions[1].version", "nulled"),
        ("change_key", "nulled"),
    ]


def test_a_citing_link_keeps_its_usable_citing_ids_and_is_skipped_without_any():
    from pipeline.records import CitationLink

    w9 = Identifier("openalex", "W9")
    kept = CitationLink("openalex", W1, (w9, Identifier("doi", "")), 0, "r1")
    empty = CitationLink("openalex", W1, (Identifier("pmid", 5),), 1, "r1")
    no_cited = CitationLink("openalex", Identifier("openalex", ""), (w9,), 2, "r1")
    out = validated(
        Normalised(citations=(kept, empty, no_cited), modified=(W1, Identifier("pmid", ""))),
        source="openalex", raw_id="r1",
    )  # fmt: skip
    assert out.citations == (CitationLink("openalex", W1, (w9,), 0, "r1"),)
    assert out.modified == (W1,)
    assert [(f, a) for _, f, _, _, a in notes(out)] == [
        ("citing[1]", "dropped"),
        ("citing[0]", "dropped"),
        ("cited", "record_skipped"),
        ("citing", "record_skipped"),
        ("modified[1]", "dropped"),
    ]


def test_a_count_with_an_odd_change_key_keeps_its_count():
    out = check(counts=(CitationCount("openalex", W1, 7, change_key=["a"]),))
    assert out.counts == (CitationCount("openalex", W1, 7),)
    assert notes(out) == [("openalex:W1", "change_key", '["a"]', "not a string (list)", "nulled")]
