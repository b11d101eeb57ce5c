"""A damaged warehouse (issue 21 item 7): noticed at start, before any fetching, with one
message and one exit code (3) wherever the damage is met; and a way back: ``enrich rebuild
--from-raw OLD --db NEW`` rebuilds a new file from the raw answers still readable in OLD.

Before, a file cut short was noticed only after fetching everything ("unexpected error:
IOException", exit 1), and the same corruption was "unexpected error" exit 1 at open but a
bad-SQL exit 2 in the middle of a query.

The damage is real: files cut short, and blocks overwritten where ``pragma storage_info`` says
a table's data lives (so the test damages exactly the table it means to, whatever the layout).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.steps import Writer, fetch_and_load
from pipeline.records import Identifier
from tests.reliability.conftest import ROOT, fast_env, fast_settings, quality_failures

pytestmark = pytest.mark.timeout(300)
HEADER = 3 * 4096


@pytest.fixture(scope="module")
def healthy(api, catalog, tmp_path_factory) -> tuple[Path, dict]:
    """A warehouse of the seed catalog's works from all three sources, and what it holds."""
    from warehouse.load import finish_run, start_run

    api.clear_faults()
    db = tmp_path_factory.mktemp("healthy") / "w.duckdb"
    writer = Writer(db)
    run_id = writer(start_run, "enrich", {})
    settings = fast_settings(api)
    for source in ("openalex", "crossref", "pubmed"):
        ids = [Identifier("doi", w.doi) for w in catalog if w.doi]
        if source == "pubmed":
            ids = [Identifier("pmid", w.pmid) for w in catalog if w.pmid]
        fetch_and_load(source, ids, settings=settings, writer=writer, run_id=run_id)
    writer(finish_run, run_id, "completed", {})
    writer.close()
    con = duckdb.connect(str(db), read_only=True)
    facts = {
        "records": con.execute(
            "select source, source_key from source_records order by 1, 2"
        ).fetchall(),
        "raws": con.execute("select count(*) from raw_response_meta").fetchone()[0],
    }
    con.close()
    return db, facts


def copy(db: Path, to: Path) -> Path:
    shutil.copy(db, to)
    return to


def blocks_of(db: Path, table: str, column: str | None = None) -> list[int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        where = "persistent and block_id >= 0" + (
            f" and column_name = '{column}'" if column else ""
        )
        return sorted(
            b for (b,) in con.execute(
                f"select distinct block_id from pragma_storage_info('{table}') where {where}"
            ).fetchall()
        )  # fmt: skip
    finally:
        con.close()


def overwrite_blocks(db: Path, blocks: list[int], block_size: int = 262144) -> None:
    """Scribble over the payload of each block (its stored checksum no longer matches)."""
    with db.open("r+b") as f:
        for block in blocks:
            f.seek(HEADER + block * block_size + 64)
            f.write(os.urandom(4096))


def cut(db: Path, keep: float) -> None:
    with db.open("r+b") as f:
        f.truncate(int(db.stat().st_size * keep))


# The line `run` and `refresh` print first, before anything else (issue 18), is no message
# about the damage: the one message is the line after it.
FIRST_LINES = ("enrich: run on ", "enrich: refresh of ")


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("enrich: ")]
    if lines and lines[0].startswith(FIRST_LINES):
        lines = lines[1:]
    assert len(lines) == 1, err
    return lines[0]


# -- noticed at start, one message, one exit code ---------------------------------------------


def test_a_file_cut_short_is_refused_before_anything_is_fetched(
    healthy, api, capsys, monkeypatch, tmp_path
):
    from flows import cli

    db = copy(healthy[0], tmp_path / "cut.duckdb")
    cut(db, 0.97)
    for name, value in fast_env(api).items():
        monkeypatch.setenv(name, value)
    api.reset_stats()
    capsys.readouterr()
    assert cli.main(["run", str(ROOT / "seeds"), "--db", str(db)]) == 3
    line = one_line(capsys.readouterr().err)
    assert f"warehouse {db} is damaged: the file is" in line and "(cut short)" in line
    assert f"enrich rebuild --from-raw {db} --db NEW.duckdb" in line
    assert sum(s["requests"] for s in api.stats.values()) == 0, "nothing fetched"
    assert cli.main(["refresh", "--db", str(db)]) == 3


@pytest.mark.parametrize(
    "verb",
    [
        ["run", str(ROOT / "seeds")],
        ["refresh"],
        ["sql", "select 1"],
        ["status"],
        ["report", "--out", "REPORT"],
        ["export", "EXPORT"],
        ["export", "EXPORT", "--format", "bibtex"],
        ["match", str(ROOT / "seeds")],
    ],
)
def test_a_corrupt_header_block_is_the_same_message_and_exit_code_for_every_verb(
    healthy, capsys, tmp_path, verb
):
    from flows import cli

    db = copy(healthy[0], tmp_path / "header.duckdb")
    with db.open("r+b") as f:  # the first database header: its checksum fails at open
        f.seek(4096 + 16)
        f.write(os.urandom(64))
        f.seek(8192 + 16)
        f.write(os.urandom(64))
    capsys.readouterr()
    verb = [str(tmp_path / a.lower()) if a in ("REPORT", "EXPORT") else a for a in verb]
    assert cli.main([*verb, "--db", str(db)]) == 3
    line = one_line(capsys.readouterr().err)
    assert f"warehouse {db} is damaged: Corrupt database file" in line


