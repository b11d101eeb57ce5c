"""Reference segmentation: the text of one reference section cut into one span per entry.

Readers of flowing text (plain text, Markdown, HTML, PDF, DOCX paragraphs) hand the text of a
section whose role is ``reference`` to :func:`split_entries`; structured formats (JATS ``<ref>``,
BibTeX, RIS, PubMed ``<Reference>``) know their entries and do not need it. The spans it returns
become :class:`pipeline.records.ReferenceEntry` records; :func:`entry_text` puts one on one line.

How a section is cut, first rule that applies:

1. **Numbered or bulleted list**: ``1.``, ``1)``, ``[12]``, ``(3)`` or ``-``/``*``/``•`` at line
   starts, at least two. Numbers must run in sequence (1, 2, 3...; a gap of two allowed for an
   entry the extraction lost), so a wrapped line that starts with "2005." or "12)" does not cut.
   A marker alone on its line (``[1]`` then a blank line, as pdftotext writes some layouts) keeps
   the paragraph after it. A run made only of years ("2020.", "2021." starting wrapped lines of
   author-year entries) is no list.
2. **Paragraphs**: blank lines separate entries (at least two paragraphs).
3. **Hanging or flush author-year entries** (pdftotext loses the indent): a line starts an entry
   when it begins like an author list ("Adamopoulos G., ...", "Boslough, M., ...", "van Hees
   H., ...") and the line before does not end mid-phrase (",", "&", "and", "in", "-"); a line
   indented less than the lines around it starts one too.
4. Otherwise each non-empty line is an entry.

Page furniture that PDF extraction leaves in a reference section (page numbers, figure and table
captions from the other column, running headers repeated on every page) never starts an entry
and is trimmed from the end of the entry before it; :func:`entry_text` drops page-number lines and
re-joins words hyphenated across lines.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["split_entries", "entry_text", "is_reference_list"]

# "1.", "1)", "[12]", "(3)" or a bullet at the start of a line, followed by text or a line end;
# "10.Hayta, E. N.;": a number PDF extraction ran into the name after it (no space) is one too.
_MARKER = re.compile(
    r"^[ \t\f\v]*(?:\[(?P<b>\d{1,4})\]|\((?P<p>\d{1,4})\)|(?P<n>\d{1,4})[.)]|(?P<bullet>[-*\u2022]))"
    r"(?:[ \t]+|(?=\r?\n)|$|(?<=\d\.)(?=[A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+)?,))",
    re.MULTILINE,
)
_MARKER_AFTER_BREAK = re.compile("\n" + _MARKER.pattern[1:], re.MULTILINE)
_BLANK = re.compile(r"\n[ \t]*\r?\n")
_NON_SPACE = re.compile(r"\S")
_LEADING_NUMBER = re.compile(
    r"^\s*(?:\[(\d{1,4})\]|\((\d{1,4})\)|(\d{1,4})[.)]|[-*\u2022])"
    r"(?:\s+|(?<=\d\.)(?=[A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+)?,))"
)
_LINE = re.compile(r"[^\n]*\n?")
# The start of an author list: a family name (particles allowed) followed by initials or a given
# name and a comma: "Adamopoulos G.,", "Boslough, M.,", "van Hees H.", "Smith AB,", "Li, Z.".
_AUTHOR_START = re.compile(
    r"^[ \t\f\v]*(?:(?:van|von|de|del|della|der|den|di|da|du|la|le|dos|das|ter|el|al)[ \t]+)*"
    r"[A-Z\u00c0-\u024f][\w'\u2019\u0300-\u036f\-]+(?:[ \t]+[A-Z\u00c0-\u024f][\w'\u2019\u0300-\u036f\-]+)?"
    r"(?:,[ \t]*|[ \t]+)"
    r"(?:[A-Z]\.|[A-Z]{1,3}(?=[,;. \t])|[A-Z][a-z]+[ \t]+[A-Z]\.|[A-Z][a-z]+,|et[ \t]+al\b)"
)
# A line that cannot end an entry: the next line goes on with it.
_OPEN_END = re.compile(r"(?:[,&:;(\-\u2010\u2013]|\b(?:and|in|et|of|the|eds?\.?|&amp;))\s*$")
_PAGE_NUMBER = re.compile(r"^\s*(?:\d{1,4}|[ivxlc]{1,6}|page \d+(?: of \d+)?)\s*$", re.IGNORECASE)
_CAPTION = re.compile(
    r"^\s*(?:fig(?:ure)?|table|scheme|plate)\.?\s*\d+[a-z]?\s*[:.|]", re.IGNORECASE
)
_YEARISH = re.compile(r"\b(?:1[5-9]|20)\d\d[a-z]?\b|\b(?:n\.\s?d\.|in press|forthcoming|submitted)",
                      re.IGNORECASE)  # fmt: skip
_YEAR_START = re.compile(r"\s*\(?(?:1[5-9]|20)\d\d[a-z]?\)?[.,:]")
# A line that starts with an identifier or a link ("doi: https://doi.org/…, accessed 5 May
# 2020." after a <br>): the end of the entry before it, never a reference of its own.
_LINK_START = re.compile(
    r"\s*(?:(?:doi|pmid|pmcid|arxiv|isbn|issn|url)\b\s*:?|https?://|www\.|doi\.org/"
    r"|(?:retrieved|accessed|available)\s+(?:from|at|on|online|\d)\b)",
    re.IGNORECASE,
)
_MAX_MARKERS = 5000  # more than this many "markers" is not a reference list: no chain search


def split_entries(text: str, *, layout: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each reference entry in ``text``, the text of one reference section.

    Spans exclude surrounding whitespace and trailing page furniture (see the module docstring).
    ``layout``: the text's paragraphs follow the document's layout (a PDF's hanging indents and
    gaps, a Word file's paragraphs), so they are the entries unless the author-year starts are
    half as many again: then a paragraph is a page's flush, gapless run of entries. (Author-year
    starts overcount inside such entries: a journal "Psychological Medicine, 27" at a line start
    looks like "Surname Given,", a year line after "McHugh, P. R." like a whole reference.)
    """
    furniture = _Repeated(text)
    starts = _numbered_starts(text)
    if len(starts) >= 2:
        return _numbered_spans(text, starts, furniture)
    lines = _lines(text)
    starts = _author_year_starts(text, lines)
    paragraphs = _paragraphs(text)
    enough = 1.5 * len(paragraphs) if layout else len(paragraphs)
    if len(paragraphs) >= 2 and len(starts) <= enough:
        return _trimmed(text, paragraphs, furniture)  # one entry a paragraph
    if len(starts) >= 2:
        bounds = [*starts, (len(text), False)]
        spans = [
            (s, _entry_end(text, s, e))
            for (s, caption), (e, _) in zip(bounds, bounds[1:], strict=False)
            if not caption
        ]
        spans = _trimmed(text, spans, furniture)
        dated = [bool(_YEARISH.search(text[s:e])) for s, e in spans]
        if len(spans) >= 5 and not dated[-1] and all(dated[:-1]):
            spans.pop()  # a running head after the last entry ("Trilling et al."), no year
        return spans
    return _trimmed(text, [(s, e) for s, e in lines if text[s:e].strip()], furniture)


