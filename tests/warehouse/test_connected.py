"""Updates, versions and metadata history in the warehouse (load.py, rows.py, connected.py):
what a source states about retractions and other versions, and what changed in a record."""

from __future__ import annotations

from pipeline.records import UpdateRecord, VersionRecord
from warehouse.load import finish_run, load_batch, load_documents, rebuild, start_run
from warehouse.query import check_quality

from .factories import batch, document, ident, later, record

WORK = "doi:10.1/a"
RETRACTION = UpdateRecord(
    "retraction", ident(WORK), ident("doi:10.1/notice"), "2010-02-06", "Retraction",
    "retraction-watch", "4036",
)  # fmt: skip


def rows(con, query: str, *params):
    return con.execute(query, params).fetchall()


def work_of(con, text: str) -> str | None:
    found = rows(con, "select work_id from work_ids where scheme = ? and value = ?", *ident(text))
    return found[0][0] if found else None


def seeded(con, run_id, *ids: str) -> None:
    load_documents(con, [document("a.txt", [("reference", [i]) for i in ids])], run_id=run_id)


def test_an_update_is_stored_with_its_target_and_notice_and_points_at_known_works(con, run_id):
    seeded(con, run_id, WORK, "doi:10.1/notice")
    fb, norm = batch("crossref", [record("crossref", WORK, updates=(RETRACTION,))])
    load_batch(con, fb, norm, run_id=run_id)
    ((kind, target, notice, date, by, rid),) = rows(
        con, "select kind, target_work_id, notice_work_id, update_date, asserted_by, record_id "
        "from work_updates",
    )  # fmt: skip
    assert (kind, date, by, rid) == ("retraction", "2010-02-06", "retraction-watch", "4036")
    assert (target, notice) == (work_of(con, WORK), work_of(con, "doi:10.1/notice"))


def test_a_link_to_a_work_that_arrives_later_is_settled_when_the_run_finishes(con, run_id):
    seeded(con, run_id, WORK)
    version = VersionRecord("has-preprint", ident("doi:10.1101/p"), asserted_by="object")
    fb, norm = batch("crossref", [record("crossref", WORK, versions=(version,))])
    load_batch(con, fb, norm, run_id=run_id)
    assert rows(con, "select other_work_id from work_versions") == [(None,)]
    seeded(con, run_id, "doi:10.1101/p")  # the preprint arrives in the same run
    finish_run(con, run_id, "completed", {})
    assert rows(con, "select other_work_id from work_versions") == [
        (work_of(con, "doi:10.1101/p"),)
    ]


