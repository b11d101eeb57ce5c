"""`enrich demo` through the real command line: the bundled fake API, the real `enrich run` in a
child process, then the status and a sample query; offline, into its own warehouse."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.demo import READING_LIST, reading_list
from tests.reliability import helpers_process as hp

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


def test_reading_list_cites_each_work_once_by_doi_or_pmid(tmp_path):
    from demo.fakeapi import generate_catalog
    from pipeline.extract import extract_paths

    works = generate_catalog(40, seed=3).works
    path = tmp_path / READING_LIST
    cited = reading_list(works, path)
    doc = next(iter(extract_paths([str(path)])))
    groups = {m.group for m in doc.mentions}
    assert len(groups) == cited == sum(1 for w in works if w.doi or w.pmid)


def test_enrich_demo_enriches_the_seeds_and_generated_works_offline(prefect_harness, tmp_path):
    from prefect.settings import PREFECT_API_URL

    home = tmp_path / "home"
    shutil.copytree(ROOT / "seeds", home / "seeds")
    env = hp.cli_env({}, str(PREFECT_API_URL.value()), ENRICH_HOME=str(home))
    for name in ("ENRICH_OPENALEX_RPS", "ENRICH_CROSSREF_RPS", "ENRICH_CROSSREF_LIST_RPS"):
        env.pop(name)  # the demo runs at the real APIs' pace, against their real limits
    env.pop("ENRICH_NCBI_RPS")
    proc = subprocess.run(
        [sys.executable, "-m", "flows", "demo", "--works", "60"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    db = home / "demo-warehouse" / "demo.duckdb"
    assert db.exists()
    con = duckdb.connect(str(db), read_only=True)
    try:
        docs = con.execute("select count(*) from seed_documents").fetchone()[0]
        statuses = dict(
            con.execute("select status, count(*) from fetch_ledger group by 1").fetchall()
        )
        found, resolved = con.execute(
            "select sum(found), sum(resolved) from seed_coverage"
        ).fetchone()
        top = con.execute("select count(*) from most_cited").fetchone()[0]
    finally:
        con.close()
    assert docs == len(list((ROOT / "seeds").iterdir())) + 1  # the seeds and the reading list
    assert set(statuses) <= {"ok", "not_found"} and statuses.get("ok")
    assert found == resolved > 60
    # what it shows: the status report and the sample query's rows
    assert re.search(r"warehouse schema v\d+: \d+ works", proc.stdout)
    assert f"({min(8, top)} rows)" in proc.stdout
    assert "try it yourself" in proc.stderr