def entry_text(raw: str) -> tuple[str, str | None]:
    """(the entry on one line without its numbering, the number as printed or None).

    Page-number lines inside the entry (a page break) are dropped and a word hyphenated at a
    line end is joined: ``'Gauge theo-\\n ries'`` -> ``'Gauge theories'``.
    """
    m = _LEADING_NUMBER.match(raw)
    if m is None:
        label, body = None, raw
    else:  # the number as printed, of whichever kind ("[12]", "(3)", "4."); None for a bullet
        label, body = m.group(1) or m.group(2) or m.group(3), raw[m.end() :]
    lines = body.splitlines()  # in C; a regex search for a break costs 10x more on long lines
    if len(lines) < 2 and len(body) == sum(map(len, lines)):
        # one line without any break (most entries): nothing to drop or join
        return ("" if _PAGE_NUMBER.match(body) else " ".join(body.split())), label
    kept: list[str] = []
    for line in lines:
        if _PAGE_NUMBER.match(line) and not (kept and _OPEN_END.search(kept[-1])):
            continue  # a page number at a page break, not "503,\n238" (a volume's pages)
        kept.append(line)
    joined = _HYPHEN_BREAK.sub("", "\n".join(kept))
    return " ".join(joined.split()), label


# A word hyphenated at a line end ("theo-\n ries"). The literal "-" first lets the regex
# engine skip to hyphens; the lookbehind then checks the letter before it.
_HYPHEN_BREAK = re.compile(r"-(?<=[a-z]-)\s*\n\s*(?=[a-z])")


# ---------------------------------------------------------------------------------------------
# Rule 1: numbered and bulleted lists
# ---------------------------------------------------------------------------------------------


