"""The fake's ``query.bibliographic`` engine: BM25 over the words Crossref indexes for it.

Crossref answers ``/works?query.bibliographic=<a reference string>`` from one Elasticsearch text
field per work, ``bibliographic-content-text`` (CrossRef/cayenne ``api/v1/fields.clj`` maps
"bibliographic" to it; ``elastic/convert.clj``, ``item-bibliographic-content``, fills it). That
field holds, as words: the issued and print years, issue, volume, first and last page, ISSNs and
ISBNs, every title (long, short, original, subtitle), every container title (full *and* short,
e.g. "Proceedings of the National Academy of Sciences" and "Proc Natl Acad Sci USA"), and each
contributor as initials and family name ("W C Peterson"). So the ranking is field-aware in
what it reads (a string's journal abbreviation finds a work only through a short title the
publisher deposited; its numbers meet the year, volume and pages) but one bag of words in how it
scores: nothing knows that "18" in the string is a volume.

This engine builds the same bag for each catalog work (``bibliographic_words``) and ranks with
Okapi BM25 (k1=1.2, b=0.75, Elasticsearch's defaults), best first, each item carrying its
``score``; so near-duplicates (same authors, same journal and volume) come back beside the right
work: what a matcher must validate, not trust. Two liberties, both documented in
demo/fakeapi/README.md: accents are folded ("Müller" finds "Muller"), and a catalog of a few
thousand works gives rarer words more weight than Crossref's 150 million do.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict

from demo.fakeapi.catalog import Catalog, FakeWork, strip_markup

K1, B = 1.2, 0.75
_NOT_WORD = re.compile(r"[^\w]+|_+")


def fold_words(text: str) -> list[str]:
    """Lower-cased, accent-free words of ``text`` (letters of any script, digits)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", stripped.casefold()).split()


def bibliographic_words(w: FakeWork) -> list[str]:
    """The words a search can find a work by: cayenne's ``item-bibliographic-content`` (years,
    issue, volume, first and last page, ISSNs, title, each distinct container title, each
    author as initials and family name)."""
    first, _, last = (w.pages or "").partition("-")
    parts = [str(w.year or ""), str(w.year or ""), w.issue or "", w.volume or "", first, last]
    parts += [i for i in w.issns if i]
    parts += [strip_markup(w.title or "")]
    parts += list(dict.fromkeys(v for v in (w.venue, w.venue_abbrev) if v))
    parts += [f"{_initials(a.given)} {a.family}" for a in w.authors]
    return fold_words(" ".join(parts))


def _initials(given: str) -> str:
    """cayenne's ``contributor-initials``: the first letter of each part of the given name
    ("Sarah A." -> "S A"); a record that holds only initials run together ("SA", as PLOS prints
    them) stands for one letter each."""
    parts = [p for p in re.split(r"[\s\-.]+", given) if p]
    return " ".join(" ".join(p) if p.isupper() and len(p) <= 3 else p[0] for p in parts)


class BibliographicIndex:
    """An inverted index of a catalog's Crossref works, built on first use.

    Each posting holds its term's BM25 weight for that work (``tf * (k1 + 1) / (tf + k1 * (1 - b
    + b * length / average))``), computed once at build time with the same expression a search
    used to evaluate per query, so scores are bit-for-bit those of the per-query form.

    The server answers each request in a thread of its own, so the first searches arrive
    together: the build runs under a lock, once. (Without it every search that came before the
    first build finished built its own index into the shared work list: at the 41,766-work
    catalog of a 100,000-id ``bench memory``, ~310 searches arriving at once took ~900 CPU s,
    and their works' count, hence the scores, depended on how many builds had run.)
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._postings: dict[str, list[tuple[int, float]]] | None = None
        self._works: list[FakeWork] = []
        self._building = threading.Lock()

    def _ready(self) -> dict[str, list[tuple[int, float]]]:
        """The postings, built by the first caller while later ones wait."""
        with self._building:
            if self._postings is None:
                self._postings = self._build()
            return self._postings

    def _build(self) -> dict[str, list[tuple[int, float]]]:
        counts: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths: list[int] = []
        for w in self.catalog:
            if not w.doi:
                continue
            words = bibliographic_words(w)
            n = len(self._works)
            self._works.append(w)
            lengths.append(len(words))
            for word, tf in Counter(words).items():
                counts[word].append((n, tf))
        average = (sum(lengths) / len(lengths)) if lengths else 1.0
        return {
            word: [
                (n, tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[n] / average)))
                for n, tf in posting
            ]
            for word, posting in counts.items()
        }

    def search(self, query: str, rows: int) -> list[tuple[FakeWork, float]]:
        """The ``rows`` best works for ``query`` with their scores, best first (ties: catalog
        order). Works that left Crossref (``in_crossref`` False) are skipped."""
        postings = self._postings if self._postings is not None else self._ready()
        total = len(self._works)
        scores: dict[int, float] = defaultdict(float)
        for word, qtf in Counter(fold_words(query)).items():
            posting = postings.get(word)
            if not posting:
                continue
            idf = math.log(1 + (total - len(posting) + 0.5) / (len(posting) + 0.5))
            weight = min(qtf, 2)
            for n, norm in posting:
                scores[n] += idf * norm * weight
        # in_crossref is read at search time: a test may take a work out after the build
        found = ((n, score) for n, score in scores.items() if self._works[n].in_crossref)
        best = heapq.nsmallest(rows, found, key=lambda kv: (-kv[1], kv[0]))
        return [(self._works[n], round(score * 4.0, 6)) for n, score in best]  # ~Crossref's range
