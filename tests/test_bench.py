"""bench/: every benchmark module imports and offers run() (a broken import only showed as a
FAILED line at the end of a 5-minute `make bench`)."""

from __future__ import annotations

import importlib
import pkgutil
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
