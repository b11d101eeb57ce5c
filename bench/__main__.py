"""Run every benchmark module (``python -m bench [--quick] [name ...]``) and print its figures.

Each figure is a ratio against a baseline measured in the same run, never an absolute claim.
Each benchmark ends with its own wall time and the load average, and the whole run with its
total wall (``make bench`` runs them all).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path


def bench_modules(names: list[str] | None = None) -> list[str]:
    """The ``bench_*`` modules of this package, sorted; only ``names`` (``extract``...) if given."""
    here = Path(__file__).parent
    modules = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    if names:
        modules = [m for m in modules if m.removeprefix("bench_") in names]
    return modules


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children waited for so far (the fake APIs,
    ``enrich`` subprocesses and their Prefect servers): unlike the wall, not inflated by other
    work on a shared machine."""
    import resource

    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def load_average() -> str:
    """The 1-minute load average, as printed beside each wall (the machine is shared)."""
    return f"load {os.getloadavg()[0]:.1f}"


def run_one(name: str, *, quick: bool) -> tuple[bool, float]:
    """Run ``bench.NAME``, printing its lines and its wall: (ok, seconds)."""
    print(f"== {name.removeprefix('bench_')}", flush=True)
    started, cpu, ok = time.perf_counter(), cpu_seconds(), True
    try:
        for line in importlib.import_module(f"bench.{name}").run(quick=quick):
            print(f"   {line}", flush=True)
    except Exception as exc:  # one broken benchmark must not hide the others
        ok = False
        print(f"   FAILED: {type(exc).__name__}: {exc}", flush=True)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    print(f"   ({seconds:.1f} s, CPU {cpu:.1f} s, {load_average()})", flush=True)
    return ok, seconds


def total_line(walls: dict[str, float], seconds: float, cpu: float, load_at_start: str) -> str:
    """The closing line: the total wall and CPU, the loads at start and end, the longest."""
    longest = sorted(walls.items(), key=lambda kv: -kv[1])[:3]
    return (
        f"== total: {len(walls)} benchmark(s) in {seconds:.0f} s ({seconds / 60:.1f} min), "
        f"CPU {cpu:.0f} s; "
        f"{load_at_start} at the start, {load_average()} at the end; longest: "
        + ", ".join(f"{name.removeprefix('bench_')} {s:.0f} s" for name, s in longest)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="run only these (e.g. extract load)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke test")
    args = parser.parse_args(argv)
    started, cpu, load_at_start = time.perf_counter(), cpu_seconds(), load_average()
    walls: dict[str, float] = {}
    failed = 0
    for name in bench_modules(args.names):
        ok, walls[name] = run_one(name, quick=args.quick)
        failed += not ok
    seconds = time.perf_counter() - started
    print(total_line(walls, seconds, cpu_seconds() - cpu, load_at_start), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
