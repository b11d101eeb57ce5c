"""Every table and view of the public contract (docs/contract.md) exists with at least
its columns. Users' SQL relies on these names: a rename must fail here first."""

from __future__ import annotations

import pytest

from warehouse.db import connect

CONTRACT_TABLES = {
    "seed_documents": "document_id path sha256 bytes loaded_at",
    "mentions": "document_id scheme value start end line section group_key role work_id provenance match_score",
    "works": "work_id doi pmid pmcid openalex_id title publication_year publication_date venue type abstract updated_at",
    "work_ids": "work_id scheme value",
    "source_records": "work_id source title publication_year venue author_count cited_by_count reference_count fetched_at raw_id",
    "authors": "author_id display_name family given orcid openalex_id",
    "authorships": "work_id source position author_id raw_name affiliations",
    "work_references": "citing_work_id cited_scheme cited_value cited_work_id source provenance",
    "reference_entries": "document_id start end line label section text text_hash ids",
    "reference_matches": "text_hash text status doi pmid score matched_by reason candidates attempts decided_at",
    "match_overrides": "text_hash doi pmid note created_at",
    "citation_counts": "work_id source cited_by_count observed_at run_id",
    "fetch_ledger": "source scheme value status http_status attempts last_error last_attempt_at",
    "raw_responses": "raw_id source request_url fetched_at http_status content_type body",
    "runs": "run_id flow started_at finished_at status summary",
}
CONTRACT_VIEWS = (
    "citation_latest", "citation_history", "seed_coverage", "source_disagreements",
    "reference_coverage",
)  # fmt: skip


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = connect(tmp_path_factory.mktemp("contract") / "w.duckdb")
    yield c
    c.close()


def _columns(con, name: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = ?", [name]
    ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("table", sorted(CONTRACT_TABLES))
def test_contract_table_has_its_columns(con, table):
    missing = set(CONTRACT_TABLES[table].split()) - _columns(con, table)
    assert not missing, f"{table} lacks {sorted(missing)}"


@pytest.mark.parametrize("view", CONTRACT_VIEWS)
def test_contract_view_exists_and_answers(con, view):
    kinds = con.execute(
        "select table_type from information_schema.tables where table_name = ?", [view]
    ).fetchall()
    assert kinds == [("VIEW",)]
    con.execute(f"select * from {view} limit 1").fetchall()  # noqa: S608 - names are ours


def test_fetch_ledger_refuses_an_unknown_status(con):
    import duckdb

    with pytest.raises(duckdb.ConstraintException, match="CHECK"):
        con.execute(
            "insert into fetch_ledger (source, scheme, value, status, attempts, last_attempt_at, "
            "first_seen_at) values ('crossref', 'doi', '10.1/x', 'gone', 0, now(), now())"
        )
