"""The extractor's complete output on a fixed corpus, frozen from the code before issue 22.

Issue 22 (item 5) rewrote the extractor's hot path for speed; its behaviour must not move. The
oracle is a golden file, ``tests/fixtures/extract_golden.json.gz``, written by *this module run
against the extractor before that work* (main at 4c60e7e):

    .venv/bin/python -m tests.pipeline.extract_golden --write

It holds, for every document of the corpus below, everything ``extract_document`` returns:
each mention (scheme, value, start, end, line, section, group, role: the normalised value,
offsets, line and provenance), each reference entry (offsets, line, text, ids, section, label),
the problems, the size and hash. ``test_extract_golden`` compares the current extractor with it,
document by document. Regenerate it only for a change meant to alter extraction output, and say
so in that commit.

The corpus: every file under ``tests/fixtures`` but their README (real documents of every reader: text,
Markdown, HTML, JATS, PubMed XML, MEDLINE, BibTeX, RIS, EndNote, CSL/OpenAlex/Crossref JSON,
CSV, DOCX and the real PDFs through their reader; plus files that are no document), the seeds,
and synthetic stress texts generated here from a fixed random seed (``stress_files``): every
identifier spelling the scanner knows, headings of every role, lists, CRLF, wide characters,
and the bench's seed-shaped pages, some of them read in small pieces so that piece boundaries
fall everywhere.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pipeline.readers.base as base
from pipeline.extract import extract_document
from pipeline.records import Mention, ReferenceEntry

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "fixtures" / "extract_golden.json.gz"

# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


# The fixtures' own documentation (their origins): it grows with every fixture added, so holding
# it in the golden file meant regenerating that file for each new fixture.
NOT_CORPUS = {"tests/fixtures/README"}


def fixture_files() -> list[str]:
    """Every fixture file and seed, as paths relative to the repository root."""
    found = [
        p
        for folder in ("tests/fixtures", "seeds")
        for p in sorted((ROOT / folder).rglob("*"))
        if p.is_file() and p != GOLDEN
    ]
    return [rel for p in found if (rel := str(p.relative_to(ROOT))) not in NOT_CORPUS]


# Identifier spellings, each a template: {d} digits, {n} 1-3 digits, {w} a word.
_IDS = [
    "doi:10.{r}/abc.{d}",
    "DOI: 10.{r}/{w}.{d}.",
    "https://doi.org/10.{r}/{W}-{d}",
    "http://dx.doi.org/10.{r}/{w}({n}){d}",
    "(doi:10.{r}/{w}.{d})",
    "[10.{r}/{w}{d}]",
    "10.1002/(SICI)1097-4636(199912)48:4<463::AID-JBM{n}>3.0.CO;2-H",
    "10.{r}/xyz%3C{n}%3E",
    "https://onlinelibrary.wiley.com/doi/full/10.{r}/{w}.{d}/abstract",
    "https://www.biorxiv.org/content/10.1101/{d}v1.full.pdf",
    "10.{r}/{w}.{d}/References",
    "10.{r}/o'neil.{d}",
    "ids=10.{r}/a{n},10.{r}/b{n};10.{r}/c{n}",
    "10.13039/5011000{d}",
    "10.48550/arXiv.2101.{d4}",
    "10.48550/arxiv.{w}",
    "10.1371/journal.pone.0{d6}.g00{n}",
    "10.1371/journal.pone.0{d6}",
    "10.{r}/{w}.{d}?x=1#frag",
    '<a href="https://doi.org/10.{r}/{w}">x</a>',
    "10.{r}/{w}/",
    "10.{r}.{n}/{w}{d}",
    "10.{r}%2F{w}{d}",
    "PMID: {d}",
    "PMID\n{d}",
    "PMID:{d}",
    "pmid = {{{d}}}",
    "PubMed ID: {d}",
    "PubMed: {d}",
    "https://pubmed.ncbi.nlm.nih.gov/{d}/",
    "www.ncbi.nlm.nih.gov/pubmed/{d}",
    "https://europepmc.org/abstract/MED/{d}",
    "PMID 10.{r}/{w}",
    "PMC: {d}",
    "PMC: 2010 Dec 17",
    "PMCID: PMC{d}",
    "PMC{d}",
    "xPMC{d}",
    "pmc{d}",
    "arXiv:2101.{d4}v2",
    "arXiv: 1905.{d5}",
    "arxiv.org/abs/hep-th/99{d5}",
    "https://arxiv.org/pdf/2304.{d5}v3.pdf",
    "ArXiv, abs/1810.{d5}",
    "arXiv ePrint: 0807.{d4}",
    "arXiv:1913.{d4}",
    "https://openalex.org/W{d}",
    "OpenAlex ID: W{d}",
    "openalex.org/A{d}",
    "W{d}",
    "12345678",
    "2019;12(3):45-67",
]

_HEADINGS = [
    "References",
    "REFERENCES",
    "Bibliography",
    "Literature Cited",
    "Notes and references",
    "Cited by",
    "Citing Articles",
    "Identifiers",
    "Cite This",
    "Abstract",
    "Introduction",
    "Methods",
    "Related Publications",
    "## References",
    "# Introduction",
    "### Cited by",
    "References\n==========",
    "Further reading\n---------------",
    "1. Introduction",
    "5 References",
]

_WORDS = (
    "the cell study patients kinase remission therapy cohort analysis protein data model "
    "ångström naïve Zürich 東京 emoji😀 e\u0301cole et al and in of"
).split()


def _fill(template: str, rng: random.Random) -> str:
    def digits(k: int) -> str:
        return str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(k - 1))

    return template.format(
        r=rng.choice(["1000", "1111", "1038", "3390", "12345", "48550", "1016"]),
        d=digits(rng.randrange(3, 9)),
        d4=digits(4),
        d5=digits(5),
        d6=digits(6),
        n=rng.randrange(1, 999),
        w=rng.choice(_WORDS[:12]),
        W=rng.choice(_WORDS[:12]).upper(),
    )


def _sentence(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(2, 14)):
        if rng.random() < 0.25:
            parts.append(_fill(rng.choice(_IDS), rng))
        else:
            parts.append(rng.choice(_WORDS))
    return " ".join(parts) + rng.choice([".", ",", ";", "", ")", " 2019."])


def _block(rng: random.Random, i: int) -> str:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.choice(_HEADINGS)
    if kind == 1:  # a numbered or bulleted reference-like list
        style = rng.choice(["{}. ", "[{}] ", "({}) ", "- ", "• ", "{}) "])
        start = rng.choice([1, 1, 1, 3])
        gap = rng.choice(["\n", "\n\n"])
        return gap.join(
            (style.format(start + k) if "{}" in style else style)
            + f"Author {rng.choice('ABCDEFG')}, Other B. Title {k} {_sentence(rng)} 20{rng.randrange(10, 25)}."
            for k in range(rng.randrange(1, 9))
        )
    if kind == 2:  # author-year hanging entries
        return "\n".join(
            f"Smith{k}, J. A., and Lee, K. ({1990 + k}). {_sentence(rng)}\n    continued {_sentence(rng)}"
            for k in range(rng.randrange(1, 6))
        )
    if kind == 3:  # a PubMed-like citing block
        return f"{_sentence(rng)}\n\nAuthor A, Author B Journal. 2024; 6(1):1.\n\n" + _fill(
            "PMID: {d} PMC: {d}. DOI: 10.{r}/{w}.{d}.",
            rng,
        )
    if kind == 4:  # an identifiers box
        return _fill("DOI\n10.{r}/{w}.{d}\nPMID\n{d}", rng)
    if kind == 5:  # a page number, a running head, a caption (PDF furniture shapes)
        return rng.choice([str(i % 300), "Journal of Things 2020", "Figure 3: a caption", "iv"])
    if kind == 6:
        return "\t" + _sentence(rng) + "\r\n" + _sentence(rng) + "\r\n"
    if kind == 7:  # a long run-on line with many ids
        return " ".join(_fill(rng.choice(_IDS), rng) for _ in range(rng.randrange(5, 40)))
    return "\n".join(_sentence(rng) for _ in range(rng.randrange(1, 6)))


def stress_text(seed: int, size: int, *, subject_first: bool = False) -> str:
    """Synthetic text of about ``size`` characters from ``seed``."""
    rng = random.Random(seed)
    out: list[str] = []
    if subject_first:
        out.append(_fill("» Articles » PMID: {d}\n\n", rng))
    n, i = sum(map(len, out)), 0
    while n < size:
        block = _block(rng, i) + rng.choice(["\n\n", "\n", "\n\n\n", " \n \n", "\n\f\n"])
        out.append(block)
        n += len(block)
        i += 1
    return "".join(out)


def seed_pages(size_mb: float) -> str:
    """The bench's seed-shaped pages (``bench.bench_extract``), about ``size_mb`` MB."""
    from bench.bench_extract import _page, _templates

    rng, templates, pages, n = random.Random(7), _templates(), [], 0
    while n < size_mb * 1e6:
        page = _page(rng.choice(templates), rng) + "\n\n\n"
        pages.append(page)
        n += len(page.encode())
    return "".join(pages)


