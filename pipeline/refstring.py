"""One reference string as matching reads it: folded text, its hash, its numbers, and triage.

A reference string is compared with candidate records field by field (``pipeline.matching``),
never parsed into fields first: styles differ too much (Vancouver, APA, Chicago, IEEE, ACS
without titles...) for a parser to be trusted, while "does this candidate's title, first author,
year, volume and first page appear in the string?" reads the same in every style. That is also
how Crossref's own search-based matcher with validation works (CrossRef/
reference-matching-evaluation, ``matching/cr_search_validation_matcher.py``).

Folding: NFKD, combining marks dropped, case-folded, every run of characters that is neither a
letter nor a digit becomes one space. Letters of any script are kept, so a Japanese or Cyrillic
reference still has words to compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from pipeline.records import fold_text, match_key

__all__ = ["RefString", "fold", "text_hash", "triage", "MAX_CHARS", "MIN_CHARS"]

# A real reference rarely passes 1,000 characters (a 50-author consortium list does); one over
# MAX_CHARS is a paragraph the segmenter took for an entry, and a search for it would only match
# noise. Under MIN_CHARS there is nothing to match ("Ibid.", "Id. at 4", a lone year).
MAX_CHARS = 2000
MIN_CHARS = 12
MIN_WORDS = 3
# The query sent to Crossref: the start of the string, where authors, title and journal are.
MAX_QUERY_CHARS = 1000

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_DOI_IN_TEXT = re.compile(r"\b(?:doi:\s*)?10\.\d{4,9}/\S+", re.IGNORECASE)
_BACKREF = re.compile(
    r"^\s*(?:ibid(?:em)?|id|op\.?\s*cit|loc\.?\s*cit|ebd|ebenda|idem)\b[\s.,;:]*"
    r"(?:(?:at|p|pp|s|page|pages)?\.?\s*[\divxlc\-–, ]*)?\.?\s*$",
    re.IGNORECASE,
)
# Digit runs; a page range's abbreviated end ("1425-37") is completed to "1437".
_NUMBER = re.compile(r"(?<![\d])\d+(?![\d])")
_RANGE = re.compile(r"(?<!\d)(\d+)\s*[-\u2010-\u2015\u2212]\s*(\d+)(?!\d)")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
# The list's own number before an entry ("[12]", "(3)", "12.", "1 G. Merdrignac", "1The Lancet"):
# not bibliographic, and a "1" would pass for a first page or an issue. A year-like number
# ("2005. Title") is kept: a list numbered past 1500 is rarer than a string opening on its year.
_LABEL = re.compile(
    r"^\s*(?:\[\s*\d{1,4}\s*\]|\(\s*\d{1,4}\s*\)|(?!1[5-9]\d\d|20\d\d)\d{1,4}\.?(?=\s*[^\W\d]))"
)


fold = fold_text  # re-exported: matching's name for it
text_hash = match_key  # the string's key in reference_matches


def triage(text: str) -> str | None:
    """Why ``text`` is not worth a search (one line), or None when it is.

    ``''`` -> "empty"; ``'Ibid., p. 4.'`` -> "a back-reference (Ibid.), not a reference";
    ``'https://example.org/x'`` -> "only a URL"; a 5,000-character paragraph -> "too long ...".
    """
    stripped = text.strip()
    if not stripped:
        return "empty"
    if len(stripped) > MAX_CHARS:
        return f"too long for one reference ({len(stripped)} characters; a paragraph?)"
    if _BACKREF.match(stripped):
        return "a back-reference (Ibid.), not a reference"
    rest = _DOI_IN_TEXT.sub(" ", _URL.sub(" ", stripped))
    words = [w for w in fold(rest).split() if not w.isdigit()]
    if not words and _URL.search(stripped):
        return "only a URL"
    # "Helicobacter 12, 274 (2007)." names its work by journal, volume, page and year: three
    # numbers make up for the words a title-less style leaves out
    numbers = len(RefString(stripped).numbers)
    if len(stripped) < MIN_CHARS or not words or (len(words) < MIN_WORDS and numbers < 3):
        return "too short to identify a work"
    return None


@dataclass(frozen=True)
class RefString:
    """A reference string and the facts candidates are checked against (computed once)."""

    text: str

    @cached_property
    def folded(self) -> str:
        """The folded text with URLs and DOIs removed (their digits are not bibliographic)."""
        return fold(_DOI_IN_TEXT.sub(" ", _URL.sub(" ", self.text)))

    @cached_property
    def tokens(self) -> list[str]:
        return self.folded.split()

    @cached_property
    def token_set(self) -> frozenset[str]:
        return frozenset(self.tokens)

    @cached_property
    def head(self) -> str:
        """Where authors are printed: the first 40% of the folded text (at least 60 characters)."""
        return self.folded[: max(60, int(len(self.folded) * 0.4))]

    @cached_property
    def numbers(self) -> tuple[str, ...]:
        """Every digit run, leading zeros dropped, page-range ends completed: "1425-37" gives
        1425 and 1437."""
        text = self._bibliographic_text
        found = [str(int(n)) for n in _NUMBER.findall(text)]
        for first, last in _RANGE.findall(text):
            if len(last) < len(first) and int(first[-len(last) :]) <= int(last):
                full = str(int(first[: len(first) - len(last)] + last))
                if str(int(last)) in found:
                    found.remove(str(int(last)))
                found.append(full)
        return tuple(found)

    @cached_property
    def years(self) -> frozenset[int]:
        return frozenset(int(y) for y in _YEAR.findall(self._bibliographic_text))

    @cached_property
    def _bibliographic_text(self) -> str:
        """The text whose numbers are bibliographic: no URL, DOI or list label."""
        return _LABEL.sub(" ", _DOI_IN_TEXT.sub(" ", _URL.sub(" ", self.text)), count=1)

    @property
    def query(self) -> str:
        """What is sent as ``query.bibliographic``: the string on one line, URLs and DOIs
        removed, at most MAX_QUERY_CHARS."""
        one_line = " ".join(_DOI_IN_TEXT.sub(" ", _URL.sub(" ", self.text)).split())
        return one_line[:MAX_QUERY_CHARS]
