"""bench/: every benchmark module imports and offers run() (a broken import only showed as a
FAILED line at the end of a 5-minute `make bench`)."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(BENCH)]) if m.name.startswith("bench_"))


def test_there_are_benchmarks():
    assert {"bench_enrich", "bench_ingest", "bench_load", "bench_memory"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_a_benchmark_module_imports_and_offers_run(name):
    module = importlib.import_module(f"bench.{name}")
    assert callable(module.run)


# --- sizes: smaller defaults for `make bench`, the issues' sizes kept behind variables ---------


@pytest.mark.parametrize(
    ("env", "quick", "expected"),
    [
        ({}, False, 20_000),  # make bench
        ({}, True, 5_000),  # --quick
        ({"BENCH_FULL": "1"}, False, 50_000),  # the size
        ({"BENCH_INGEST_WORKS": "50,000"}, False, 50_000),  # one size, spelt as in the issue
        ({"BENCH_INGEST_WORKS": "7000", "BENCH_FULL": "1"}, True, 7_000),  # the variable wins
    ],
)
def test_bench_size_reads_its_variable_then_quick_then_full(monkeypatch, env, quick, expected):
    from bench._fakeapi_proc import bench_size

    monkeypatch.delenv("BENCH_FULL", raising=False)
    monkeypatch.delenv("BENCH_INGEST_WORKS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    got = bench_size("BENCH_INGEST_WORKS", quick, default=20_000, small=5_000, full=50_000)
    assert got == expected


def test_bench_size_without_a_full_size_keeps_the_default_under_bench_full(monkeypatch):
    from bench._fakeapi_proc import bench_size

    monkeypatch.setenv("BENCH_FULL", "1")
    monkeypatch.delenv("BENCH_X", raising=False)
    assert bench_size("BENCH_X", False, default=300, small=60) == 300


# --- one prepared Prefect home for every bench of a run ----------------------------------------


def test_the_prefect_home_is_prepared_once_per_process(monkeypatch):
    from bench import _fakeapi_proc

    calls = []

    def fake_run(args, **kwargs):
        calls.append((args, kwargs["env"]["PREFECT_HOME"]))
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.delenv("BENCH_PREFECT_ROOT", raising=False)
    monkeypatch.setattr(_fakeapi_proc, "_PREPARED", {})
    monkeypatch.setattr(_fakeapi_proc.subprocess, "run", fake_run)
    first = _fakeapi_proc.prepared_prefect_home()
    assert _fakeapi_proc.prepared_prefect_home() == first
    assert len(calls) == 1
    args, home = calls[0]
    assert args[1:4] == ["-m", "flows", "run"] and home == first


def test_a_failed_preparation_raises_with_its_exit_code(monkeypatch):
    from bench import _fakeapi_proc

    def fake_run(args, **kwargs):
        return subprocess.CompletedProcess(args, 2, "", "boom")

    monkeypatch.delenv("BENCH_PREFECT_ROOT", raising=False)
    monkeypatch.setattr(_fakeapi_proc, "_PREPARED", {})
    monkeypatch.setattr(_fakeapi_proc.subprocess, "run", fake_run)
    with pytest.raises(RuntimeError, match="exit 2: boom"):
        _fakeapi_proc.prepared_prefect_home()


def test_the_prefect_home_is_prepared_once_for_the_benches_child_processes(monkeypatch, tmp_path):
    from bench import _fakeapi_proc

    calls = []

    def fake_run(args, **kwargs):
        calls.append(kwargs["env"]["PREFECT_HOME"])
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setenv("BENCH_PREFECT_ROOT", str(tmp_path))
    monkeypatch.setattr(_fakeapi_proc.subprocess, "run", fake_run)
    homes = []
    for _ in range(2):  # two benches, each in a process of its own
        monkeypatch.setattr(_fakeapi_proc, "_PREPARED", {})
        homes.append(_fakeapi_proc.prepared_prefect_home())
    assert homes == [str(tmp_path / "prefect-home")] * 2
    assert calls == homes[:1]


# --- walls: each bench's and the total -----------------------------------------------------------


def test_main_prints_each_benchs_wall_and_the_total(monkeypatch, capsys):
    from bench import __main__ as bench_main

    ok = types.ModuleType("bench.bench_ok")
    ok.run = lambda quick=False: [f"figure quick={quick}"]
    broken = types.ModuleType("bench.bench_broken")

    def fail(quick=False):
        raise ValueError("no fake API")

    broken.run = fail
    monkeypatch.setitem(sys.modules, "bench.bench_ok", ok)
    monkeypatch.setitem(sys.modules, "bench.bench_broken", broken)
    monkeypatch.setattr(bench_main, "bench_modules", lambda names: ["bench_broken", "bench_ok"])
    assert bench_main.main(["--quick", "--same-process"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "   figure quick=True" in out
    assert "   FAILED: ValueError: no fake API" in out
    walls = [
        line for line in out if re.fullmatch(r"   \(\d+\.\d s, CPU \d+\.\d s, load \d+\.\d\)", line)
    ]
    assert len(walls) == 2
    assert re.fullmatch(
        r"== total: 2 benchmark\(s\) in \d+ s \(\d+\.\d min\), CPU \d+ s; load \d+\.\d at the start, "
        r"load \d+\.\d at the end; longest: (broken|ok) \d+ s, (broken|ok) \d+ s",
        out[-1],
    )


CHILD = """
import os, sys
print("   figure of", sys.argv[1], "in", os.environ["BENCH_PREFECT_ROOT"])
print("   (0.1 s, CPU 0.1 s, load 0.0)")
sys.exit(1 if sys.argv[1] == "broken" else 0)
"""


def test_each_benchmark_runs_in_a_process_of_its_own_sharing_one_prefect_root(monkeypatch, capfd):
    from bench import __main__ as bench_main

    real_command, commands = bench_main.child_command, []

    def child_command(name, *, quick):
        commands.append(real_command(name, quick=quick))
        return [sys.executable, "-c", CHILD, name.removeprefix("bench_")]

    monkeypatch.setattr(bench_main, "child_command", child_command)
    monkeypatch.setattr(bench_main, "bench_modules", lambda names: ["bench_broken", "bench_ok"])
    assert bench_main.main(["--quick"]) == 1  # the broken one's exit code counts
    out = capfd.readouterr().out.splitlines()
    figures = [line.split() for line in out if line.startswith("   figure of")]
    assert [f[2] for f in figures] == ["broken", "ok"]
    assert figures[0][-1] == figures[1][-1]  # one shared root for both
    assert not Path(figures[0][-1]).exists()  # removed at the end
    assert out[-1].startswith("== total: 2 benchmark(s) in ")
    assert commands[1][1:] == ["-m", "bench", "--one", "ok", "--quick"]


def test_one_runs_a_single_benchmark_here_without_a_total(monkeypatch, capsys):
    from bench import __main__ as bench_main

    ok = types.ModuleType("bench.bench_ok")
    ok.run = lambda quick=False: [f"figure quick={quick}"]
    monkeypatch.setitem(sys.modules, "bench.bench_ok", ok)
    assert bench_main.main(["--one", "ok", "--quick"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["== ok", "   figure quick=True"]
    assert len(out) == 3 and not out[-1].startswith("== total")


def test_bench_modules_selects_by_short_name():
    from bench.__main__ import bench_modules

    assert bench_modules(["ingest", "run"]) == ["bench_ingest", "bench_run"]
    assert bench_modules(None) == MODULES


# --- bench absent counts requests without Crossref's header pacing -------------------------------


def test_absent_runs_unpaced_by_crossrefs_rate_headers():
    from bench.bench_absent import unpaced
    from pipeline import http

    headers = {"x-rate-limit-limit": "10", "x-rate-limit-interval": "1s"}
    assert http.advertised_rate(headers) == 10.0
    with unpaced():
        assert http.advertised_rate(headers) is None
    assert http.advertised_rate(headers) == 10.0


def test_ab_ingest_compares_tables_without_their_run_ids_and_clocks():
    import duckdb

    from bench.ab_ingest import differences, table_rows

    def warehouse(run_id: str, at: str, k: int) -> dict:
        con = duckdb.connect()
        con.execute("create table t (k integer, run_id varchar, recorded_at timestamptz)")
        con.execute("insert into t values (?, ?, ?::timestamptz)", [k, run_id, at])
        return table_rows(con)

    one = warehouse("r1", "2026-01-01 00:00:00+00", 1)
    assert differences(one, warehouse("r2", "2026-02-02 00:00:00+00", 1)) == []
    assert differences(one, warehouse("r1", "2026-01-01 00:00:00+00", 2)) == ["t"]
