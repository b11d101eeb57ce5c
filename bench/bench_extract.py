"""Extraction throughput: the whole extractor against one plain DOI regex scan, same files, same run.

The corpus is generated from the two seed documents: each page is a seed with fresh identifiers
(DOIs, PMIDs, PMCIDs), pages are concatenated into files of about 10 MB. Pages are kept in few
large files so the figure measures extraction, not opening 40,000 small files.
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import time
from pathlib import Path

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


def _extract(root: Path) -> int:
    return sum(len(doc.mentions) for doc in extract_paths([str(root)]))


def _best(fn, root: Path, repeat: int) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(root)
        times.append(time.perf_counter() - started)
    return min(times), result


def run(quick: bool = False) -> list[str]:
    """Generate the corpus, time both scans, and report MB/s and the ratio."""
    total_mb = 10 if quick else 150
    root = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    try:
        size, files = make_corpus(root, total_mb)
        mb = size / 1e6
        repeat = 3 if quick else 2
        base_s, base_n = _best(_baseline, root, repeat)
        ext_s, ext_n = _best(_extract, root, repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [
        f"corpus: {mb:.1f} MB of seed-shaped pages in {files} file(s)",
        f"baseline DOI regex: {mb / base_s:7.1f} MB/s ({base_n} DOIs)",
        f"extractor:          {mb / ext_s:7.1f} MB/s ({ext_n} mentions)",
        f"extractor costs {ext_s / base_s:.2f}x the baseline (goal: <= 3x, >= 50 MB/s)",
    ]
