"""Does a candidate record name the work a reference string cites? The decision, pure.

A search engine's relevance score says how many words two texts share, not whether they name
one work: a book review carries the book's title, a correction its article's title, a Dryad
package "Data from: <title>", a paper of the same authors in the same year most of the words.
So every candidate is *validated* against the string, field by field (``evidence``), and wins
only when it is clearly the best (``decide``).

Evidence, each field of the candidate looked for in the reference string (``RefString``):

- title: fuzzy alignment of the candidate's title (or its main title, before a colon) inside
  the string (RapidFuzz ``partial_ratio``, 0..1); a long title counts double;
- first author: the family name among the string's first words (fuzzy for OCR and accents);
- year: exact, or +/-1 (online-first vs print); a year in the string that is neither is a
  contradiction and vetoes the candidate;
- volume, first page (or article number): as whole numbers of the string;
- container (journal, book): its full or short name, or an abbreviation of it ("Proc Natl Acad
  Sci" for "Proceedings of the National Academy of Sciences");
- numbers of the string no field explains (another volume, other pages) count against it.

Rule (``is_valid``): no veto, and support >= SUPPORT_NEEDED (title 2, each other field 1, a year
off by one 0.5). Without a title in the string (styles that print none) the fields it does
print must name one work (``pins_down``: volume + first page + year + first author, and the
variants listed there). A notice about another work
(correction, erratum, retraction, reply, comment, "Data from:") is valid only when the string
says so too.

Decision (``decide``): the valid candidate with the highest ``similarity`` (a title counting
only above TITLE_NOISE) wins when it leads
the next valid one by MARGIN; two valid candidates within MARGIN are ``ambiguous`` (the same
article registered twice, a preprint and its journal version); none is ``unmatched``.

The thresholds and their evidence: README "Reference matching", measured by
``tests/pipeline/test_matching_eval.py`` on real strings (see tests/fixtures/README).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.records import Candidate
from pipeline.refstring import RefString, fold

__all__ = [
    "Evidence",
    "evidence",
    "is_valid",
    "decide",
    "Decision",
    "pins_down",
    "TITLE_MIN",
    "MARGIN",
    "SUPPORT_NEEDED",
]

TITLE_MIN = 0.90  # title similarity that counts as "the title is printed here"
TITLE_NOISE = 0.75  # below it, a title's alignment with the string is chance
LONG_TITLE_CHARS = 20  # a title at least this long (folded) counts double
AUTHOR_MIN = 0.88  # fuzzy family-name match in the string's head
AUTHOR_FIELD = 0.99  # the first author found, exactly or fuzzily (OCR, accents)
CONTAINER_MIN = 0.90
LONG_CONTAINER_CHARS = 12  # a shorter name ("Cell", "Lancet") must be printed as whole words
SUPPORT_NEEDED = 4.0
MARGIN = 0.08  # similarity the winner must lead the next valid candidate by

# Similarity weights (sum 1.0): title first, then the fields that tell two papers of one author
# apart. Unexplained numbers cost UNEXPLAINED_COST each, at most UNEXPLAINED_CAP in all.
WEIGHTS = {
    "title": 0.40,
    "author": 0.15,
    "year": 0.12,
    "volume": 0.10,
    "page": 0.13,
    "container": 0.10,
}
UNEXPLAINED_COST = 0.04
UNEXPLAINED_CAP = 0.16

# Titles of notices about another work: valid only when the string names the notice too.
_NOTICE = re.compile(
    r"^\s*(?:correction|erratum|errata|corrigendum|addendum|retraction|retracted|"
    r"expression of concern|reply|response|comment|commentary on|data from|"
    r"author correction|publisher correction|notice of retraction)\b",
    re.IGNORECASE,
)
# Scripts written without spaces between words (CJK, kana, hangul): a name is a substring.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Words a cited journal name may leave out (NLM and ISO 4 drop articles, prepositions and
# conjunctions; "Journal", "Series", "Section" are often dropped too).
_OPTIONAL = frozenset(
    "of the and for in on a an de la le les des du der die das und fur et journal series section"
    " part".split()
)
_REVIEW = re.compile(r"\(review\)\s*$|^\s*review of\b|^\s*book review\b", re.IGNORECASE)
_WHOLE_BOOKS = frozenset({"book", "edited-book", "monograph", "reference-book", "book-set"})
_PAGE_RANGE = re.compile(r"(?<![\d/.])\d{1,5}\s*[-\u2010-\u2015]\s*\d{1,5}(?![\d/])")
# Crossref types that are never what a reference means by the work (a figure, an issue, a review
# report): valid only by an override.
_NEVER_TYPES = frozenset({"component", "journal-issue", "peer-review", "journal-volume"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """How a candidate's fields show up in one reference string (each 0..1, None = unknown)."""

    title: float | None
    title_long: bool
    author: float | None
    year: float | None  # 1 exact, 0.5 off by one, 0 absent from the string, -1 contradicted
    volume: float | None
    page: float | None
    container: float | None
    unexplained: int  # numbers of the string no field of the candidate accounts for
    veto: str | None  # why the candidate cannot be the work, whatever else agrees

    @property
    def support(self) -> float:
        """Independent agreements: a long title 2, any other field 1, a year off by one 0.5."""
        total = 0.0
        if self.title is not None and self.title >= TITLE_MIN:
            total += 2.0 if self.title_long else 1.0
        for value in (self.author, self.volume, self.page, self.container):
            if value is not None and value >= 1.0:
                total += 1.0
        if self.year is not None and self.year > 0:
            total += self.year
        return total

    @property
    def similarity(self) -> float:
        """A 0..1 score for ranking candidates: weighted agreement minus unexplained numbers."""
        parts = {
            "title": _title_credit(self.title),
            "author": self.author,
            "year": max(self.year, 0.0) if self.year is not None else None,
            "volume": self.volume,
            "page": self.page,
            "container": self.container,
        }
        got = sum(WEIGHTS[k] * (v or 0.0) for k, v in parts.items())
        cost = min(self.unexplained * UNEXPLAINED_COST, UNEXPLAINED_CAP)
        return max(0.0, min(1.0, got - cost))


