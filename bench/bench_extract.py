"""Extraction throughput: the whole extractor against one plain DOI regex scan, same files, same run.

The corpus is generated from the two seed documents: each page is a seed with fresh identifiers
(DOIs, PMIDs, PMCIDs), pages are concatenated into files of about 10 MB: 50 MB in all (150 MB with BENCH_FULL=1 or
BENCH_EXTRACT_MB=150; 10 with --quick). Pages are kept in few
large files so the figure measures extraction, not opening 40,000 small files.
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import time
from pathlib import Path

from bench._fakeapi_proc import bench_size
from pipeline.extract import extract_paths

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
FILE_MB = 10
# The DOI pattern Crossref recommends (https://www.crossref.org/blog/dois-and-matching-regular-
# expressions/), as a baseline: what the cheapest possible "extractor" costs on the same bytes.
BASELINE = re.compile(r"\b10\.\d{4,9}/[-._;()/:A-Z0-9]+", re.IGNORECASE)
_IDS = re.compile(r"(?<=PMID: )\d+|(?<=PMC: )\d+|(?<=/)[a-z0-9.-]*\d{4,}[a-z0-9.-]*|\b\d{8}\b")


def _templates() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


def _page(template: str, rng: random.Random) -> str:
    """A seed page with its identifiers replaced by fresh ones of the same shape."""

    def fresh(m: re.Match[str]) -> str:
        return "".join(str(rng.randrange(10)) if c.isdigit() else c for c in m.group())

    return _IDS.sub(fresh, template)


def make_corpus(root: Path, total_mb: float, seed: int = 7) -> tuple[int, int]:
    """Write about ``total_mb`` MB of seed-shaped pages under ``root``: (bytes, files)."""
    rng, templates, written, n = random.Random(seed), _templates(), 0, 0
    while written < total_mb * 1e6:
        pages, size = [], 0
        while size < min(FILE_MB, total_mb) * 1e6:
            page = _page(rng.choice(templates), rng) + "\n\n\n"
            pages.append(page)
            size += len(page.encode())
        data = "".join(pages).encode()
        (root / f"corpus_{n:03d}.txt").write_bytes(data)
        written, n = written + len(data), n + 1
    return written, n


def _baseline(root: Path) -> int:
    count = 0
    for path in sorted(root.iterdir()):
        count += sum(1 for _ in BASELINE.finditer(path.read_bytes().decode("utf-8")))
    return count


def _pattern(root: Path) -> int:
    """The extractor's own compiled identifier pattern alone: the ceiling of any extractor
    built on it (no normalising, no structure, no records)."""
    from pipeline.identifiers import _SCAN

    count = 0
    for path in sorted(root.iterdir()):
        count += sum(1 for _ in _SCAN.finditer(path.read_bytes().decode("utf-8")))
    return count


def _extract(root: Path) -> int:
    return sum(len(doc.mentions) for doc in extract_paths([str(root)]))


def _best(fn, root: Path, repeat: int) -> tuple[float, int, float]:
    """(best wall time, result, best CPU time of this process): on a shared machine the CPU
    time is the steadier of the two."""
    times, cpu, result = [], [], 0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn(root)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return min(times), result, min(cpu)


def run(quick: bool = False) -> list[str]:
    """Generate the corpus, time both scans, and report MB/s and the ratio."""
    total_mb = bench_size("BENCH_EXTRACT_MB", quick, default=50, small=10, full=150)
    root = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    try:
        size, files = make_corpus(root, total_mb)
        mb = size / 1e6
        repeat = 3 if quick else 2
        base_s, base_n, base_cpu = _best(_baseline, root, repeat)
        pat_s, pat_n, pat_cpu = _best(_pattern, root, repeat)
        ext_s, ext_n, ext_cpu = _best(_extract, root, repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [
        f"corpus: {mb:.1f} MB of seed-shaped pages in {files} file(s)",
        f"baseline DOI regex: {mb / base_s:7.1f} MB/s ({base_n} DOIs)",
        f"identifier pattern: {mb / pat_s:7.1f} MB/s ({pat_n} matches; the extractor's own, alone)",
        f"extractor:          {mb / ext_s:7.1f} MB/s ({ext_n} mentions)",
        f"extractor costs {ext_s / base_s:.2f}x the baseline (goal: <= 3x, >= 50 MB/s)",
        f"in CPU time: {ext_cpu / base_cpu:.2f}x ({mb / ext_cpu:.1f} against "
        f"{mb / base_cpu:.1f} MB/s of CPU); {ext_cpu / pat_cpu:.2f}x its own pattern alone",
        *run_pdf(quick),
    ]


# --------------------------------------------------------------------------------------------
# PDF: the reader against poppler's pdftotext (or pypdf, the slowest library considered)
# --------------------------------------------------------------------------------------------

PDFS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "documents"
PDF_COPIES = 2  # each real PDF read this many times per pass (4 before; pages/s is per page)
_PEAK = """
import json, resource, sys
sys.path.insert(0, {root!r})
from pipeline.extract import extract_document
from pipeline.readers.pdf import shutdown_worker
doc = extract_document({path!r})
shutdown_worker()
print(json.dumps({{"mentions": len(doc.mentions), "problems": [p.message for p in doc.problems],
    "parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""


def _pdf_pages(paths: list[Path]) -> int:
    import pypdfium2

    return sum(len(pypdfium2.PdfDocument(str(p))) for p in paths)


def _pdftotext(paths: list[Path]) -> None:
    import subprocess

    for p in paths:
        subprocess.run(["pdftotext", "-q", str(p), "-"], capture_output=True, check=False)


def _pypdf(paths: list[Path]) -> None:
    import pypdf

    for p in paths:
        for page in pypdf.PdfReader(str(p)).pages:
            page.extract_text()


def _ours(paths: list[Path]) -> None:
    from pipeline.extract import extract_document

    for p in paths:
        extract_document(str(p))


def _timed(fn, paths: list[Path], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(paths)
        best = min(best, time.perf_counter() - started)
    return best


def run_pdf(quick: bool = False) -> list[str]:
    """PDF pages/s and MB/s against a baseline in the same run; peak memory on 1,000 pages."""
    import importlib.util
    import json
    import subprocess
    import sys

    paths = sorted(PDFS.glob("*.pdf"))
    paths = [p for p in paths if p.name != "encrypted.pdf"] * (1 if quick else PDF_COPIES)
    pages, mb = _pdf_pages(paths), sum(p.stat().st_size for p in paths) / 1e6
    _ours(paths[:1])  # the worker process starts once per run, not per file
    ours = _timed(_ours, paths, 2)
    if shutil.which("pdftotext"):
        name, base = "pdftotext (poppler)", _timed(_pdftotext, paths, 2)
    elif importlib.util.find_spec("pypdf"):
        name, base = "pypdf", _timed(_pypdf, paths[: max(1, len(paths) // 4)], 1) * 4
    else:
        name, base = None, None
    lines = [
        f"PDF corpus: {len(paths)} real PDFs, {pages} pages, {mb:.1f} MB",
        f"PDF reader: {pages / ours:7.1f} pages/s, {mb / ours:5.2f} MB/s",
    ]
    if base:
        lines.append(
            f"{name}: {pages / base:7.1f} pages/s; the reader runs {base / ours:.2f}x its speed (goal: >= 1x)"
        )
    else:
        lines.append("no baseline: neither pdftotext nor pypdf is installed")
    from tests.pipeline.readers.pdfgen import content, pdf

    folder = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    try:
        big = folder / "thousand.pdf"
        body = [f"Line {i} of a long page, doi:10.5555/bench.{i}" for i in range(40)]
        big.write_bytes(pdf([content(body)], pages_share=1000))
        code = _PEAK.format(root=str(Path(__file__).resolve().parent.parent), path=str(big))
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        peak = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines.append(
        f"1,000-page PDF: {peak['mentions']} mentions; peak RSS {peak['parent_mb']:.0f} MB "
        f"(extracting process), {peak['worker_mb']:.0f} MB (PDF worker)"
    )
    return lines
