"""Peak RSS of ``enrich run`` (a subprocess) on N identifiers (5,000; quick: 2,000; 100,000
with ``BENCH_FULL=1``, ~15 minutes here; any with ``BENCH_MEMORY_IDS``: 10,000 before issue 22's
trimming, when the bench cost 100 CPU s against 62 now).

The seed is a reference list, one work per line with every id the catalog has for it (DOI, PMID,
PMCID). The fake API runs in its own process without limits or latency and the client's pacing is
raised (memory does not depend on pacing; this keeps the run short). ``enrich run`` uses an
ephemeral Prefect server in a Prefect home prepared once per ``python -m bench``.

Figures: peak RSS (VmHWM, polled from /proc) of the enrich process itself and of its Prefect
server child, the tree's max (``ru_maxrss`` of a clean parent's children), goal <= 300 MB for
the enrich process; and, as the baseline measured in the same run, the same run on N/10
identifiers: a streaming run's peak must not grow with N. Then the floor under any run, same
settings: ``enrich run`` on FLOOR_IDS identifiers, and a trivial Prefect flow (one flow, no
tasks, ephemeral) in a process of its own.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench._fakeapi_proc import (
    PYTHON,
    ROOT,
    FakeApiProcess,
    bench_size,
    child_env,
    prepared_prefect_home,
)

# 100,000 identifiers take ~15 minutes here (normalise + load are CPU-bound), too long for
# `make bench`: BENCH_FULL=1 (or BENCH_MEMORY_IDS=100000) runs that size.
FAST = {
    "ENRICH_OPENALEX_RPS": "1000",
    "ENRICH_CROSSREF_RPS": "1000",
    "ENRICH_CROSSREF_LIST_RPS": "1000",
    "ENRICH_NCBI_RPS": "1000",
}
# A clean parent: its only child is `enrich`, so ru_maxrss of its children is enrich's tree.
WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n"
)


def write_seeds(directory: Path, catalog, n_ids: int) -> int:
    """A reference list of works until ``n_ids`` identifiers are printed; returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    lines, count = ["References", ""], 0
    for k, w in enumerate(catalog, 1):
        parts = []
        if w.doi:
            parts.append(f"doi: {w.doi}")
        if w.pmid:
            parts.append(f"PMID: {w.pmid}")
        if w.pmcid:
            parts.append(f"PMCID: {w.pmcid}")
        lines.append(f"{k}. Author A. Title {k}. J Bench. 2020. {' '.join(parts)}")
        count += len(parts)
        if count >= n_ids:
            break
    (directory / "refs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return count


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return out


def _hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


FLOOR_IDS = 3
TRIVIAL_FLOW = "from prefect import flow\n\n\n@flow\ndef trivial():\n    return 1\n\n\ntrivial()\n"


def measure(seeds: Path, db: Path, env: dict) -> dict:
    """Run ``enrich run`` under the wrapper; poll every process of its tree for VmHWM."""
    return measure_command(
        [str(ROOT / ".venv/bin/enrich"), "run", str(seeds), "--db", str(db)], env
    )


def measure_command(argv: list[str], env: dict, *, main: str = "enrich") -> dict:
    """Run ``argv`` under the wrapper; poll every process of its tree for VmHWM. The main
    process is the one whose command line holds ``main`` (and not "prefect")."""
    cmd = [PYTHON, "-c", WRAPPER, *argv]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peaks: dict[int, tuple[str, int]] = {}
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            todo = _children(proc.pid)
            while todo:
                pid = todo.pop()
                kb = _hwm_kb(pid)
                if kb is not None:
                    name = peaks.get(pid, (_cmdline(pid), 0))[0]
                    peaks[pid] = (name, max(kb, peaks.get(pid, ("", 0))[1]))
                todo += _children(pid)
            stop.wait(0.2)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = proc.communicate()
    stop.set()
    poller.join()
    seconds = time.perf_counter() - started
    line = next((x for x in out.splitlines() if x.startswith("MAXRSS_KB")), "MAXRSS_KB 0 -1")
    _, kb, code = line.split()
    enrich = max(
        (kb for name, kb in peaks.values() if main in name and "prefect" not in name), default=0
    )
    server = max(
        (kb for name, kb in peaks.values() if "prefect" in name or "uvicorn" in name), default=0
    )
    return {
        "seconds": seconds,
        "exit": int(code),
        "tree_kb": int(kb),
        "enrich_kb": enrich,
        "server_kb": server,
        "stderr": err[-600:],
    }


def run(quick: bool = False) -> list[str]:
    from demo.fakeapi.generate import generate_catalog

    n = bench_size("BENCH_MEMORY_IDS", quick, default=5_000, small=2_000, full=100_000)
    works = int(n / 2.4) + 100
    catalog = list(generate_catalog(works, 0))
    lines = []
    with (
        FakeApiProcess(works=works) as api,
        tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp,
    ):
        env = child_env({**api.env, **FAST}, prefect_home=prepared_prefect_home())
        results = {}
        for label, size in (("baseline", n // 10), ("run", n)):
            count = write_seeds(Path(tmp) / f"seeds-{label}", catalog, size)
            res = measure(Path(tmp) / f"seeds-{label}", Path(tmp) / f"{label}.duckdb", env)
            results[label] = (count, res)
            if res["exit"] not in (0, 1):
                raise RuntimeError(f"enrich run exited {res['exit']}: {res['stderr']}")
        floor = measure(write_floor(Path(tmp), catalog), Path(tmp) / "floor.duckdb", env)
        script = Path(tmp) / "trivial_flow.py"
        script.write_text(TRIVIAL_FLOW, encoding="utf-8")
        trivial = measure_command([PYTHON, str(script)], env, main="trivial_flow")
    (bn, base), (rn, res) = results["baseline"], results["run"]
    mb = 1024
    lines.append(
        f"enrich run on {rn:,} identifiers ({res['seconds']:.0f} s, exit {res['exit']}): enrich "
        f"process peak {res['enrich_kb'] / mb:,.0f} MB (goal <= 300 MB); its Prefect server "
        f"{res['server_kb'] / mb:,.0f} MB; tree max (ru_maxrss) {res['tree_kb'] / mb:,.0f} MB"
    )
    lines.append(
        f"baseline, {bn:,} identifiers ({base['seconds']:.0f} s): enrich process peak "
        f"{base['enrich_kb'] / mb:,.0f} MB; {rn / bn:.0f}x the identifiers cost "
        f"{res['enrich_kb'] / max(base['enrich_kb'], 1):.2f}x the peak"
    )
    lines.append(
        f"floor, same settings: enrich run on {FLOOR_IDS} identifiers peaks at "
        f"{floor['enrich_kb'] / mb:,.0f} MB (exit {floor['exit']}); a trivial Prefect flow at "
        f"{trivial['enrich_kb'] / mb:,.0f} MB (exit {trivial['exit']}); the smallest run is "
        f"{floor['enrich_kb'] / mb / 300:.2f}x the goal"
    )
    return lines


def write_floor(tmp: Path, catalog) -> Path:
    """Seeds naming FLOOR_IDS identifiers, for the floor run; returns their directory."""
    directory = tmp / "seeds-floor"
    write_seeds(directory, catalog, FLOOR_IDS)
    return directory
