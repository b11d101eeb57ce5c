"""Synthetic catalogs for benchmarks: n works with consistent ids, deterministic per ``seed``.

Id ranges never collide with the seed works' ids, so ``Catalog(seed_catalog().works +
generate_catalog(n).works)`` is valid. Coverage mirrors real life: about 60% of works are in PMC,
8% are not in PubMed at all, 3% have no DOI (so Crossref does not know them); every 50th DOI is a
SICI-style DOI with ``<>();`` to exercise encoding.
"""

from __future__ import annotations

import random

from demo.fakeapi.catalog import Author, Catalog, CitedBy, FakeWork, Institution
from demo.fakeapi.ids import issn, orcid
from demo.fakeapi.seeds import _spread, derive_citations

_FAMILIES = [
    "Smith", "Müller", "García", "Nguyen", "Kowalski", "Rossi", "Tanaka", "O'Brien", "Dubois",
    "Andersson", "Silva", "Cohen", "Novák", "Yılmaz", "Papadopoulos", "van Dijk", "Kim", "Patel",
    "Østergaard", "Ivanova",
]  # fmt: skip
_GIVENS = [
    "Anna", "José", "Wei", "Fatima", "Lars", "Chloé", "Hiroshi", "Maria", "Björn", "Priya",
    "John P.", "Zoë", "Mehmet", "Eleni", "Sjoerd", "Ji-woo",
]  # fmt: skip
_WORDS = (
    "cell therapy tumour immune response kinase inhibitor outcome cohort trial receptor "
    "signalling toxicity relapse survival marrow lymphoma leukemia cytokine model protocol "
    "mechanism resistance biomarker expression pathway patient dose remission"
).split()
_LABELS = ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS")
_TYPES = ["article"] * 16 + ["review"] * 3 + ["letter"]
_LICENSES = [None, None, "cc-by", "cc-by-nc", "cc-by-nc-nd"]


def _venues(rng: random.Random, count: int = 40) -> list[tuple[str, str, str, str, str]]:
    """(name, abbrev, issn_l, electronic issn, OpenAlex S id) for ``count`` fake journals."""
    out = []
    for i in range(count):
        topic = rng.choice(_WORDS).title()
        out.append(
            (
                f"Journal of {topic} Research {i}",
                f"J {topic[:4]} Res {i}",
                issn(1_000_000 + i * 7919),
                issn(2_000_000 + i * 7919),
                f"S{9_000_000 + i}",
            )
        )
    return out


def _institutions(count: int = 25) -> list[Institution]:
    return [
        Institution(
            f"Institute of Fake Studies {i}", f"0{i:02d}fake{i:02d}", f"I{8_000_000 + i}", "US"
        )
        for i in range(count)
    ]


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choices(_WORDS, k=words))
    return text[0].upper() + text[1:] + "."


def _title(rng: random.Random, i: int) -> str:
    title = _sentence(rng, rng.randint(5, 12))[:-1]
    if i % 7 == 0:  # PubMed keeps inline markup; the other sources strip it
        title = f"<i>In vivo</i> {title[0].lower()}{title[1:]}"
    if i % 11 == 0:
        title += " with IL-1<sup>+</sup> cells"
    return title


def _abstract(rng: random.Random, i: int) -> tuple[str | None, tuple[str, ...]]:
    if i % 10 == 9:
        return None, ()
    paragraphs = [_sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(2, 4))]
    if i % 3 == 0:  # structured abstract
        paragraphs = paragraphs[:4] + [_sentence(rng, 8)] * (4 - len(paragraphs))
        return "\n".join(paragraphs), _LABELS
    return "\n".join(paragraphs), ()


