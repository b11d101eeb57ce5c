"""warehouse.export and warehouse.scope: tables AND views to Parquet/CSV, subsets of works, and
the bibliographic records (authors from the preferred source)."""

from __future__ import annotations

import csv

import duckdb
import pytest

from pipeline.records import AuthorRecord
from warehouse.db import view_files
from warehouse.export import bibliographic_works, export_relations
from warehouse.load import load_batch, load_documents, start_run
from warehouse.scope import ScopeError, scope_all, scope_query, scope_seed

from .factories import batch, document, record


@pytest.fixture
def loaded(con):
    run = start_run(con, "enrich", {})
    docs = [document("seeds/a.txt", [("subject", ["doi:10.1/a"]), ("reference", ["doi:10.1/b"])]),
            document("seeds/b.txt", [("subject", ["doi:10.1/c"])])]  # fmt: skip
    load_documents(con, docs, run_id=run)
    oa = record("openalex", "doi:10.1/a", title="A", authors=(
        AuthorRecord(position=1, raw_name="Søren Møller"),))  # fmt: skip
    cr = record("crossref", "doi:10.1/a", title="A title", type="journal-article", venue="J",
                authors=(AuthorRecord(position=1, raw_name="Møller, S.", family="Møller",
                                      given="Søren"),
                         AuthorRecord(position=2, raw_name="Ng, A", family="Ng", given="A")))  # fmt: skip
    for source, rec in (("openalex", oa), ("crossref", cr)):
        fb, norm = batch(source, [rec], outcomes=[("doi:10.1/a", "ok")])
        load_batch(con, fb, norm, run_id=run)
    fb, norm = batch("openalex", [record("openalex", "doi:10.1/c", title="C")],
                     outcomes=[("doi:10.1/c", "ok")])  # fmt: skip
    load_batch(con, fb, norm, run_id=run)
    return con


def names(directory, ext):
    return {p.name.removesuffix("." + ext) for p in directory.glob(f"*.{ext}")}


def test_every_table_and_view_is_exported_as_parquet(loaded, tmp_path):
    done = export_relations(loaded, tmp_path, "parquet")
    views = {p.stem for p in view_files()} - {"raw_responses"}
    assert views <= names(tmp_path, "parquet")
    assert {"works", "mentions", "fetch_ledger"} <= names(tmp_path, "parquet")
    assert "report_scope" not in names(tmp_path, "parquet") and not done.left_out
    n = duckdb.execute(f"select count(*) from '{tmp_path / 'works.parquet'}'").fetchone()[0]
    assert n == loaded.execute("select count(*) from works").fetchone()[0]


def test_csv_has_a_header_and_one_row_per_row(loaded, tmp_path):
    export_relations(loaded, tmp_path, "csv")
    with (tmp_path / "seed_coverage.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == ["seeds/a.txt", "seeds/b.txt"]


def test_the_raw_responses_view_is_left_to_its_two_tables(loaded, tmp_path):
    export_relations(loaded, tmp_path, "csv")
    got = names(tmp_path, "csv")
    assert "raw_responses" not in got and {"raw_response_meta", "raw_response_parts"} <= got


def test_a_subset_keeps_its_works_rows_and_leaves_out_relations_without_work_ids(loaded, tmp_path):
    path, n = scope_seed(loaded, "b.txt")
    assert (path, n) == ("seeds/b.txt", 1)
    done = export_relations(loaded, tmp_path, "csv", subset=True)
    assert "runs" in done.left_out and "fetch_ledger" in done.left_out
    with (tmp_path / "works.csv").open(encoding="utf-8") as f:
        assert [r["title"] for r in csv.DictReader(f)] == ["C"]


def test_seed_documents_are_found_by_id_path_or_path_end(loaded):
    doc_id = loaded.execute("select document_id from seed_documents where path = 'seeds/a.txt'")
    assert scope_seed(loaded, doc_id.fetchone()[0])[1] == 2
    assert scope_seed(loaded, "seeds/a.txt")[1] == 2
    with pytest.raises(ScopeError, match="no seed document.*seeds/a.txt, seeds/b.txt"):
        scope_seed(loaded, "c.txt")
    other = document("other/a.txt", [("mention", ["doi:10.1/z"])])
    load_documents(loaded, [other], run_id=start_run(loaded, "enrich", {}))
    with pytest.raises(ScopeError, match="2 documents answer"):
        scope_seed(loaded, "a.txt")


def test_a_query_scope_takes_its_work_id_column_and_ignores_unknown_ids(loaded):
    n = scope_query(loaded, "select work_id, title from works where title = 'C' "
                            "union all select 'w_nope', 'x'")  # fmt: skip
    assert n == 1
    assert scope_query(loaded, "select work_id from works") == 3
    with pytest.raises(ScopeError, match="not a work_id column"):
        scope_query(loaded, "select 1 as a, 2 as b")
    with pytest.raises(ScopeError, match="DELETE is not a plain read"):
        scope_query(loaded, "delete from works")
    with pytest.raises(ScopeError, match="--sql:"):
        scope_query(loaded, "select work_id from nowhere")


def test_bibliographic_works_take_authors_from_the_preferred_source(loaded):
    scope_all(loaded)
    works = {w.title: w for w in bibliographic_works(loaded)}
    a = works["A title"]  # crossref wins the bibliographic precedence over openalex
    assert [(x.family, x.given) for x in a.authors] == [("Møller", "Søren"), ("Ng", "A")]
    assert works["C"].authors == ()
    assert a.doi == "10.1/a" and a.type == "journal-article" and a.container == "J"


def test_bibliographic_works_stream_in_chunks(loaded, monkeypatch):
    import warehouse.export as export

    monkeypatch.setattr(export, "CHUNK", 1)
    scope_all(loaded)
    assert len(list(bibliographic_works(loaded))) == 3


# -- issue 20's who-cites data in exports ------------------------------------------------------


def _cited_by_three(con) -> None:
    """Three works known only as citing works (OpenAlex cites:) of the work of doi:10.1/c."""
    from pipeline.records import CitationLink, Normalised

    from .factories import ident

    run = start_run(con, "refresh", {})
    links = tuple(
        CitationLink("openalex", ident("doi:10.1/c"), (ident(f"openalex:W90{n}"),), n)
        for n in range(3)
    )
    fb, _ = batch("openalex", outcomes=[("doi:10.1/c", "ok")])
    load_batch(con, fb, [Normalised(citations=links)], run_id=run, citing_cap=200)


def test_a_subset_keeps_who_cites_its_works(loaded, tmp_path):
    _cited_by_three(loaded)
    scope_seed(loaded, "b.txt")
    export_relations(loaded, tmp_path, "csv", subset=True)
    for name in ("work_citations", "cited_by"):
        with (tmp_path / f"{name}.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 3 and {r["citing_work_id"] for r in rows} != {""}, name


def test_a_bibliography_of_every_work_leaves_out_the_works_known_only_as_citing(loaded, tmp_path):
    from flows.exports import export_with

    _cited_by_three(loaded)
    assert scope_all(loaded) == 6
    done = export_with(loaded, tmp_path, "ris")
    assert done.works == 3
    assert done.scope == "all 3 works; 3 works known only as citing works left out"
    query = "select work_id from works where origin = 'citing'"
    assert export_with(loaded, tmp_path, "ris", query=query).works == 3
    assert export_with(loaded, tmp_path, "parquet").scope == "all 6 works"