def test_a_new_answer_replaces_updates_but_keeps_when_one_was_first_seen(con, run_id):
    seeded(con, run_id, WORK)
    fb, norm = batch("crossref", [record("crossref", WORK, updates=(RETRACTION,))], at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    concern = UpdateRecord("expression_of_concern", ident(WORK), ident("doi:10.1/eoc"))
    again = record("crossref", WORK, title="x", updates=(RETRACTION, concern))
    fb, norm = batch("crossref", [again], at=later(5))
    load_batch(con, fb, norm, run_id=run_id)
    seen = dict(rows(con, "select kind, first_seen_at from work_updates"))
    assert seen["retraction"] == later(1) and seen["expression_of_concern"] == later(5)
    fb, norm = batch("crossref", [record("crossref", WORK, title="y")], at=later(9))
    load_batch(con, fb, norm, run_id=run_id)
    assert rows(con, "select count(*) from work_updates") == [(0,)], "withdrawn from the record"


def test_a_changed_field_is_recorded_with_both_values_and_both_answers(con, run_id):
    seeded(con, run_id, WORK)
    fb, norm = batch("crossref", [record("crossref", WORK, title="Old title", volume="1")])
    load_batch(con, fb, norm, run_id=run_id)
    old_raw = fb.raws[0].raw_id
    fb, norm = batch(
        "crossref", [record("crossref", WORK, title="New title", volume="1", is_retracted=True)],
        at=later(24),
    )  # fmt: skip
    load_batch(con, fb, norm, run_id=run_id)
    changes = rows(
        con, "select field, old_value, new_value, changed_at, old_raw_id, new_raw_id "
        "from work_changes order by field",
    )  # fmt: skip
    assert changes == [
        ("is_retracted", None, "true", later(24), old_raw, fb.raws[0].raw_id),
        ("title", "Old title", "New title", later(24), old_raw, fb.raws[0].raw_id),
    ]


def test_reloading_the_same_or_an_older_answer_records_no_change(con, run_id):
    seeded(con, run_id, WORK)
    new = batch("crossref", [record("crossref", WORK, title="New")], at=later(10))
    old = batch("crossref", [record("crossref", WORK, title="Old")], at=later(1))
    for fb, norm in (new, new, old):
        load_batch(con, fb, norm, run_id=run_id)
    assert rows(con, "select count(*) from work_changes") == [(0,)]


def test_rebuild_rederives_updates_versions_and_changes_from_the_stored_answers(con, run_id):
    seeded(con, run_id, WORK)
    version = VersionRecord("has-preprint", ident("doi:10.1101/p"))
    answers = {}
    for hours, rec in (
        (1, record("crossref", WORK, title="Old")),
        (2, record("crossref", WORK, title="New", updates=(RETRACTION,), versions=(version,))),
    ):
        fb, norm = batch("crossref", [rec], at=later(hours))
        load_batch(con, fb, norm, run_id=run_id)
        answers[fb.raws[0].raw_id] = norm[0]
    tables = ("work_changes", "work_updates", "work_versions")
    before = {t: rows(con, f"select * exclude (run_id) from {t} order by all") for t in tables}
    assert all(before.values())
    for table in tables:  # a warehouse whose runs predate them
        con.execute(f"delete from {table}")
    rebuild(con, lambda raw: answers[raw.raw_id], run_id=start_run(con, "rebuild", {}))
    after = {t: rows(con, f"select * exclude (run_id) from {t} order by all") for t in tables}
    assert after == before


def test_merging_works_moves_their_updates_versions_and_changes(con, run_id):
    seeded(con, run_id, WORK)
    seeded(con, run_id, "pmid:7")
    fb, norm = batch("pubmed", [record("pubmed", "pmid:7", updates=(
        UpdateRecord("retraction", ident("pmid:7"), ident("pmid:8")),))])  # fmt: skip
    load_batch(con, fb, norm, run_id=run_id)
    merged = record("pubmed", "pmid:7", WORK, updates=(
        UpdateRecord("retraction", ident("pmid:7"), ident("pmid:8")),), title="T")  # fmt: skip
    fb, norm = batch("pubmed", [merged], at=later(3))
    load_batch(con, fb, norm, run_id=run_id)
    survivor = work_of(con, WORK)
    assert work_of(con, "pmid:7") == survivor
    assert rows(con, "select distinct work_id, target_work_id from work_updates") == [
        (survivor, survivor)
    ]
    assert not [name for name, n in check_quality(con) if n]


def test_the_id_of_a_notice_never_joins_the_work_it_retracts(con, run_id):
    seeded(con, run_id, WORK)
    fb, norm = batch("crossref", [record("crossref", WORK, updates=(RETRACTION,))])
    load_batch(con, fb, norm, run_id=run_id)
    assert work_of(con, "doi:10.1/notice") is None


def test_a_new_retraction_or_preprint_is_a_change_of_the_record(con, run_id):
    seeded(con, run_id, WORK)
    fb, norm = batch("crossref", [record("crossref", WORK, title="T")], at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    version = VersionRecord("has-preprint", ident("doi:10.1101/p"))
    new = record("crossref", WORK, title="T", updates=(RETRACTION,), versions=(version,))
    fb, norm = batch("crossref", [new], at=later(2))
    load_batch(con, fb, norm, run_id=run_id)
    changes = dict(rows(con, "select field, new_value from work_changes where old_value is null"))
    assert changes == {
        "updates": "retraction|doi:10.1/a|doi:10.1/notice",
        "versions": "has-preprint|doi:10.1101/p",
    }