def _title_credit(title: float | None) -> float | None:
    """A title's share of the similarity: none below TITLE_NOISE (any title aligns that well
    with some stretch of a string that does not print it: 0.3-0.75 measured on the title-less
    styles), full from TITLE_MIN, linear between."""
    if title is None:
        return None
    return max(0.0, min(1.0, (title - TITLE_NOISE) / (TITLE_MIN - TITLE_NOISE)))


def evidence(ref: RefString, cand: Candidate) -> Evidence:
    """Compare one candidate with one reference string (see the module docstring)."""
    numbers = list(ref.numbers)
    title, long = _title(ref, cand)
    year = _year(ref, cand, numbers)
    volume = _number_field(cand.volume, numbers)
    page = _page(ref, cand, numbers)
    if cand.issue:
        _number_field(cand.issue, numbers)  # an issue printed explains its number
    _title_numbers(cand, numbers)
    veto = _veto(ref, cand, year, volume, page, len(numbers))
    return Evidence(
        title=title,
        title_long=long,
        author=_author(ref, cand),
        year=year,
        volume=volume,
        page=page,
        container=_container(ref, cand),
        unexplained=len(numbers),
        veto=veto,
    )


def _veto(
    ref: RefString,
    cand: Candidate,
    year: float | None,
    volume: float | None,
    page: float | None,
    unexplained: int,
) -> str | None:
    """Why the candidate cannot be the cited work whatever else agrees, or None."""
    if year is not None and year < 0:
        return f"year {cand.year} is not the string's ({', '.join(map(str, sorted(ref.years)))})"
    if (notice := _notice(cand)) and notice not in ref.folded and _names_original(ref, cand):
        return f"a notice ({notice}) about another work"
    if cand.type in _NEVER_TYPES:
        return f"a {cand.type}, not a work a reference cites"
    if page == 0.0 and unexplained:
        return f"its first page ({cand.page}) is not the string's"
    if volume == 0.0 and page is None and unexplained >= 2:
        return f"its volume ({cand.volume}) is not the string's"
    if cand.type in _WHOLE_BOOKS and _PAGE_RANGE.search(ref.text):
        return "a whole book, where the string cites pages of a part"
    return None


