"""The tables and views that keep the warehouse current and connected exist with the columns
docs/contract.md promises (schema v7). Users' SQL and the report read them."""

from __future__ import annotations

import pytest

from warehouse.db import connect

TABLES = {
    "work_changes": "work_id source field old_value new_value old_fetched_at changed_at "
    "old_raw_id new_raw_id run_id",
    "work_updates": "work_id source update_key kind target_scheme target_value target_work_id "
    "notice_scheme notice_value notice_work_id update_date label asserted_by record_id note "
    "first_seen_at",
    "work_versions": "work_id source relation other_scheme other_value other_work_id version "
    "asserted_by first_seen_at",
    "work_citations": "cited_work_id citing_work_id source citing_scheme citing_value "
    "first_seen_at last_seen_at run_id",
    "citing_scans": "work_id source cited_by_count citing_found complete scanned_at",
    "works": "origin",
    "retracted_works": "work_id doi pmid title retracted_on notice_dois notice_pmids "
    "notice_work_ids sources asserted_by retraction_watch_ids",
    "version_families": "work_id family_id family_size",
    "family_citations": "work_id family_id family_size cited_by_count family_cited_by_sum "
    "citing_works family_citing_works",
    "cited_by": "cited_work_id citing_work_id sources first_seen_at",
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = connect(tmp_path_factory.mktemp("contract") / "w.duckdb")
    yield c
    c.close()


@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_or_view_has_its_columns(con, name):
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = ?", [name]
    ).fetchall()
    missing = set(TABLES[name].split()) - {r[0] for r in rows}
    assert not missing, f"{name} lacks {sorted(missing)}"


def test_the_contract_names_every_one_of_them():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in text for name in TABLES if name != "works")