def test_damage_met_in_the_middle_of_a_query_is_the_same_message_and_exit_code(
    healthy, capsys, tmp_path
):
    from flows import cli

    db = copy(healthy[0], tmp_path / "mid.duckdb")
    overwrite_blocks(db, blocks_of(db, "raw_response_parts", "text"))
    capsys.readouterr()
    assert cli.main(["sql", "select count(*) from works", "--db", str(db)]) == 0  # intact
    capsys.readouterr()
    assert (
        cli.main(["sql", "select sum(length(text)) from raw_response_parts", "--db", str(db)]) == 3
    )
    line = one_line(capsys.readouterr().err)
    assert f"warehouse {db} is damaged: " in line and "rebuild --from-raw" in line


# -- the way back: rebuild a new file from the readable raw answers ------------------------------


def test_rebuild_from_raw_brings_back_every_record_of_a_warehouse_whose_tables_are_damaged(
    healthy, capsys, tmp_path
):
    from flows import cli

    db, facts = healthy
    old = copy(db, tmp_path / "old.duckdb")
    overwrite_blocks(old, blocks_of(old, "source_records") + blocks_of(old, "work_ids"))
    new = tmp_path / "new.duckdb"
    capsys.readouterr()
    assert cli.main(["rebuild", "--from-raw", str(old), "--db", str(new)]) == 0
    err = capsys.readouterr().err
    assert f"{facts['raws']} raw answers read" in err and "unreadable" not in err
    con = duckdb.connect(str(new), read_only=True)
    try:
        records = con.execute("select source, source_key from source_records order by 1, 2")
        assert records.fetchall() == facts["records"]
        assert con.execute("select count(*) from fetch_ledger where status = 'ok'").fetchone()[0]
        assert quality_failures(con) == {}
    finally:
        con.close()
    assert cli.main(["rebuild", "--from-raw", str(old), "--db", str(new)]) == 2  # never over NEW


def test_rebuild_from_raw_keeps_what_it_can_read_and_says_what_it_could_not(
    healthy, capsys, tmp_path
):
    from flows import cli

    db, facts = healthy
    old = copy(db, tmp_path / "old.duckdb")
    text_blocks = blocks_of(old, "raw_response_parts", "text")
    overwrite_blocks(old, text_blocks[:1])
    new = tmp_path / "new.duckdb"
    capsys.readouterr()
    assert cli.main(["rebuild", "--from-raw", str(old), "--db", str(new)]) == 1
    err = capsys.readouterr().err
    assert "unreadable" in err
    con = duckdb.connect(str(new), read_only=True)
    try:
        kept = con.execute("select count(*) from raw_response_meta").fetchone()[0]
        assert 0 < kept < facts["raws"] or len(text_blocks) == 1
        assert quality_failures(con) == {}
    finally:
        con.close()


@pytest.mark.e2e
def test_a_rebuilt_warehouse_takes_the_seeds_back_without_refetching_what_it_settled(
    prefect_harness, api, capsys, monkeypatch, tmp_path
):
    from flows import cli

    for name, value in fast_env(api).items():
        monkeypatch.setenv(name, value)
    api.clear_faults()
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    old = tmp_path / "old.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(old)]) == 0
    overwrite_blocks(old, blocks_of(old, "works") + blocks_of(old, "mentions"))
    assert cli.main(["run", str(seeds), "--db", str(old)]) == 3  # damage met mid-run, said once
    new = tmp_path / "new.duckdb"
    assert cli.main(["rebuild", "--from-raw", str(old), "--db", str(new)]) == 0
    api.reset_stats()
    assert cli.main(["run", str(seeds), "--db", str(new)]) == 0
    asked = sum(s["requests"] for s in api.stats.values())
    con = duckdb.connect(str(new), read_only=True)
    try:
        assert con.execute("select count(*) from seed_documents").fetchone()[0] == 2
        assert quality_failures(con) == {}
    finally:
        con.close()
    assert asked <= 6, f"the rebuilt ledger settles the seeds' works; {asked} requests"


def test_rebuild_from_raw_of_a_file_duckdb_cannot_open_says_so_in_one_line(
    healthy, capsys, tmp_path
):
    from flows import cli

    old = copy(healthy[0], tmp_path / "gone.duckdb")
    with old.open("r+b") as f:  # both database headers: DuckDB cannot open it at all
        for at in (4096 + 16, 8192 + 16):
            f.seek(at)
            f.write(os.urandom(64))
    new = tmp_path / "new.duckdb"
    capsys.readouterr()
    assert cli.main(["rebuild", "--from-raw", str(old), "--db", str(new)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "is damaged past reading" in line and "restore a backup" in line
    assert "--from-raw" not in line and not new.exists()