def _names_original(ref: RefString, cand: Candidate) -> bool:
    """Whether the string prints the title of the work a notice is about (the notice's title
    without its "Correction:" / "(review)" words): then it cites that work, not the notice."""
    rest = _REVIEW.sub(" ", _NOTICE.sub(" ", cand.title or "", count=1)).strip(" :,.")
    if len(fold(rest)) < 12:
        return False
    similarity, _ = _title(ref, Candidate(source=cand.source, doi=cand.doi, title=rest))
    return similarity is not None and similarity >= TITLE_MIN


def _notice(cand: Candidate) -> str | None:
    title = cand.title or ""
    if _REVIEW.search(title):
        return "review"
    m = _NOTICE.match(title)
    return fold(m.group()) if m else None


def is_valid(ev: Evidence, ref: RefString) -> bool:
    """Whether the evidence is enough to say the candidate is the cited work (module docstring)."""
    if ev.veto is not None:
        return False
    title_ok = ev.title is not None and ev.title >= TITLE_MIN
    if title_ok:
        # a candidate whose authors are all absent from the string needs one more agreement
        needed = SUPPORT_NEEDED + (1.0 if ev.author == 0.0 else 0.0)
        return ev.support >= needed and (_ok(ev.author) or _ok(ev.year, 0.5))
    return pins_down(ev)


def pins_down(ev: Evidence) -> bool:
    """Without a title in the string (ACS, AIP, Vancouver-without-titles...), whether the
    fields it prints name one work:

    - volume + first page + year (+/-1) + the first author: all but unique;
    - volume + first page + year (+/-1) + the journal, for a work that names no author (an
      editorial, a news item): where it starts in which volume of which journal is all but
      unique too (what ECitMatch and OpenURL resolvers match on). A candidate whose authors the
      string does not print is another work on that page (an editorial beside the article);
    - first author + year + first page + journal: a work with no volume (a chapter, a
      proceedings paper, an article number);
    - volume + first page + first author + journal, the year unreadable ("(2 012)"): the year
      is the least telling of the five.

    Not enough: author + year + volume + journal without a page, which Crossref's SBMV
    accepts (support 3). Measured, it links a string whose work is not in the catalog to the
    same author's other paper in that volume (an abstract journal prints hundreds a volume).
    """
    author = _ok(ev.author, AUTHOR_FIELD)
    if _ok(ev.volume) and _ok(ev.page):
        if _ok(ev.year, 0.5):
            return author or (ev.author is None and _ok(ev.container))
        return author and _ok(ev.container)  # its year lost to OCR noise: "(2 012)"
    return author and _ok(ev.year) and _ok(ev.page) and _ok(ev.container)


