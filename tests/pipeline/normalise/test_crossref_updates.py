"""Crossref retractions, corrections and versions: ``updated-by``, ``update-to``, ``relation``
(pipeline/normalise/crossref.py), on real answers (tests/fixtures/README)."""

from __future__ import annotations

import json

from pipeline.normalise import normalise_crossref
from pipeline.normalise.change import CROSSREF_CHANGE_FIELDS, change_key
from pipeline.records import Identifier, UpdateRecord, VersionRecord
from tests.pipeline.normalise import fixture_text, make_raw, raw_fixture

WAKEFIELD = Identifier("doi", "10.1016/s0140-6736(97)11096-0")
SAMPLE = Identifier("doi", "10.5555/12345678")


def record(name: str, *requested: Identifier):
    (r,) = normalise_crossref(raw_fixture("crossref", "works", name, *requested)).records
    return r


def test_retraction_watch_entries_become_updates_with_notice_date_and_record_id():
    r = record("work_retracted_retraction_watch.json", WAKEFIELD)
    assert r.updates == (
        UpdateRecord(
            "correction", WAKEFIELD, Identifier("doi", "10.1016/s0140-6736(04)15715-2"),
            "2004-03-06", "Correction", "retraction-watch", "17269",
        ),
        UpdateRecord(
            "retraction", WAKEFIELD, Identifier("doi", "10.1016/s0140-6736(10)60175-4"),
            "2010-02-06", "Retraction", "retraction-watch", "4036",
        ),
    )  # fmt: skip
    assert r.is_retracted is True


def test_updated_by_and_update_to_are_both_read_with_their_direction():
    r = record("work_updated_by_and_update_to.json", SAMPLE)
    notice = Identifier("doi", "10.5555/24242424x")
    by_kind = {(u.kind, u.target, u.notice, u.date) for u in r.updates}
    assert ("retraction", SAMPLE, notice, "2009-09-14") in by_kind  # updated-by: this work
    assert ("corrigendum", SAMPLE, SAMPLE, "2018-01-01") in by_kind  # its own notice, twice said
    assert len(r.updates) == 2, "the corrigendum stated both ways is one update"
    assert r.is_retracted is True


def test_a_notice_names_the_work_it_updates_as_the_target():
    message = {
        "DOI": "10.1007/s11356-024-33074-7",
        "title": ["Retraction Note: ..."],
        "update-to": [
            {"type": "retraction", "DOI": "10.1007/s11356-023-27928-9",
             "updated": {"date-parts": [[2024, 3, 26]]}}
        ],
    }  # fmt: skip
    body = json.dumps({"status": "ok", "message-type": "work", "message": message})
    (r,) = normalise_crossref(make_raw("crossref", "works", body)).records
    (u,) = r.updates
    assert (u.target, u.notice) == (
        Identifier("doi", "10.1007/s11356-023-27928-9"),
        Identifier("doi", "10.1007/s11356-024-33074-7"),
    )
    assert (u.kind, u.date) == ("retraction", "2024-03-26")
    assert r.is_retracted is None, "a notice is not itself retracted"


def test_an_in_place_retraction_notice_marks_its_own_work_retracted():
    message = {
        "DOI": "10.1016/j.example.2020.103768",
        "title": ["RETRACTED: Some paper title"],
        "update-to": [{"DOI": "10.1016/j.example.2020.103768", "type": "retraction",
                       "label": "Retraction", "source": "publisher"}],
    }  # fmt: skip
    body = json.dumps({"status": "ok", "message-type": "work", "message": message})
    (r,) = normalise_crossref(make_raw("crossref", "works", body)).records
    assert r.is_retracted is True
    assert r.updates[0].target == r.updates[0].notice


def test_preprint_relations_become_versions_and_other_relations_do_not():
    result = normalise_crossref(raw_fixture("crossref", "works", "list_preprint_relations.json"))
    published, preprint = result.records
    assert published.versions == (
        VersionRecord(
            "has-preprint", Identifier("doi", "10.1158/1078-0432.c.6526710.v1"), None, "object"
        ),
    )
    assert preprint.versions == (
        VersionRecord("is-preprint-of", Identifier("doi", "10.1364/oe.572415"), None, "subject"),
    )


def test_a_record_without_updates_or_relations_has_none():
    r = record("work_full.json", Identifier("doi", "10.1111/ejh.70051"))
    assert (r.updates, r.versions) == ((), ())


def test_the_change_key_of_a_record_equals_that_of_a_counts_item_selecting_the_same_fields():
    message = json.loads(fixture_text("crossref", "work_retracted_retraction_watch.json"))[
        "message"
    ]
    selected = {k: v for k, v in message.items() if k in CROSSREF_CHANGE_FIELDS}
    selected["is-referenced-by-count"] = message["is-referenced-by-count"] + 5
    body = json.dumps(
        {"status": "ok", "message-type": "work-list", "message": {"items": [selected]}}
    )
    (count,) = normalise_crossref(make_raw("crossref", "counts", body, WAKEFIELD)).counts
    r = record("work_retracted_retraction_watch.json", WAKEFIELD)
    assert count.change_key == r.change_key == change_key(message, CROSSREF_CHANGE_FIELDS)
    selected["updated-by"] = selected["updated-by"][:1]  # the retraction withdrawn from the record
    body = json.dumps(
        {"status": "ok", "message-type": "work-list", "message": {"items": [selected]}}
    )
    (changed,) = normalise_crossref(make_raw("crossref", "counts", body, WAKEFIELD)).counts
    assert changed.change_key != r.change_key