def _numbered_starts(text: str) -> list[int]:
    """Offsets of the list markers that form the list (numbers in sequence, or bullets)."""
    # Searched after a line break of its own (one is put before the text): the regex engine
    # skips to line breaks instead of trying "^" at every character. m.start() is the line's.
    found = list(_MARKER_AFTER_BREAK.finditer("\n" + text))
    if len(found) > _MAX_MARKERS:
        return []
    bullets, numbered = [], []
    for m in found:  # the marker's kind is the group that matched: b, p, n or bullet
        kind = m.lastgroup
        if kind == "bullet":
            bullets.append(m.start())
        else:
            numbered.append((m.start(), int(m.group(kind))))
    chain = _longest_chain(numbered)
    in_chain = set(chain)
    if chain and all(_is_year(n) for at, n in numbered if at in in_chain):
        # "2020." / "2021." at line starts: the years of author-year entries wrapped before
        # them (ACL's style), a run of consecutive years, never a list of 2,020 references
        chain = _longest_chain([(at, n) for at, n in numbered if not _is_year(n)])
    if len(chain) >= 2 and len(chain) >= len(bullets):
        return chain
    return bullets if len(bullets) >= 2 else []


def _is_year(n: int) -> bool:
    """A marker number that is a year of print (1500-2099)."""
    return 1500 <= n <= 2099


def _longest_chain(markers: list[tuple[int, int]]) -> list[int]:
    """The longest run of markers whose numbers go up by 1 (or 2-3: a lost entry), in order."""
    if all(b[1] - a[1] == 1 for a, b in zip(markers, markers[1:], strict=False)):
        return [at for at, _ in markers]  # 1, 2, 3...: the whole list (what the search finds)
    best: list[int] = [1] * len(markers)
    back: list[int] = [-1] * len(markers)
    for j, (_, nj) in enumerate(markers):
        for i in range(max(0, j - 50), j):
            if 1 <= nj - markers[i][1] <= 3 and best[i] + 1 > best[j]:
                best[j], back[j] = best[i] + 1, i
    if not markers:
        return []
    j = max(range(len(markers)), key=lambda k: (best[k], -k))
    out = []
    while j >= 0:
        out.append(markers[j][0])
        j = back[j]
    return out[::-1]


def _numbered_spans(text: str, starts: list[int], furniture: _Repeated) -> list[tuple[int, int]]:
    bounds = [*starts, len(text)]
    spans = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        spans.append((start, _entry_end(text, start, end)))
    return _trimmed(text, spans, furniture)


def _entry_end(text: str, start: int, end: int) -> int:
    """Where an entry that runs to ``end`` really ends: at the blank line after which only page
    furniture (a caption, a page number, a header) or a finished entry's trailing text follows."""
    cut = _BLANK.search(text, start, end)
    if cut is None:
        return end
    if _NON_SPACE.search(text, cut.end(), end) is None:  # only blank lines after the entry
        return cut.start()
    blocks = [(start, end)]
    cuts = [m for m in _BLANK.finditer(text, start, end)]
    if cuts:
        blocks, at = [], start
        for m in cuts:
            blocks.append((at, m.start()))
            at = m.end()
        blocks.append((at, end))
    stop = blocks[0][1]
    first = None  # the first block without its number: computed when a second block has text
    for i, (s, e) in enumerate(blocks[1:], start=1):
        block = text[s:e].strip()
        if not block:
            continue
        if _is_furniture_block(block):
            break
        so_far = text[start:stop].rstrip()
        if i == 1 and first is None:
            first = _LEADING_NUMBER.sub("", text[blocks[0][0] : blocks[0][1]]).strip()
        if (i == 1 and not first) or not so_far.endswith((".", ")")):
            stop = e
            continue
        break
    return stop


def _is_furniture_block(block: str) -> bool:
    lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
    if not lines:
        return True
    if _CAPTION.match(lines[0]) or all(_PAGE_NUMBER.match(ln) for ln in lines):
        return True
    # a short header/footer block: a line or two of a few words, no year, no closing period
    return (
        len(lines) <= 2
        and all(len(ln) <= 40 for ln in lines)
        and not _DATED_OR_CLOSED.search(block)
    )


_DATED_OR_CLOSED = re.compile(r"\b(?:1[6-9]|20)\d\d\b|\.$")


