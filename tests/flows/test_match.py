"""`enrich match` and matching inside `enrich run`, end to end over the loopback fake API.

The catalog holds the seed documents' works plus real bibliographic records (works cited in PLOS
articles; tests/fixtures/README "matching"); the reference strings are those articles' own.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from demo.fakeapi import Catalog, seed_catalog
from demo.fakeapi.refcatalog import works_from_records
from flows import cli
from pipeline import http
from tests.pipeline.plos_cited import RECORDS

# Entry 5 prints its own DOI, another work's than the page's: an entry printing the page's own
# id is furniture (a download link), never that entry's id (tests/pipeline/test_documents.py).
PAPER = """# Cellular therapy notes

## Cite this article

doi:10.1111/bjh.17673

## References

1. Woodson SA. Metal ions and RNA folding: a highly charged topic with a dynamic future. Curr Opin
   Chem Biol. 2005;9: 104–109.
2. von Herrath MG, Oldstone MB (1996) Virus-induced autoimmune disease. Curr Opin Immunol 8:
   878-885.
3. Darwin C. On the Origin of Species by Means of Natural Selection. London: John Murray; 1859.
4. Ibid.
5. Draper DE. Ions and RNA folding. Annu Rev Biophys Biomol Struct. 2005.
   doi:10.1146/annurev.biophys.34.040204.144511
