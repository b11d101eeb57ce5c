"""``enrich run`` A/B through the CLI: another checkout's code against this one, alternating.

``python -m bench.ab_run /other/checkout [--reps R] [--ids N] [--new-home]``: R runs of each, A
then B then A..., of ``python -m flows run`` on a seed page naming N mixed identifiers (0: a page
naming none, the fixed cost) against the fake API with the real limits (``bench_run.cli_run``),
each checkout's own interpreter (``CHECKOUT/.venv/bin/python``) with its own code first on
``PYTHONPATH``, on one Prefect home prepared once (``--new-home``: a new home per run, what a
user's first run costs). Prints every run (wall, wall after "server ready", CPU of the process
tree, server start-up, load) and the medians and ranges. On a shared machine only alternated runs
are comparable. Not run by ``python -m bench`` (not a ``bench_*`` module).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._fakeapi_proc import (
    REAL_CONCURRENCY,
    REAL_LIMITS,
    ROOT,
    FakeApiProcess,
    child_env,
    prepared_prefect_home,
    seed_page,
)
from bench.bench_enrich import pick_ids
from bench.bench_run import cli_run


def _seed(tmp: Path, n: int, works: int) -> Path:
    folder = tmp / ("mixed" if n else "empty")
    folder.mkdir()
    if n:
        from demo.fakeapi.generate import generate_catalog

        ids, _facts = pick_ids(list(generate_catalog(works, 0)), n)
        seed_page(folder / "refs.txt", ids)
    else:
        (folder / "notes.txt").write_text("Notes\n\nNo identifiers here.\n", encoding="utf-8")
    return folder


def _line(name: str, runs: list[dict]) -> str:
    def spread(key) -> str:
        values = [key(r) for r in runs]
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    return (
        f"{name}: wall {spread(lambda r: r['wall'])}, after ready "
        f"{spread(lambda r: r['wall'] - r['server'])}, CPU {spread(lambda r: r['cpu'])}, "
        f"server up {spread(lambda r: r['server'])}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the A/B and print it; exit 1 when a run failed."""
    ap = argparse.ArgumentParser(prog="python -m bench.ab_run")
    ap.add_argument("other", help="the other checkout (with its .venv)")
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--ids", type=int, default=0)
    ap.add_argument("--new-home", action="store_true")
    args = ap.parse_args(argv)
    sides = {"other": Path(args.other).resolve(), "this": ROOT}
    works = int(max(args.ids, 10) * 1.3) + 200
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    failed = False
    with (
        FakeApiProcess(
            works=works, latency=0.03, rates=REAL_LIMITS, concurrency=REAL_CONCURRENCY
        ) as api,
        tempfile.TemporaryDirectory(prefix="ab-run-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        seed = _seed(tmp, args.ids, works)
        home = None if args.new_home else prepared_prefect_home()
        for rep in range(args.reps):
            for name, root in sides.items():
                env = child_env(api.env, prefect_home=home or tempfile.mkdtemp(dir=tmp))
                env["PYTHONPATH"] = str(root)
                load = os.getloadavg()[0]
                res = cli_run(
                    seed, tmp / f"{name}-{rep}.duckdb", env, tmp, str(root / ".venv/bin/python")
                )
                runs[name].append(res)
                failed |= res["code"] not in (0, 1)
                print(
                    f"{name} {rep}: exit {res['code']}, wall {res['wall']:.2f} s, after ready "
                    f"{res['wall'] - res['server']:.2f} s, CPU {res['cpu']:.2f} s, server up "
                    f"{res['server']:.1f} s, load {load:.1f}",
                    flush=True,
                )
                time.sleep(1.0)
    for name, root in sides.items():
        print(_line(f"{name} ({root})", runs[name]))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