# ---------------------------------------------------------------------------------------------
# Rules 2-4: paragraphs, author-year lines, lines
# ---------------------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for m in _BLANK.finditer(text):
        spans.append((at, m.start()))
        at = m.end()
    spans.append((at, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _lines(text: str) -> list[tuple[int, int]]:
    out, at = [], 0
    for m in _LINE.finditer(text):
        if m.end() == m.start():
            break
        out.append((m.start(), m.end()))
        at = m.end()
    if at < len(text):
        out.append((at, len(text)))
    return out


def _author_year_starts(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, bool]]:
    """(line start, is a caption) of each entry of a flush or hanging author-year list; a
    figure or table caption from the other column runs until the next entry and is dropped."""
    content = [(s, e) for s, e in lines if text[s:e].strip()]
    indents = [len(text[s:e]) - len(text[s:e].lstrip(" \t")) for s, e in content]
    hanging = len(set(indents)) >= 2
    low = min(indents) if indents else 0
    starts = []
    previous = ""
    for (s, e), indent in zip(content, indents, strict=True):
        line = text[s:e]
        if _PAGE_NUMBER.match(line) and not (previous and _OPEN_END.search(previous)):
            previous = line.strip()
            continue
        if _CAPTION.match(line):
            starts.append((s + indent, True))
            previous = ""
            continue
        opens = bool(previous) and _OPEN_END.search(previous) is not None
        begins = _AUTHOR_START.match(line) is not None or _whole_reference(line, previous)
        if not starts or (begins and not opens) or (hanging and indent == low and not opens):
            starts.append((s + indent, False))
        previous = line.rstrip()
    return starts


_CLOSED = re.compile(r"[.)\]\d\"\u201d']\s*$")


def _whole_reference(line: str, previous: str) -> bool:
    """A line that is a reference on its own after a finished one (a file of one reference a
    line, whatever its style): it has a year and at least eight words, and the line before ends
    like an entry ("." ")" a digit, a closing quote). A line that starts with its year ("2020.
    Evaluation of ...") goes on the entry whose authors end the line before (ACL's style)."""
    return (
        bool(previous)
        and _CLOSED.search(previous) is not None
        and _YEARISH.search(line) is not None
        and len(line.split()) >= 8
        and _YEAR_START.match(line) is None
        and _LINK_START.match(line) is None
    )


_HEAD_MAX = 60  # characters of a running header or footer line, at most


class _Repeated:
    """The short lines ``text`` prints three times or more (``_repeated_lines``), counted when
    a line of at most ``_HEAD_MAX`` characters is first asked about: an entry whose last line
    is longer (most of them) never needs them."""

    __slots__ = ("lines", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: set[str] | None = None

    def __contains__(self, line: str) -> bool:
        if len(line) > _HEAD_MAX:  # never one of them
            return False
        if self.lines is None:
            self.lines = _repeated_lines(self.text)
        return line in self.lines


def _repeated_lines(text: str) -> set[str]:
    """Short lines printed three times or more: running headers and footers."""
    counts = Counter(map(str.strip, text.splitlines()))  # counted in C; short ones kept below
    return {
        ln
        for ln, n in counts.items()
        if n >= 3 and 0 < len(ln) <= _HEAD_MAX and not _MARKER.match(ln)
    }


def _trimmed(
    text: str, spans, furniture: _Repeated | frozenset[str] = frozenset()
) -> list[tuple[int, int]]:
    """Spans without surrounding whitespace nor trailing furniture lines; empty ones dropped."""
    out = []
    for start, end in spans:
        chunk = text[start:end]
        left = len(chunk) - len(chunk.lstrip())
        right = len(chunk.rstrip())
        s, e = start + left, start + right
        while e > s:
            line_start = text.rfind("\n", s, e) + 1
            if line_start <= s:
                break
            last = text[line_start:e].strip()
            page = _PAGE_NUMBER.match(last) and not _OPEN_END.search(text[s:line_start].rstrip())
            if page or last in furniture or _CAPTION.match(last):
                e = line_start
                while e > s and text[e - 1].isspace():
                    e -= 1
                continue
            break
        if e > s:
            out.append((s, e))
    return out


_LOOKS_LISTED = re.compile(
    r"^\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\d{1,4}[.)]|[-*\u2022])\s|\bet al\b", re.IGNORECASE
)
_YEAR = re.compile(r"(?<!\d)(?:1[5-9]\d\d|20\d\d)(?!\d)")
WHOLE_LIST_SHARE = 0.8  # of a headingless text's entries that must look like references


def is_reference_list(text: str, spans: list[tuple[int, int]] | None = None) -> bool:
    """Whether ``text`` (a whole document without a reference heading) is nothing but a
    reference list: at least two entries, and WHOLE_LIST_SHARE of them with a year and a list
    marker, an author list or "et al." at their start. Prose is never taken for a list."""
    spans = split_entries(text) if spans is None else spans
    if len(spans) < 2:
        return False
    listed = 0
    for s, e in spans:
        chunk = text[s:e]
        if _YEAR.search(chunk) and (
            _LOOKS_LISTED.search(chunk[:200]) or _AUTHOR_START.match(chunk)
        ):
            listed += 1
    return listed >= WHOLE_LIST_SHARE * len(spans)
