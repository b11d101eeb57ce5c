"""The fake's ``query.bibliographic`` engine: BM25 over each work's bibliographic words.

Crossref answers ``/works?query.bibliographic=<a reference string>`` from an Elasticsearch index
of each record's title, authors, container, year, volume, issue and pages, best first, each item
carrying its relevance ``score`` (CR-doc "Queries"; habanero's recorded answers show scores of
20-150). This engine does the same over the fake's catalog with Okapi BM25 (k1=1.2, b=0.75,
Elasticsearch's defaults), so a search returns the works that share the most rare words with the
string, the right one usually first, and near-duplicates (same authors, same journal) beside it:
what a matcher must validate, not trust.
"""

from __future__ import annotations

import math
import re
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
    """The words a search can find a work by."""
    parts = [strip_markup(w.title or ""), w.venue or "", w.venue_abbrev or ""]
    parts += [f"{a.family} {a.initials}" for a in w.authors]
    parts += [str(w.year or ""), w.volume or "", w.issue or "", (w.pages or "").replace("-", " ")]
    return fold_words(" ".join(parts))


class BibliographicIndex:
    """An inverted index of a catalog's Crossref works, built on first use."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._postings: dict[str, list[tuple[int, int]]] | None = None
        self._lengths: list[int] = []
        self._works: list[FakeWork] = []
        self._average = 1.0

    def _build(self) -> dict[str, list[tuple[int, int]]]:
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for w in self.catalog:
            if not w.doi:
                continue
            words = bibliographic_words(w)
            n = len(self._works)
            self._works.append(w)
            self._lengths.append(len(words))
            for word, tf in Counter(words).items():
                postings[word].append((n, tf))
        self._average = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        return dict(postings)

    def search(self, query: str, rows: int) -> list[tuple[FakeWork, float]]:
        """The ``rows`` best works for ``query`` with their scores, best first (ties: catalog
        order). Works that left Crossref (``in_crossref`` False) are skipped."""
        if self._postings is None:
            self._postings = self._build()
        total = len(self._works)
        scores: dict[int, float] = defaultdict(float)
        for word, qtf in Counter(fold_words(query)).items():
            posting = self._postings.get(word)
            if not posting:
                continue
            idf = math.log(1 + (total - len(posting) + 0.5) / (len(posting) + 0.5))
            for n, tf in posting:
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self._lengths[n] / self._average))
                scores[n] += idf * norm * min(qtf, 2)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        out = []
        for n, score in ranked:
            work = self._works[n]
            if work.in_crossref:
                out.append((work, round(score * 4.0, 6)))  # about Crossref's range
            if len(out) >= rows:
                break
        return out
