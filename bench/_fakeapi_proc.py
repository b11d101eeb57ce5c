"""The loopback fake API in its own process, for benchmarks (its CPU never takes the client's GIL).

    with FakeApiProcess(works=2_000, latency=0.03, rates=REAL_LIMITS) as api:
        env = api.env            # the ENRICH_*_URL values
        api.stats()              # GET /_fakeapi/stats, as JSON
        api.reset_baseline()     # later .delta() counts from here

Also: ``seed_page(ids)`` writes identifiers as a numbered reference list that extraction reads
as one work per line, and ``child_env()`` isolates Prefect and secrets for subprocesses.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# The limits the real APIs enforce (api-notes 1.2, 2.2, 3.1), per fake bucket. NCBI counts per IP
# across E-utilities and the PMC converter, so "ncbi" is one window shared by both.
REAL_LIMITS = {"openalex": 100, "crossref": 10, "crossref_list": 3, "ncbi": 3}
REAL_CONCURRENCY = {"crossref": 3}
SOURCES = ("openalex", "crossref", "eutils", "idconv", "doira")
PYCACHE = os.path.join(tempfile.gettempdir(), "enrich-bench-pycache")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeApiProcess:
    """``python -m demo.fakeapi`` in a subprocess; stopped (by its pid) on exit."""

    def __init__(
        self,
        *,
        works: int,
        seed: int = 0,
        latency: float = 0.0,
        rates: dict[str, float] | None = None,
        concurrency: dict[str, int] | None = None,
        budget: int = 1_000_000,
        seeds: bool = False,
        catalogs: tuple[str, ...] = (),
    ) -> None:
        self.port = free_port()
        args = [PYTHON, "-m", "demo.fakeapi", "--port", str(self.port), "--works", str(works)]
        args += ["--seed", str(seed), "--latency", str(latency), "--budget", str(budget)]
        args += ["--seeds"] if seeds else []
        for path in catalogs:  # JSON-lines bibliographic records (demo.fakeapi.refcatalog)
            args += ["--catalog", str(path)]
        for name, value in (rates or {}).items():
            args += ["--rate", f"{name}={value}"]
        for name, value in (concurrency or {}).items():
            args += ["--concurrency", f"{name}={value}"]
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self._base: dict[str, dict] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> FakeApiProcess:
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while True:  # the export lines, then a "# N works" line
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"fake API exited early ({self.proc.poll()})")
            if line.startswith("#") and self.env:
                break
            if line.startswith("export "):
                name, _, value = line[7:].strip().partition("=")
                self.env[name] = value
            if time.monotonic() > deadline:
                raise RuntimeError("fake API did not start in time")
        self.stats()  # answers: ready
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> FakeApiProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> dict[str, dict]:
        with urllib.request.urlopen(f"{self.url}/_fakeapi/stats", timeout=60) as resp:
            return json.loads(resp.read())

    def reset_baseline(self) -> None:
        """Later ``delta()`` calls count from now."""
        self._base = self.stats()

    def delta(self) -> dict[str, dict]:
        """Per source since ``reset_baseline``: requests, 429s, bytes_sent, by_status."""
        now, out = self.stats(), {}
        for s in SOURCES:
            a, b = now[s], self._base.get(s, {})
            by = {
                k: v - b.get("by_status", {}).get(k, 0)
                for k, v in a["by_status"].items()
                if v - b.get("by_status", {}).get(k, 0)
            }
            out[s] = {k: a[k] - b.get(k, 0) for k in ("requests", "429s", "bytes_sent")} | {
                "by_status": by
            }
        return out


def child_env(extra: dict[str, str] | None = None, *, prefect_home: str | None = None) -> dict:
    """An environment for an ``enrich`` subprocess: no secrets, quiet Prefect, own home."""
    env = {k: v for k, v in os.environ.items() if k not in ("NCBI_API_KEY", "OPENALEX_API_KEY")}
    env.pop("PREFECT_API_URL", None)
    env.update(
        {
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            "ENRICH_MAILTO": "bench@example.org",
        }
    )
    # Bytecode caching as a normal install has it (this sandbox sets PYTHONDONTWRITEBYTECODE=1,
    # which makes every process compile ~1,000 Prefect modules, ~1.5 s): kept outside the venv.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    if prefect_home:
        env["PREFECT_HOME"] = prefect_home
    env.update(extra or {})
    return env


_PREPARED: dict[str, str] = {}


def prepared_prefect_home() -> str:
    """A Prefect home for the ``enrich`` subprocesses of every bench in this ``python -m bench``,
    prepared once (database created and migrated) by an ``enrich run`` on a page naming no
    identifier. Each bench used to prepare its own (15-40 s each). Under ``python -m bench``
    each bench runs in a process of its own: the home lives in ``$BENCH_PREFECT_ROOT`` (made and
    removed by that parent), the first bench that needs it prepares it and leaves a ``ready``
    mark for the next; without it, in a temporary directory removed when this process exits.
    ``bench prefect`` keeps its own new home: it measures that first run."""
    if "home" in _PREPARED:
        return _PREPARED["home"]
    shared = os.environ.get("BENCH_PREFECT_ROOT", "")
    if shared:
        root = Path(shared)
    else:
        root = Path(tempfile.mkdtemp(prefix="enrich-bench-prefect-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    home, ready = root / "prefect-home", root / "ready"
    if not ready.exists():
        _prepare(root, home)
        ready.touch()
    _PREPARED["home"] = str(home)
    return _PREPARED["home"]


def _prepare(root: Path, home: Path) -> None:
    """One ``enrich run`` on a page naming no identifier, in Prefect home ``home``."""
    seeds = root / "empty"
    seeds.mkdir(exist_ok=True)
    (seeds / "notes.txt").write_text("Notes\n\nNo identifiers here.\n", encoding="utf-8")
    proc = subprocess.run(
        [PYTHON, "-m", "flows", "run", str(seeds), "--db", str(root / "warm.duckdb")],
        cwd=root, env=child_env(prefect_home=str(home)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"preparing a Prefect home: exit {proc.returncode}: "
                           f"{proc.stderr[-800:]}")  # fmt: skip


def seed_page(path: Path, idents) -> None:
    """Write identifiers as a numbered reference list: extraction reads one work per line."""
    label = {"doi": "doi:", "pmid": "PMID:", "pmcid": "PMCID:"}
    lines = ["References", ""]
    for n, ident in enumerate(idents, 1):
        lines.append(
            f"{n}. Author A. Title {n}. J Bench. 2020. {label[ident.scheme]} {ident.value}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def bench_size(
    env_name: str, quick: bool, *, default: int, small: int, full: int | None = None
) -> int:
    """A bench's size: ``$env_name`` when set (``50000`` or ``50,000``), else ``small`` with
    --quick, ``full`` with ``BENCH_FULL=1`` (when given), and ``default`` (``make bench``)."""
    value = os.environ.get(env_name, "").replace(",", "").replace("_", "").strip()
    if value:
        return int(value)
    if quick:
        return small
    return full if full is not None and full_sizes() else default


def full_sizes() -> bool:
    """``BENCH_FULL=1``: the issues' sizes that ``make bench`` cannot afford (20,000 ids to
    enrich, 100,000 ids for memory, 50,000 works to ingest...), ~25 minutes here; without it
    ``make bench`` aims at under 10 minutes (bench/README.md)."""
    return os.environ.get("BENCH_FULL", "") not in ("", "0")