# (name, text, piece size or None for the default)
def stress_files() -> list[tuple[str, str, int | None]]:
    """The synthetic documents: name (its extension picks the reader), text, piece size."""
    return [
        ("stress-1.txt", stress_text(1, 400_000, subject_first=True), None),
        ("stress-2.md", stress_text(2, 200_000), None),
        ("stress-3-small-pieces.txt", stress_text(3, 120_000), 4096),
        ("stress-4-tiny-pieces.txt", stress_text(4, 30_000, subject_first=True), 512),
        ("seed-pages.txt", seed_pages(0.5), None),
        ("seed-pages-small-pieces.txt", seed_pages(0.1), 2048),
    ]


# --------------------------------------------------------------------------------------------
# Output as plain data
# --------------------------------------------------------------------------------------------


def snapshot(path: str, name: str) -> dict:
    """Everything ``extract_document(path)`` returns, as JSON data (``path`` shown as ``name``)."""
    doc = extract_document(path)
    assert doc.path == path
    assert all(type(m) is Mention and m.document == path for m in doc.mentions)
    assert all(type(r) is ReferenceEntry and r.document == path for r in doc.references)
    return {
        "name": name,
        "sha256": doc.sha256,
        "bytes": doc.bytes,
        "mentions": [
            [m.scheme, m.value, m.start, m.end, m.line, m.section, m.group, m.role]
            for m in doc.mentions
        ],
        "references": [
            [r.start, r.end, r.line, r.text, [list(i) for i in r.ids], r.section, r.label]
            for r in doc.references
        ],
        "problems": [
            [p.message.replace(path, "<path>"), p.fatal, p.skipped]
            for p in doc.problems
            if p.path == path
        ],
    }