"""


@pytest.fixture(scope="module")
def catalog():
    return Catalog([*seed_catalog().works, *works_from_records(RECORDS)])


@pytest.fixture
def online(monkeypatch, api):
    api.clear_faults()
    api.reset_stats()
    http.reset_host_state()
    for name, value in api.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENRICH_MAILTO", "e2e@example.org")
    monkeypatch.setenv("ENRICH_MAX_ATTEMPTS", "2")  # pacing stays real: the fake has real limits
    return api


@pytest.fixture
def paper(tmp_path) -> Path:
    path = tmp_path / "paper.md"
    path.write_text(PAPER, encoding="utf-8")
    return path


def match(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = cli.main(["match", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("[") else out), err


def test_match_prints_one_object_per_entry_without_identifiers(online, paper, tmp_path, capsys):
    code, rows, err = match(capsys, str(paper), "--db", str(tmp_path / "w.duckdb"))
    assert code == 0, (rows, err)
    assert [r["line"] for r in rows] == [9, 11, 13, 14]  # entry 5 prints its DOI: not matched
    woodson, herrath, darwin, ibid = rows
    assert set(woodson) >= {"document", "line", "text", "doi", "pmid", "status", "score",
                            "candidates"}  # fmt: skip
    assert woodson["document"] == str(paper) and woodson["status"] == "matched"
    assert woodson["doi"] == "10.1016/j.cbpa.2005.02.004" and 0.9 <= woodson["score"] <= 1
    assert set(woodson["candidates"][0]) >= {"doi", "score", "title", "year"}
    assert herrath["doi"] == "10.1016/s0952-7915(96)80019-7"
    assert darwin["status"] == "unmatched" and darwin["doi"] is None
    assert ibid["status"] == "unmatched" and "Ibid" in ibid["reason"]
    assert "4 new strings decided: 2 matched, 2 unmatched; 3 requests" in err


def test_a_second_match_asks_nothing_and_refresh_asks_again(online, paper, tmp_path, capsys):
    db = str(tmp_path / "w.duckdb")
    match(capsys, str(paper), "--db", db)
    before = online.stats["crossref"]["requests"]
    code, rows, _ = match(capsys, str(paper), "--db", db)
    assert code == 0 and online.stats["crossref"]["requests"] == before
    assert rows[0]["status"] == "matched" and rows[0]["candidates"]
    match(capsys, str(paper), "--db", db, "--refresh")
    assert online.stats["crossref"]["requests"] == before + 3


def test_accept_records_a_correction_that_wins(online, paper, tmp_path, capsys):
    db = str(tmp_path / "w.duckdb")
    code, rows, _ = match(capsys, str(paper), "--db", db, "--accept", "13=10.1093/darwin/1859",
                          "--accept", f"{paper}:9=none")  # fmt: skip
    assert code == 0
    by_line = {r["line"]: r for r in rows}
    assert by_line[13]["doi"] == "10.1093/darwin/1859" and by_line[13]["matched_by"] == "override"
    assert by_line[9]["status"] == "unmatched" and by_line[9]["matched_by"] == "override"
    con = duckdb.connect(db, read_only=True)
    assert con.execute("select count(*) from match_overrides").fetchone()[0] == 2
    con.close()


@pytest.mark.parametrize(
    ("accept", "says"),
    [
        ("13=not-a-doi", "is not a DOI"),
        ("99=10.1000/x", "no reference entry"),
        ("x=10.1000/x", "LINE=DOI"),
    ],
)
def test_a_bad_accept_exits_2_with_one_line(online, paper, tmp_path, capsys, accept, says):
    code, out, err = match(
        capsys, str(paper), "--db", str(tmp_path / "w.duckdb"), "--accept", accept
    )
    assert code == 2 and says in err and err.count("\n") == 1 and not out


def test_a_missing_path_exits_2_naming_it(online, tmp_path, capsys):
    code, _, err = match(capsys, str(tmp_path / "nope.txt"), "--db", str(tmp_path / "w.duckdb"))
    assert code == 2 and "nope.txt: no such file or directory" in err


def test_an_outage_exits_1_and_leaves_the_strings_failed_for_next_time(
    online, paper, tmp_path, capsys
):
    db = str(tmp_path / "w.duckdb")
    online.inject("crossref", "503", times=None)
    online.inject("eutils", "503", times=None)
    code, rows, _ = match(capsys, str(paper), "--db", db)
    assert code == 1
    assert {r["status"] for r in rows if "Ibid" not in r["text"]} == {"failed"}
    online.clear_faults()
    code, rows, _ = match(capsys, str(paper), "--db", db)
    assert code == 0 and rows[0]["status"] == "matched"


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_run_turns_matched_references_into_enriched_works_with_edges(
    prefect_harness, online, paper, tmp_path, capsys
):
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(paper), "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert "matching 4 reference strings: 2 matched, 2 unmatched" in err
    con = duckdb.connect(str(db), read_only=True)
    try:
        works = con.execute(
            "select w.doi, w.title, list_sort(w.sources), m.role, m.provenance, m.match_score "
            "from mentions m join works w using (work_id) where m.provenance = 'matched' "
            "order by w.doi").fetchall()  # fmt: skip
        edges = con.execute(
            "select s.doi, r.cited_value, r.cited_work_id is not null from work_references r "
            "join works s on s.work_id = r.citing_work_id where r.provenance = 'matched' "
            "order by 2").fetchall()  # fmt: skip
    finally:
        con.close()
    assert [w[0] for w in works] == ["10.1016/j.cbpa.2005.02.004", "10.1016/s0952-7915(96)80019-7"]
    assert all(w[1] and w[2] == ["crossref", "openalex", "pubmed"] for w in works)  # enriched
    assert all(w[3] == "reference" and w[4] == "matched" and w[5] > 0.9 for w in works)
    assert edges == [("10.1111/bjh.17673", "10.1016/j.cbpa.2005.02.004", True),
                     ("10.1111/bjh.17673", "10.1016/s0952-7915(96)80019-7", True)]  # fmt: skip
    assert cli.main(["status", "--db", str(db)]) == 0
    status = capsys.readouterr().out
    assert f"{paper}: 5: 1 / 2 / 0 / 2 / 0 / 0 / 0" in status


def test_a_matching_bug_is_reported_and_the_run_goes_on(monkeypatch, tmp_path):
    from flows import matching, steps
    from warehouse.load import start_run

    class Broken:
        def match(self, texts, stop=None):
            raise RuntimeError("boom")

    monkeypatch.setattr(matching, "make_matcher", lambda settings, sources: Broken())
    monkeypatch.setattr("warehouse.matches.unsettled", lambda con, refresh=False: [("h", "text")])
    writer = steps.Writer(tmp_path / "w.duckdb")
    try:
        run_id = writer(start_run, "test", {})
        summary = matching.match_and_load(
            writer, None, run_id=run_id, refresh=False, sources=["crossref"]
        )
    finally:
        writer.close()
    assert summary["settled"] is False and "boom" in summary["errors"][0]
