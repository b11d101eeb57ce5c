"""End to end through the CLI on the seeds' warehouse: `enrich run --report` writes the report
and publishes it as Prefect artifacts; `enrich report` (whole and --seed) and `enrich export` in
every format work on the warehouse the run built. Expectations come from the seeds' oracle
(tests/fixtures/seeds_expected.json) and the fake API's catalog."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import bibtexparser
import duckdb
import pytest
import rispy

from flows import cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
ORACLE = json.loads((ROOT / "tests/fixtures/seeds_expected.json").read_text())
SEED_002 = "002_3ea597cfb241f368.txt"


def oracle_dois(document: str | None = None) -> set[str]:
    """DOIs the seed documents print (the fake assigns the one seed 002's subject lacks)."""
    return {
        w["doi"]
        for doc, entry in ORACLE["documents"].items()
        if document in (None, doc)
        for w in entry["works"]
        if "doi" in w
    }


def catalog_dois(catalog) -> set[str]:
    """Every work's DOI as the fake API serves it: what the warehouse holds after the run."""
    return {w.doi.lower() for w in catalog.works if w.doi}


def warehouse_dois(db: Path, document: str) -> set[str]:
    """The DOIs of the works one document mentions, read from the warehouse itself."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select distinct w.doi from mentions m join works w using (work_id) "
            "join seed_documents d using (document_id) where ends_with(d.path, ?) "
            "and w.doi is not null",
            [document],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


@pytest.fixture(scope="module")
def built(tmp_path_factory, api):
    """The seeds run once into a warehouse, with --report (module-scoped: ~20 s)."""
    from _pytest.monkeypatch import MonkeyPatch

    tmp = tmp_path_factory.mktemp("report-e2e")
    shutil.copytree(ROOT / "seeds", tmp / "seeds")
    patch = MonkeyPatch()
    for name, value in api.env().items():
        patch.setenv(name, value)
    yield tmp, patch
    patch.undo()


def test_run_with_report_writes_it_and_publishes_prefect_artifacts(prefect_harness, built):
    tmp, _ = built
    db, out = tmp / "w.duckdb", tmp / "run-report.html"
    assert cli.main(["run", str(tmp / "seeds"), "--db", str(db), "--report", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert f"All {ORACLE['totals']['works']} works" in html
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        keys = {a.key: a for a in client.read_artifacts()}
    assert out.resolve().as_uri() in keys["enrich-report"].data  # a link: [name](file://...)
    n_works, n_docs = ORACLE["totals"]["works"], len(ORACLE["documents"])
    assert f"| {n_works} | {n_docs} | 0 | 0 |" in keys["enrich-report-summary"].data


def test_report_and_seed_report_name_every_work_of_their_scope(prefect_harness, built):
    tmp, _ = built
    db = tmp / "w.duckdb"
    assert cli.main(["report", "--db", str(db), "--out", str(tmp / "all.html")]) == 0
    assert (
        cli.main(["report", "--db", str(db), "--out", str(tmp / "s.html"), "--seed", SEED_002]) == 0
    )
    whole, seed = (tmp / "all.html").read_text(), (tmp / "s.html").read_text()
    assert all(doi in whole for doi in oracle_dois())
    assert all(doi in seed for doi in oracle_dois(SEED_002))
    assert f"works of seeds/{SEED_002}" in seed or SEED_002 in seed
    assert cli.main(["report", "--db", str(db), "--seed", "no-such.txt"]) == 2


def test_exports_in_every_format_read_back(prefect_harness, built, catalog):
    tmp, _ = built
    db = tmp / "w.duckdb"
    for fmt in ("parquet", "csv", "bibtex", "csljson", "ris"):
        assert cli.main(["export", str(tmp / fmt), "--format", fmt, "--db", str(db)]) == 0
    bib = bibtexparser.parse_string((tmp / "bibtex" / "works.bib").read_text(encoding="utf-8"))
    expected = catalog_dois(catalog)
    assert oracle_dois() <= expected
    assert not bib.failed_blocks and {e["doi"] for e in bib.entries} == expected
    items = json.loads((tmp / "csljson" / "works.json").read_text(encoding="utf-8"))
    assert {i["DOI"] for i in items} == expected and all(i.get("author") for i in items)
    records = rispy.loads((tmp / "ris" / "works.ris").read_text(encoding="utf-8"))
    assert {r["doi"] for r in records} == expected
    with (tmp / "csv" / "seed_coverage.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == len(ORACLE["documents"])
    assert (tmp / "parquet" / "most_cited.parquet").exists()


def test_a_seed_or_sql_subset_exports_only_those_works(prefect_harness, built):
    tmp, _ = built
    db = tmp / "w.duckdb"
    out = tmp / "subset"
    assert (
        cli.main(["export", str(out), "--format", "ris", "--db", str(db), "--seed", SEED_002]) == 0
    )
    expected = warehouse_dois(db, SEED_002)
    assert oracle_dois(SEED_002) <= expected
    assert {r["doi"] for r in rispy.loads((out / "works.ris").read_text())} == expected
    query = "select work_id from works where doi = '10.1111/bjh.17673'"
    assert (
        cli.main(["export", str(out), "--format", "csljson", "--db", str(db), "--sql", query]) == 0
    )
    assert [i["DOI"] for i in json.loads((out / "works.json").read_text())] == ["10.1111/bjh.17673"]
