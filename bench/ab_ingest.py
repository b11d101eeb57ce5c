"""Ingest A/B in one process: another commit's code against the work tree's, same works.

``python -m bench.ab_ingest [REF] [--works N] [--reps R]`` (REF: a git commit, default
``main``). The ``pipeline``, ``warehouse`` and ``flows`` packages of REF (``git archive``) and of
the work tree are both imported, side by side, and each loads the same OpenAlex-shaped bench
works through the product's path (``load_stream`` into a ``Writer``, then ``finish_run``) into a
fresh warehouse, R times, alternating which goes first. Prints the CPU ms per work of each run
(``time.process_time``: DuckDB's threads included) and the new/old ratios; on a shared machine
the same process and interleaving keep both sides under the same load.

Then checks that the warehouse did not change: every table of the two first warehouses compared
row by row, run ids and clock columns masked (VOLATILE). Exit status 1 when they differ.
Not run by ``python -m bench`` (not a ``bench_*`` module).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

PACKAGES = ("pipeline", "warehouse", "flows")
# Columns stamped with the run or the clock: they differ between any two loads.
VOLATILE = frozenset(
    {
        "run_id", "recorded_at", "updated_at", "started_at", "finished_at", "summary", "params",
        "first_seen_at", "changed_at", "observed_at", "last_attempt_at", "fetched_at",
        "created_at", "applied_at",
    }
)  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 1, 1, tzinfo=UTC)


def import_tree(folder: Path) -> SimpleNamespace:
    """The product's packages as found in ``folder``, imported afresh (any already imported
    are forgotten first; modules keep their own globals, so both trees stay usable)."""
    for name in [m for m in sys.modules if m.split(".")[0] in PACKAGES]:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        import flows.steps as steps
        import pipeline.records as records
        import warehouse.load as load
    finally:
        sys.path.remove(str(folder))
    modules = {m: mod for m, mod in sys.modules.items() if m.split(".")[0] in PACKAGES}
    return SimpleNamespace(steps=steps, load=load, records=records, modules=modules)


def activate(tree: SimpleNamespace) -> None:
    """Make ``tree``'s modules the imported ones: the product imports some modules inside its
    functions (``from warehouse.load import load_batch``), and those must be the tree's own."""
    for name in [m for m in sys.modules if m.split(".")[0] in PACKAGES]:
        del sys.modules[name]
    sys.modules.update(tree.modules)


def export_ref(ref: str, folder: Path) -> Path:
    """The product's packages at ``ref`` written under ``folder``."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", ref, *PACKAGES],
                         check=True, capture_output=True).stdout  # fmt: skip
    with tarfile.open(fileobj=BytesIO(tar)) as archive:
        archive.extractall(folder, filter="data")
    return folder


def batches(tree: SimpleNamespace, bodies) -> list:
    """The bench's list bodies as ``tree``'s FetchBatches (one per body, as fetched)."""
    rec = tree.records
    out = []
    for n, (body, asked) in enumerate(bodies):
        ids = tuple(rec.Identifier(i.scheme, i.value) for i in asked)
        raw = rec.RawResponse("openalex", "works", f"https://api.openalex.org/works?page={n}",
                              200, "application/json", body, AT, ids)  # fmt: skip
        ledger = tuple(
            rec.LedgerEntry("openalex", i.scheme, i.value, "ok", 200, 1, None, AT) for i in ids
        )
        out.append(rec.FetchBatch("openalex", (raw,), ledger))
    return out


def load_all(tree: SimpleNamespace, fetched: list, db: Path) -> tuple[float, dict]:
    """Load ``fetched`` as a run does: (CPU seconds, the warehouse's tables)."""
    activate(tree)
    writer = tree.steps.Writer(db)
    try:
        run_id = writer(tree.load.start_run, "ab", {})
        started = time.process_time()
        tally = tree.steps.SourceTally("openalex")
        tree.steps.load_stream(iter(fetched), tally, writer=writer, run_id=run_id)
        writer(tree.load.finish_run, run_id, "completed", {})
        cpu = time.process_time() - started
        return cpu, writer(table_rows)
    finally:
        writer.close()


def table_rows(con) -> dict[str, list[str]]:
    """Every table's rows (VOLATILE columns left out), each as its repr, sorted."""
    out = {}
    tables = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'main' order by 1"
    ).fetchall()
    for (table,) in tables:
        columns = con.execute(
            "select column_name from duckdb_columns() where table_name = ? order by column_index",
            [table],
        ).fetchall()
        kept = ", ".join(f'"{c}"' for (c,) in columns if c not in VOLATILE)
        rows = con.execute(f'select {kept} from "{table}"').fetchall()
        out[table] = sorted(map(repr, rows))
    return out


def differences(old: dict[str, list[str]], new: dict[str, list[str]]) -> list[str]:
    """The tables whose rows differ between two ``table_rows``."""
    return [t for t in sorted(old.keys() | new.keys()) if old.get(t) != new.get(t)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="main")
    parser.add_argument("--works", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=6)
    args = parser.parse_args(argv)
    from bench.bench_ingest import make_bodies

    bodies = make_bodies(args.works)
    with tempfile.TemporaryDirectory(prefix="ab-ingest-") as tmp:
        trees = {"old": import_tree(export_ref(args.ref, Path(tmp) / "old")),
                 "new": import_tree(ROOT)}  # fmt: skip
        fetched = {side: batches(tree, bodies) for side, tree in trees.items()}
        cpu: dict[str, list[float]] = {"old": [], "new": []}
        tables = {}
        for rep in range(args.reps):
            for side in ("old", "new") if rep % 2 == 0 else ("new", "old"):
                seconds, rows = load_all(trees[side], fetched[side], Path(tmp) / f"{side}{rep}.db")
                cpu[side].append(seconds / args.works * 1000)
                tables.setdefault(side, rows)
    median = {side: sorted(v)[len(v) // 2] for side, v in cpu.items()}
    for side in ("old", "new"):
        print(f"{side}: " + " ".join(f"{x:.3f}" for x in cpu[side]) + " CPU ms per work")
    print(f"new/old: median {median['new'] / median['old']:.3f}, "
          f"min {min(cpu['new']) / min(cpu['old']):.3f}")  # fmt: skip
    changed = differences(tables["old"], tables["new"])
    rows = sum(len(r) for r in tables["new"].values())
    print(f"warehouse: {'DIFFERS in ' + ', '.join(changed) if changed else 'identical'} "
          f"({rows:,} rows in {len(tables['new'])} tables)")  # fmt: skip
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
