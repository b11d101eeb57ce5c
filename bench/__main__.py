"""Run every benchmark module (``python -m bench [--quick] [name ...]``) and print its figures.

Each figure is a ratio against a baseline measured in the same run, never an absolute claim.
Each benchmark ends with its own wall time and the load average, and the whole run with its
total wall (``make bench`` runs them all).

Each benchmark runs in a process of its own (``python -m bench --one NAME``), so none pays for the
heap, threads and caches the earlier ones left behind (in one process, ``bench report`` after
``ingest`` and ``load`` cost 22% more CPU, and the process's system time doubled). What they share
is passed down: the Prefect home prepared once per ``python -m bench`` (``BENCH_PREFECT_ROOT``).
``--same-process`` runs them all in this one, as before (for a profiler).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def child_command(name: str, *, quick: bool) -> list[str]:
    """The command that runs one benchmark module in a process of its own."""
    return [sys.executable, "-m", "bench", "--one", name.removeprefix("bench_")] + (
        ["--quick"] if quick else []
    )


def run_in_child(name: str, *, quick: bool, env: dict[str, str]) -> tuple[bool, float]:
    """Run ``bench.NAME`` in a child process (its lines and wall go to this stdout): (ok,
    seconds). Its CPU, and its children's, count in this process's ``cpu_seconds``."""
    started = time.perf_counter()
    sys.stdout.flush()
    code = subprocess.call(child_command(name, quick=quick), cwd=ROOT, env=env)
    return code == 0, time.perf_counter() - started


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
    parser.add_argument("--one", metavar="NAME", help="run this one benchmark in this process")
    parser.add_argument(
        "--same-process", action="store_true", help="run every benchmark in this process"
    )
    args = parser.parse_args(argv)
    if args.one:  # a child of the run below: its lines and its wall line, no total
        return 0 if run_one(f"bench_{args.one}", quick=args.quick)[0] else 1
    started, cpu, load_at_start = time.perf_counter(), cpu_seconds(), load_average()
    walls: dict[str, float] = {}
    failed = 0
    shared = tempfile.mkdtemp(prefix="enrich-bench-shared-")
    env = {**os.environ, "BENCH_PREFECT_ROOT": shared}
    try:
        for name in bench_modules(args.names):
            if args.same_process:
                ok, walls[name] = run_one(name, quick=args.quick)
            else:
                ok, walls[name] = run_in_child(name, quick=args.quick, env=env)
            failed += not ok
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    seconds = time.perf_counter() - started
    print(total_line(walls, seconds, cpu_seconds() - cpu, load_at_start), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
