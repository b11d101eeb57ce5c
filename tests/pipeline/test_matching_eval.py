"""The evidence behind the matching rule: precision and recall on real reference strings.

``tests/fixtures/matching`` (built by its ``build_eval.py``; origins in tests/fixtures/README):
3,333 catalog records (real metadata: Crossref records rendered by CrossRef/
reference-matching-evaluation, works cited in PLOS articles, near-duplicates Crossref's own
search returned for them and every one of them sharing a target's first author and journal) and
3,250 queries: strings whose work is in the catalog, strings whose work was held out of it,
books and reports with no DOI, and real strings from Crossref deposits whose work is absent.
Each query goes through the fake's ``query.bibliographic`` engine (rows=5, as the client asks),
the real item parser and ``pipeline.matching.decide``.

Families: strings that print titles (APA, MLA, Chicago, noisy APA), strings that print none
(ACS, AIP, noisy AIP, Elsevier renderings and real PLOS references with the title removed),
real PLOS references as printed, and strings that name no work of the catalog. Every query falls
in the *tuning* or the *held-out* half by a hash of its work (both renderings of a work in the
same half): the thresholds were set looking at the tuning half only (README "Reference
matching"); the held-out half is the honest figure.

Run with ``-s`` to see the tables the README quotes.
"""

from __future__ import annotations

import collections
import hashlib
import json
import pathlib

import pytest

from demo.fakeapi.crossref import _select, work_message
from demo.fakeapi.refcatalog import load_catalog
from demo.fakeapi.search import BibliographicIndex
from pipeline.matching import decide, evidence
from pipeline.refstring import RefString, triage
from pipeline.sources.crossref_search import ROWS, SELECT, candidate_from_item

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "matching"
FAMILIES = {
    "titles printed (APA, MLA, Chicago, noisy APA)": {
        "csl:apa", "csl:modern-language-association", "csl:chicago-author-date",
        "csl:apa-noise",
    },
    "no titles (ACS, AIP, noisy AIP, Elsevier)": {
        "csl:american-chemical-society", "csl:american-institute-of-physics",
        "csl:american-institute-of-physics-noise", "csl:elsevier-without-titles",
    },
    "no titles (real PLOS references, title removed)": {"plos-no-title"},
    "real PLOS references": {"plos"},
    "no work in the catalog": {
        "plos-book-no-doi", "real-no-doi", "real-absent", "plos-held-out", "csl-held-out",
        "plos-no-title-held-out",
    },
}  # fmt: skip
UNTITLED = FAMILIES["no titles (ACS, AIP, noisy AIP, Elsevier)"] | {"plos-no-title"}
PINNED = "no titles, volume and first page printed"


def half(q: dict) -> str:
    """``tune`` or ``held-out``, by a hash of the query's work."""
    key = q["doi"] or q.get("absent") or q["text"]
    return "tune" if int(hashlib.md5(key.encode()).hexdigest(), 16) % 2 == 0 else "held-out"


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str], collections.Counter]:
    """Counts (n, tp, fp, fn) by (family, half), ``all`` included."""
    catalog = load_catalog(FIXTURES / "catalog.jsonl")
    index = BibliographicIndex(catalog)
    by_doi = {w.doi: w for w in catalog if w.doi}
    fields = SELECT.split(",")
    with open(FIXTURES / "queries.jsonl", encoding="utf-8") as fh:
        queries = [json.loads(line) for line in fh]
    counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(
        collections.Counter
    )
    for q in queries:
        doi = _decide(q["text"], index, catalog, fields)
        outcome = "tp" if doi and doi == q["doi"] else "fp" if doi else "fn" if q["doi"] else ""
        families = [f for f, sets in FAMILIES.items() if q["set"] in sets]
        if q["set"] in UNTITLED and _prints_volume_and_page(q, by_doi, catalog, fields):
            families.append(PINNED)
        for family in [*families, "all"]:
            for h in (half(q), "both"):
                counts[family, h]["n"] += 1
                counts[family, h][outcome] += 1
    _print_table(counts)
    return counts


