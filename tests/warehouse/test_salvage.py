"""warehouse.salvage and the integrity probe: what a damaged file still gives back, and that a
healthy file is never called damaged."""

from __future__ import annotations

import os

import duckdb
import pytest

from warehouse.db import WarehouseDamaged, check_integrity, connect
from warehouse.load import load_batch, start_run
from warehouse.salvage import MIN_RANGE, Salvage, readable_raws, readable_rows

from .factories import batch, raw_for, record


def test_a_file_that_shrank_after_a_checkpoint_is_not_called_damaged(tmp_path):
    """DuckDB gives a dropped table's blocks back by truncating the file while its block count
    still includes them: a size check on that count would cry wolf. The probe goes by the
    blocks the tables use."""
    db = tmp_path / "w.duckdb"
    con = connect(db)
    con.execute("create table filler as select repeat('x', 1000) as s from range(20000)")
    con.execute("checkpoint")
    con.execute("drop table filler")
    con.execute("checkpoint")
    con.close()
    connect(db).close()
    connect(db, read_only=True).close()


def test_a_file_cut_short_is_damaged_and_says_by_how_much(tmp_path):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    con.execute("create table t as select repeat('y', 500) || i as s from range(50000) r(i)")
    con.close()
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.truncate(size - 300_000)
    con = duckdb.connect(str(db), read_only=True)
    with pytest.raises(WarehouseDamaged, match=r"cut short\); restore a backup"):
        check_integrity(con, db)
    con.close()


def test_readable_rows_isolate_an_unreadable_range_and_count_it(tmp_path):
    db = tmp_path / "t.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table t as select i, md5(i::varchar) || repeat('z', 300) as s "
                "from range(300000) r(i)")  # fmt: skip
    blocks = sorted(
        b for (b,) in con.execute(
            "select distinct block_id from pragma_storage_info('t') "
            "where column_name = 's' and block_id >= 0"
        ).fetchall()
    )  # fmt: skip
    con.close()
    with db.open("r+b") as f:  # one block of the strings, in the middle of the table
        f.seek(3 * 4096 + blocks[len(blocks) // 2] * 262144 + 64)
        f.write(os.urandom(8192))
    con = duckdb.connect(str(db), read_only=True)
    salvage = Salvage()
    got = [i for i, _ in readable_rows(con, "t", "i, s", salvage)]
    con.close()
    lost = salvage.rows_lost["t"]
    assert 0 < lost < 300_000 // 4 and lost % MIN_RANGE == 0
    assert len(got) == 300_000 - lost and got == sorted(got)


def test_readable_raws_give_back_whole_answers_with_the_run_that_fetched_them(con, run_id):
    long_body = "x" * 40_000  # three parts
    fb, norm = batch("crossref", [record("crossref", "doi:10.1/a")])
    load_batch(con, fb.__class__(fb.source, (raw_for("crossref", long_body),), fb.outcomes),
               norm, run_id=run_id)  # fmt: skip
    load_batch(con, fb, norm, run_id=start_run(con, "second", {}))
    salvage = Salvage()
    got = {raw.body[:3]: (len(raw.body), run) for raw, run in readable_raws(con, salvage)}
    assert got["xxx"] == (40_000, run_id) and len(got) == 2
    assert (salvage.answers, salvage.answers_lost, salvage.rows_lost) == (2, 0, {})