@contextmanager
def piece_size(size: int | None) -> Iterator[None]:
    saved = base.PIECE_SIZE
    if size is not None:
        base.PIECE_SIZE = size
    try:
        yield
    finally:
        base.PIECE_SIZE = saved


def snapshots(folder: Path) -> Iterator[dict]:
    """Snapshots of the whole corpus; the stress files are written under ``folder``."""
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)  # mentions name the path as given: keep it relative and stable
    try:
        for rel in fixture_files():
            yield snapshot(rel, rel)
    finally:
        os.chdir(cwd)
    for name, text, size in stress_files():
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="")
        with piece_size(size):
            yield snapshot(str(path), f"stress/{name}")


def load_golden() -> dict[str, dict]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as f:
        return {d["name"]: d for d in json.load(f)}


def main(argv: list[str] | None = None) -> int:
    """``--write``: freeze the current extractor's output as the golden file."""
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the golden file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        docs = list(snapshots(Path(tmp)))
    n = sum(len(d["mentions"]) for d in docs)
    r = sum(len(d["references"]) for d in docs)
    print(f"{len(docs)} documents, {n} mentions, {r} reference entries", file=sys.stderr)
    if args.write:
        data = json.dumps(docs, ensure_ascii=False, separators=(",", ":"))
        with gzip.GzipFile(GOLDEN, "wb", mtime=0) as f:  # mtime 0: same bytes for same output
            f.write(data.encode("utf-8"))
        print(f"wrote {GOLDEN.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