def _items(works, catalog, fields) -> list:
    items = []
    for work, score in works:
        message = work_message(work, catalog)
        message["score"] = score
        items.append(_select(message, fields))
    return [c for c in map(candidate_from_item, items) if c is not None]


def _decide(text, index, catalog, fields) -> str | None:
    if triage(text) is not None:
        return None
    ref = RefString(text)
    decision = decide(ref, _items(index.search(ref.query, ROWS), catalog, fields))
    return decision.winner.doi if decision.winner else None


def _prints_volume_and_page(q, by_doi, catalog, fields) -> bool:
    """Whether the string prints its work's volume and first page (as whole numbers)."""
    (target,) = _items([(by_doi[q["doi"]], None)], catalog, fields)
    ev = evidence(RefString(q["text"]), target)
    return ev.volume == 1.0 and ev.page == 1.0


def _rates(c: collections.Counter) -> tuple[float, float]:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def _print_table(counts) -> None:
    print("\n| strings | half | n | right | wrong | missed | precision | recall |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for family in [*FAMILIES, PINNED, "all"]:
        for h in ("tune", "held-out", "both"):
            c = counts[family, h]
            p, r = _rates(c)
            print(f"| {family} | {h} | {c['n']} | {c['tp']} | {c['fp']} | {c['fn']} | "
                  f"{p:.3f} | {r:.3f} |")  # fmt: skip


def _family(outcomes, family: str, h: str = "both") -> tuple[float, float]:
    return _rates(outcomes[family, h])


@pytest.mark.slow
@pytest.mark.parametrize("h", ["tune", "held-out"])
def test_precision_over_every_query_is_at_least_0_99(outcomes, h):
    assert _family(outcomes, "all", h)[0] >= 0.99


@pytest.mark.slow
def test_real_plos_references_are_found(outcomes):
    precision, recall = _family(outcomes, "real PLOS references")
    assert precision == 1.0 and recall >= 0.99


@pytest.mark.slow
@pytest.mark.parametrize("h", ["tune", "held-out"])
def test_recall_on_styles_that_print_a_title_is_at_least_0_93(outcomes, h):
    # measured 0.936 (tuning half) and 0.961 (held-out); 0.959 before the same-author
    # same-journal distractors joined the catalog: half the misses since are one article under
    # two DOIs, rightly ambiguous, the rest OCR noise and works with no author, volume or page
    precision, recall = _family(outcomes, "titles printed (APA, MLA, Chicago, noisy APA)", h)
    assert precision >= 0.99 and recall >= 0.93


@pytest.mark.slow
@pytest.mark.parametrize("h", ["tune", "held-out"])
def test_title_less_references_that_print_volume_and_first_page_are_found(outcomes, h):
    precision, recall = _family(outcomes, PINNED, h)
    assert precision >= 0.99 and recall >= 0.95


@pytest.mark.slow
def test_real_plos_references_without_their_titles_are_found(outcomes):
    precision, recall = _family(outcomes, "no titles (real PLOS references, title removed)")
    assert precision >= 0.99 and recall >= 0.95


@pytest.mark.slow
def test_title_less_renderings_of_any_crossref_record_reach_what_they_print(outcomes):
    # measured 0.714 (0.646 before): a quarter of these strings print no page or no author
    # (books, proceedings, records without pages: "Oxford Music Online 2003."), cannot be
    # pinned down and stay unmatched, so 0.95 is out of reach for the family as a whole
    precision, recall = _family(outcomes, "no titles (ACS, AIP, noisy AIP, Elsevier)")
    assert precision >= 0.99 and recall >= 0.70


@pytest.mark.slow
def test_books_reports_and_absent_works_are_left_unmatched(outcomes):
    none = outcomes["no work in the catalog", "both"]
    assert none["n"] == 1050 and none["tp"] == 0
    # the few "matches" are the held-out work under a second DOI (see README)
    assert none["fp"] <= 0.005 * none["n"]