def _ok(value: float | None, at_least: float = 1.0) -> bool:
    return value is not None and value >= at_least


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict over a candidate list: status, winner (if any), every candidate scored."""

    status: str  # matched | ambiguous | unmatched
    winner: Candidate | None
    score: float | None
    scored: tuple[tuple[Candidate, float, bool], ...]  # (candidate, similarity, valid), best first
    reason: str | None = None


def decide(ref: RefString, candidates: Sequence[Candidate]) -> Decision:
    """Validate every candidate and pick the winner, if one is clearly best."""
    scored = []
    for cand in candidates:
        ev = evidence(ref, cand)
        scored.append((cand, ev.similarity, is_valid(ev, ref)))
    scored.sort(key=lambda t: (t[2], t[1]), reverse=True)
    valid = [t for t in scored if t[2]]
    if not valid:
        reason = "no candidate validates" if scored else "the search found nothing"
        return Decision("unmatched", None, None, tuple(scored), reason)
    best = valid[0]
    rivals = [t for t in valid[1:] if not _same_work(t[0], best[0])]
    if rivals and best[1] - rivals[0][1] < MARGIN:
        other = rivals[0][0]
        reason = f"{_name(best[0])} and {_name(other)} fit equally well"
        return Decision("ambiguous", None, best[1], tuple(scored), reason)
    return Decision("matched", best[0], best[1], tuple(scored))


def _same_work(a: Candidate, b: Candidate) -> bool:
    """Two candidates naming one work (the same DOI, or the same PMID) are not rivals."""
    return bool((a.doi and a.doi == b.doi) or (a.pmid and a.pmid == b.pmid))


def _name(c: Candidate) -> str:
    return f"doi:{c.doi}" if c.doi else f"pmid:{c.pmid}"


# ---------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------

_MAIN_TITLE = re.compile(r"\s*[:?!]\s+|\s+[-\u2013\u2014]\s+|\.\s+")


def _title(ref: RefString, cand: Candidate) -> tuple[float | None, bool]:
    if not cand.title:
        return None, False
    full = fold(cand.title)
    if not full:
        return None, False
    best = _align(full, ref.folded)
    main = fold(_MAIN_TITLE.split(cand.title, maxsplit=1)[0])
    if main != full and len(main) >= LONG_TITLE_CHARS and len(main.split()) >= 3:
        best = max(best, _align(main, ref.folded) * 0.98)  # cited without its subtitle
    return best, len(full) >= LONG_TITLE_CHARS


def _align(needle: str, haystack: str) -> float:
    """How well ``needle`` appears inside ``haystack`` (0..1); a needle longer than the
    haystack is compared whole (aligning the haystack inside it would reward a short string)."""
    if not needle or not haystack:
        return 0.0
    if len(needle) > len(haystack):
        return fuzz.ratio(needle, haystack) / 100.0
    return fuzz.partial_ratio(needle, haystack) / 100.0


def _author(ref: RefString, cand: Candidate) -> float | None:
    names = [fold(a) for a in cand.authors if a and fold(a)]
    if not names:
        return None
    head = ref.head
    head_tokens = set(head.split())
    for i, name in enumerate(names[:3]):
        weight = 1.0 if i == 0 else 0.6  # cited under another author: weaker
        parts = name.split()
        key = parts[-1] if len(parts) > 1 and len(parts[-1]) >= 3 else name
        if name in head_tokens or key in head_tokens or f" {name} " in f" {head} ":
            return weight
        if _UNSPACED.search(name) and name.replace(" ", "") in head.replace(" ", ""):
            return weight  # CJK names are printed without a space: "朴南權" for 朴 + 南權
        if len(name) >= 4 and fuzz.partial_ratio(name, head) / 100.0 >= AUTHOR_MIN:
            return weight * 0.99 if weight == 1.0 else weight
        if len(name) >= 6 and name.replace(" ", "") in head.replace(" ", ""):
            return weight * 0.99 if weight == 1.0 else weight  # OCR split it: "Hellm an"
    return 0.0


def _year(ref: RefString, cand: Candidate, numbers: list[str]) -> float | None:
    years = [y for y in cand.years if y]
    if not years:
        return None
    if not ref.years:
        return 0.0
    for y in years:
        if y in ref.years:
            _take(str(y), numbers)
            return 1.0
    for y in years:
        for near in (y - 1, y + 1):
            if near in ref.years:
                _take(str(near), numbers)
                return 0.5
    # The string prints years and none is the candidate's: a contradiction only when the string
    # has a single plausible publication year (a title may quote another year).
    return -1.0 if len(ref.years) == 1 else 0.0


def _take(number: str, numbers: list[str]) -> bool:
    if number in numbers:
        numbers.remove(number)
        return True
    return False


def _digits(value: str | None) -> str | None:
    m = re.search(r"\d+", value or "")
    return str(int(m.group())) if m else None


def _number_field(value: str | None, numbers: list[str]) -> float | None:
    n = _digits(value)
    if n is None:
        return None
    return 1.0 if _take(n, numbers) else 0.0


def _page(ref: RefString, cand: Candidate, numbers: list[str]) -> float | None:
    if not cand.page:
        return None
    first, _, last = cand.page.partition("-")
    token = fold(first)
    if token and not token.isdigit() and token in ref.token_set:  # article number "e19816"
        _take(_digits(first) or "", numbers)
        return 1.0
    n = _digits(first)
    if n is None:
        return None
    if _take(n, numbers):
        _take(_digits(last) or "", numbers)
        return 1.0
    return 0.0


def _title_numbers(cand: Candidate, numbers: list[str]) -> None:
    """Numbers printed in the title ("COVID-19", "p53") explain themselves."""
    if cand.title:
        for n in re.findall(r"\d+", cand.title):
            _take(str(int(n)), numbers)


def _container(ref: RefString, cand: Candidate) -> float | None:
    names = [n for c in cand.containers if c for n in _container_names(c)]
    if not names:
        return None
    padded = f" {ref.folded} "
    for name in names:
        if f" {name} " in padded:  # printed whole
            return 1.0
        if len(name) >= LONG_CONTAINER_CHARS and _align(name, ref.folded) >= CONTAINER_MIN:
            return 1.0  # printed with a typo or OCR noise
    if any(_abbreviated(name, ref.tokens) for name in names):
        return 1.0
    return 0.0


def _container_names(container: str) -> list[str]:
    """The folded forms a journal can be cited by: its full title and the title before a colon
    ("Clinical Trials: Journal of the Society for Clinical Trials"), without a leading "The"."""
    out = []
    for part in (container, container.split(":", 1)[0]):
        name = re.sub(r"^(?:the|la|le|les|der|die|das)\s+", "", fold(part))
        if name and name not in out:
            out.append(name)
    return out


def _abbreviated(name: str, tokens: list[str]) -> bool:
    """Whether consecutive tokens of the string abbreviate ``name`` word by word, each token
    starting like its word and its letters found in order ("natl" for "national"); the
    journal's little words ("of", "the", "journal", "series") may be left out, and printed
    ("J Gerontol A" for "Journals of Gerontology Series A"). At least two of its other words
    must be there, and all of them."""
    words = name.split()
    needed = sum(1 for w in words if w not in _OPTIONAL)
    if needed < 2:
        return False
    return any(_aligns(words, tokens, start) for start in range(len(tokens)))


def _aligns(words: list[str], tokens: list[str], i: int) -> bool:
    """Whether ``tokens[i:]`` starts with an abbreviation of ``words``; one token at least
    must be more than an initial (a run of author initials "J A B" abbreviates nothing)."""
    j, spelled = 0, False
    while j < len(words):
        if i < len(tokens) and _abbrev_of(tokens[i], words[j]):
            spelled = spelled or (len(tokens[i]) >= 3 and words[j] not in _OPTIONAL)
            i, j = i + 1, j + 1
        elif words[j] in _OPTIONAL:
            j += 1
        elif i < len(tokens) and tokens[i] in _OPTIONAL and j > 0:
            i += 1
        else:
            return False
    return spelled


def _abbrev_of(token: str, word: str) -> bool:
    if not token or token[0] != word[0] or len(token) > len(word):
        return False
    if token.isdigit() or word.isdigit():
        return token == word
    it = iter(word)
    return all(ch in it for ch in token)