def _author_pool(rng: random.Random, insts: list[Institution], size: int = 4000) -> list[Author]:
    """Authors shared across works (as in real life), each with a stable id and affiliation."""
    pool = []
    for k in range(size):
        inst = insts[k % len(insts)]
        pool.append(
            Author(
                family=rng.choice(_FAMILIES),
                given=rng.choice(_GIVENS),
                orcid=orcid(30_000_000 + k) if k % 5 < 2 else None,
                affiliation=f"{inst.name}, Faketown",
                institution=inst,
                openalex_id=f"A59{k:08d}",
            )
        )
    return pool


def _doi(seed: int, i: int) -> str:
    if i % 50 == 25:  # SICI-style DOIs carry <>();: characters clients must encode
        return f"10.1002/(sici)1097-0258({seed}){i}<107::aid-sim{i}>3.0.co;2-y"
    return f"10.{5500 + i % 40}/fake.{seed}.{i:07d}"


def _ids(seed: int, i: int) -> tuple[str | None, str | None, str | None]:
    """(doi, pmid, pmcid) for work ``i``, with the documented coverage gaps."""
    s = seed % 10
    doi = None if i % 33 == 32 else _doi(seed, i)
    in_pubmed = i % 12 != 11
    pmid = str(10_000_000 + s * 1_000_000 + i) if in_pubmed else None
    pmcid = f"PMC{20_000_000 + s * 1_000_000 + i}" if in_pubmed and i % 5 < 3 else None
    return doi, pmid, pmcid


def _synthetic(rng: random.Random, seed: int, i: int, venues, authors) -> FakeWork:
    doi, pmid, pmcid = _ids(seed, i)
    venue, abbrev, issn_l, eissn, source_id = venues[i % len(venues)]
    year = rng.randint(2000, 2025)
    abstract, labels = _abstract(rng, i)
    cited = int(rng.paretovariate(1.2)) - 1
    work = FakeWork(
        openalex_id=f"W6{seed % 100:02d}{i:07d}",
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        title=_title(rng, i),
        year=year,
        date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        venue=venue,
        venue_abbrev=abbrev,
        issn_l=issn_l,
        issns=(issn_l, eissn),
        publisher=f"Fake Press {i % 5}",
        source_id=source_id,
        authors=rng.sample(authors, rng.randint(1, 7)),
        abstract=abstract,
        abstract_labels=labels,
        type=rng.choice(_TYPES),
        volume=str(year - 1990),
        issue=str(rng.randint(1, 12)),
        pages=f"{(p := rng.randint(1, 900))}-{p + rng.randint(3, 15)}",
        references=[f"W6{seed % 100:02d}{j:07d}" for j in _earlier(rng, i)],
        cited_by=CitedBy(openalex=cited, crossref=cited * 4 // 5),
        license=rng.choice(_LICENSES),
        in_crossref=doi is not None,
        in_pubmed=pmid is not None,
    )
    work.counts_by_year = _spread(cited, year)
    if i % 100 == 50:
        work.merged_from = [f"W7{seed % 100:02d}{i:07d}"]
    if i % 5 == 0:
        work.funders = [("Fake Science Foundation", "10.13039/501100000000", f"FSF-{i}")]
    return work


def _earlier(rng: random.Random, i: int) -> list[int]:
    """Up to 12 distinct earlier works this one cites (citations only point backwards)."""
    if i == 0:
        return []
    return sorted(rng.sample(range(i), min(i, rng.randint(0, 12))))


def generate_catalog(n: int, seed: int = 0, *, missing_rate: float = 0.0) -> Catalog:
    """``n`` synthetic works; the same ``(n, seed)`` always yields the same catalog.

    ``missing_rate`` (0..1): that share of works is additionally unknown to one source picked at
    random, for benchmarks of partial coverage.
    """
    rng = random.Random(seed)
    venues = _venues(rng)
    authors = _author_pool(rng, _institutions())
    works = [_synthetic(rng, seed, i, venues, authors) for i in range(n)]
    derive_citations(works)
    for work in works:
        if rng.random() < missing_rate:
            setattr(work, f"in_{rng.choice(['openalex', 'crossref', 'pubmed'])}", False)
    return Catalog(works)
