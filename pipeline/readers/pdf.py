"""PDF: the text layer and link annotations, laid out as a careful reader reads them.

The *extracted text* of a PDF is its pages' lines in PDFium's reading order, a ``\\f`` line
between pages, and after each page's lines the targets of its link annotations, one
``[link] URI`` line each. Mentions' offsets and lines point into that text, which
``enrich extract --format text FILE`` prints. The scan text built over it adds what a reader
sees and the characters do not say:

- headings (a line that is a known section title: References, Cited by...) become ``## Title``;
  a vertical gap, a column change or (in a reference list) an outdented line is a paragraph
  break, so one entry is one work;
- an identifier broken across two lines is joined: a DOI cut after its prefix slash, inside a
  ``https://doi.`` URL or at a character a DOI cannot end with (``/ - . _ (``), a bracket left
  open (SICI DOIs), an ``arXiv:`` label at a line end; never a complete DOI followed by a new
  entry or sentence. A line-end hyphen inside a DOI is kept (it is part of the DOI; typesetters
  break URLs without adding hyphens), unless the page's own link annotation names the DOI
  without it;
- the document's subject: identifiers in page furniture (a line repeated on most pages, such as
  a running header carrying the DOI), in the first page's head before its first section, in a
  ``Citation:``/``Cite this article`` box, and arXiv's rotated margin stamp
  (``arXiv:0908.0054v1 [astro-ph.CO] 1 Aug 2009``). They are one work;
- link targets are mentions too, in section ``link`` (a DOI that is only a hyperlink target
  is kept, and distinguishable from printed text).

Parsing runs in a worker process (``pipeline.readers.pdf_worker``) with capped memory and a
deadline (``pipeline.readers.limits``); the worker is reused from one PDF to the next.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pipeline.readers import base
from pipeline.readers.base import MARK, Builder, LinkMark, Piece
from pipeline.readers.headings import heading_role
from pipeline.readers.limits import ReadLimits
from pipeline.readers.source import RawFile

__all__ = ["read_pdf", "shutdown_worker"]


class PdfProblem(Exception):
    """The PDF could not be read (one line)."""


def read_pdf(
    raw: RawFile,
    problems: list[str],
    limits: ReadLimits | None = None,
    text_sink: Callable[[str], None] | None = None,
) -> Iterator[Piece]:
    """Pieces of a PDF's extracted text. Raises DocumentError for an encrypted, damaged or
    text-less PDF; a page limit reached is a warning in ``problems``."""
    from pipeline.readers import DocumentError

    limits = limits or ReadLimits()
    raw.binary()  # hashed whole; PDFium reads the path in its worker
    result = _parse(raw.path, limits)
    pages = result["read"]
    if not any(line[0].strip() for page in pages for line in page["lines"]):
        if result["pages"] == 0:
            raise DocumentError("PDF has no pages; not read")
        raise DocumentError("scanned PDF: no text layer, OCR not done; not read", skipped=True)
    if result["pages"] > len(pages):
        problems.append(
            f"PDF of {result['pages']} pages: read the first {len(pages)} (ENRICH_PDF_MAX_PAGES)"
        )
    return _Layout(pages, text_sink).pieces()


# --------------------------------------------------------------------------------------------
# The worker process
# --------------------------------------------------------------------------------------------


class _Worker:
    """``python -m pipeline.readers.pdf_worker``: one request (a JSON line) at a time."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.readers.pdf_worker", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def ask(self, request: dict, timeout: float) -> dict | None:
        """The worker's answer, or None if it died or the deadline passed (then it is killed)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            return None
        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        fd = self.proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.stop()
                return {"error": "timeout"}
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return None
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                return json.loads(b"".join(chunks))

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


_worker: _Worker | None = None
_worker_lock = threading.Lock()


def shutdown_worker() -> None:
    """Stop the PDF worker process (it is started again when needed)."""
    global _worker
    worker, _worker = _worker, None
    if worker is not None:
        worker.stop()


atexit.register(shutdown_worker)


def _parse(path: str, limits: ReadLimits) -> dict:
    from pipeline.readers import DocumentError

    global _worker
    with _worker_lock:
        if _worker is None or _worker.memory_mb != limits.pdf_max_memory_mb:
            shutdown_worker()
            _worker = _Worker(limits.pdf_max_memory_mb)
        answer = _worker.ask(
            {"path": os.path.abspath(path), "max_pages": limits.pdf_max_pages},
            limits.pdf_max_seconds,
        )
        if answer is None or answer.get("error") in ("timeout", "memory"):
            shutdown_worker()  # dead, stuck or bloated: the next PDF gets a fresh one
    if answer is None:
        raise DocumentError("PDF crashed the PDF reader; not read")
    error = answer.get("error")
    if error is None:
        return answer["result"]
    if error == "timeout":
        raise DocumentError(
            f"PDF still not read after {limits.pdf_max_seconds:g} s (ENRICH_PDF_MAX_SECONDS); "
            "given up"
        )
    if error == "encrypted":
        raise DocumentError("encrypted PDF (the empty password did not open it); not read")
    if error == "memory":
        raise DocumentError(
            f"PDF needs more than {limits.pdf_max_memory_mb} MB to read "
            "(ENRICH_PDF_MAX_MEMORY_MB; a decompression bomb?); not read"
        )
    reason = " ".join(str(answer.get("reason", "")).split())[:80] or "unreadable"
    raise DocumentError(f"damaged PDF ({reason}); not read")


# --------------------------------------------------------------------------------------------
# Layout: lines -> extracted text and scan pieces
# --------------------------------------------------------------------------------------------

_ONE_LINE = re.compile(r"[\r\n\f\v\x1c-\x1e\x85\u2028\u2029]")
_STAMP = re.compile(
    r"^\s*arXiv:\s*(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?\s+\[[^\]]{1,20}\]"
)
# "Citation:" (the colon required: "Citation analysis..." is prose), "Cite this article as:",
# PeerJ's "How to cite this article Webb et al. (2017)...", BMC's closing "Cite this article
# as: ... doi:10.1186/...".
# ... and HighWire's closing page (Cold Spring Harbor, ASBMB ...): "Access the most recent
# version at doi:10.1261/rna.034181.112"; a PMC author manuscript's "Published in final edited
# form as:" over the journal's citation and DOI.
_CITATION_BOX = re.compile(
    r"^\s*(?:citation\s*:|(?:cite this(?: article| paper)?(?: as)?|to cite this article"
    r"|please cite(?: this article)?(?: as)?|how to cite(?: this article)?"
    r"|access the most recent version at|published in final edited form as)\b\s*:?)",
    re.IGNORECASE,
)
_BODY_START = re.compile(
    r"^\s*(?:(?:\d{1,2}\.?|[IVX]{1,4}\.)\s*)?(?:introduction|background|main text|"
    r"main|results|methods)\s*$",
    re.IGNORECASE,
)
# "DOI 10.1109/DSDE.2010.49" alone on a first-page line (an IEEE or Elsevier footer).
# ... or "ArXiv ePrint: 0807.3577" (IOP's first page).
_DOI_ALONE = re.compile(
    r"^\s*(?:(?:doi:?|https?://(?:dx\.)?doi\.org/)\s*10\.\d{4,9}/\S+"
    r"|arxiv(?:\s*e-?print)?\s*:?\s*(?:\d{4}\.\d{4,5}|[a-z-]+/\d{7})(?:v\d+)?)\s*$",
    re.IGNORECASE,
)
# A first-page line of the article's history with its DOI: "Received 6 October 2010; accepted
# 30 November 2010; published online 16 January 2011; doi:10.1038/nn.2727" (Nature's journals,
# a footnote PDFium may read after the first column).
_HISTORY_DOI = re.compile(
    r"\b(?:received|accepted|published|available online)\b[^\n]*?"
    r"\b(?:doi:?\s*|doi\.org/)10\.\d{4,9}/",
    re.IGNORECASE,
)
# JSTOR's cover sheet, the first page of every PDF downloaded from it: the article's title,
# source, "Stable URL", a "REFERENCES" label over "Linked references are available on JSTOR",
# terms of use. All of it is about the article.
_COVER_SHEET = re.compile(
    r"^\s*(?:Stable URL:\s*https?://(?:www\.)?jstor\.org/|Linked references are available on JSTOR)"
)
_BARE_DOI = re.compile(r"10\.\d{4,9}/\S+")
# "Published 11 January 2023", "Accepted 9 May 2022": a history line, the DOI alone after it.
_HISTORY_DATE = re.compile(
    r"^\s*(?:submitted|received|accepted|published(?: online)?)\b[^\n]{0,30}\b(?:19|20)\d\d\s*$",
    re.IGNORECASE,
)
_FIRST_REF = re.compile(r"^\s*\[1\]\s")
_SECOND_REF = re.compile(r"^\s*\[2\]\s")
# "12. Feynman, R. P. Simulating physics ... (1982)." : a numbered entry starting with a name
# (Nature's, Science's and Cell's lists under no heading: "1." then "2." ...).
_DOT_REF = re.compile(r"^\s*(\d{1,3})\.\s+[A-Z\u00c0-\u024f]")
_PRINT_YEAR = re.compile(r"(?<!\d)(?:1[5-9]|20)\d\d(?!\d)")
# A figure or table caption's label opening a page ("Fig. 1.", "Figure S2:", "Fig EV1.",
# "Table 3", "Figure Legends"): preprints print their figure pages after the reference list.
_CAPTION_START = re.compile(
    r"\s*(?:(?:supplementary|extended\s+data|expanded\s+view)\s+)?(?:fig(?:ure)?s?\.?|table)"
    r"\s*(?:(?:S|EV)?\d{1,3}[a-z]?\b|legends?\b|captions?\b)",
    re.IGNORECASE,
)
_DOT_REFS_NEEDED = 3  # "1." "2." "3." each with a year of print: a reference list
_ABSTRACT = re.compile(r"^\s*(?:abstract|summary)\b", re.IGNORECASE)
_HEAD_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.|[A-Z]\.)\s+")
# Crossmark's "Check for updates" button links the article's own DOI.
_CROSSMARK = re.compile(r"https?://crossmark\.crossref\.org/", re.IGNORECASE)
_GUTTER = re.compile(r"^\s*(\d{1,5})(?:\s+|$)")
# An ornament before a section heading: ACS's "■ REFERENCES", a bullet.
_ORNAMENT = re.compile(r"^\s*[\u25a0-\u25ff\u2022\u2023\u2219\u2666\u2756\u27a2]+\s*")
# A line ending inside a DOI or a DOI URL, and what a DOI cannot end with.
_DOI_TAIL = re.compile(
    r"(?:(?:https?://)?(?:dx\.)?doi\.(?:org/?)?|(?:https?://(?:dx\.)?doi\.org/)?"
    r"10\.\d{4,9}(?:\.\d+)*(?:/\S*)?)$",
    re.IGNORECASE,
)
_OPEN_END = tuple("/-._(:;<")
# A line ending in just a DOI's "10." ("https://doi.org/10." | "1104/pp.15.01164") goes on only
# into a registrant code: digits, then "/" and the suffix's first character.
_TEN_END = re.compile(r"(?:^|[/:\s])10\.$")
_REGISTRANT_NEXT = re.compile(r"^\s*\d{4,9}/([!#-&(-;=?-~]+)")
_DOI_LABEL_END = re.compile(r"(?:doi\.org/|doi:?\s*)10\.$", re.IGNORECASE)
# What starts a new entry or sentence after a DOI that ends a line with "." (then the DOI ends
# there): a number, a capitalised word, an acronym ("UNCED [United Nations ...] 1992."), "and".
_NEW_ENTRY = re.compile(
    r"^\s*(?:\[\d{1,4}\]|\d{1,4}[.)]\s|[A-Z][a-z'’-]+[,\s]|[A-Z]{2,}[\s\[(]|and\s|et al)"
)
_DOI_CHARS = re.compile(r"^[!#-&(-;=?-~]+")
_ARXIV_LABEL_END = re.compile(r"\bar[Xx]iv\s*:?$")
_ARXIV_NEXT = re.compile(r"^\s*(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})")
# "Preprint at https://arxiv.org/" | "abs/1712.05384 (2017).": an arXiv URL broken at a slash.
_ARXIV_URL_END = re.compile(r"arxiv\.org/(?:abs/|pdf/)?$", re.IGNORECASE)
_ARXIV_URL_NEXT = re.compile(
    r"^\s*(?:abs/|pdf/)?(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?![\w/])"
)
# An old Elsevier/Pergamon DOI is ISSN(yy)nnnnn-c: a line ending in the ISSN and one starting
# with "(yy)nnnnn-c" are one DOI.
# Headings of back matter after a reference list that no list of titles knows: an appendix
# ("A. THE SLIDING-WINDOW ALGORITHM", "Appendix B: Proofs") or a collaboration's author list
# ("The ATLAS Collaboration" ending a HEP paper's thousand author lines).
_BACK_MATTER = re.compile(
    r"(?:[A-H]\.?\s+)?(?i:appendix|appendices)\b.*"
    r"|[A-H]\.?\s+[A-Z][A-Z][A-Z -]{6,}"
    r"|(?:[A-H]\s+)?(?i:the\s+)?[A-Z][A-Za-z0-9-]+\s+(?i:collaboration)"
)
# The two halves of a prose word PDFium marked as hyphenated at a line end: letters, the
# first half ending in two lower-case letters; the second lower-case letters up to a space
# or punctuation (no digit, slash or dot inside: those are identifiers).
_PROSE_START = re.compile(r"[^\W\d_]*[a-z\u00df-\u00ff]{2}")
_PROSE_END = re.compile(r"[a-z\u00df-\u00ff]+(?:[,;:)\]\u2019']|\.(?!\w)|$)")
_HYPHEN_NEXT = re.compile(r"\s*-\w")
_ISSN_END = re.compile(r"/\d{4}-\d{3}[\dXx]$")
_ISSN_NEXT = re.compile(r"^\s*\(\d{2}\)\d{5}-[\dXx]")
_LINK_DOI = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")


@dataclass
class _Line:
    text: str
    x: float
    y: float
    size: float
    page: int
    furniture: bool = False
    subject: bool = False
    heading: str | None = None  # the role heading_role gives, when it is a heading
    last: float = 0.0  # the top of its last character (below ``y`` when two lines were joined)
    last_x: float = 0.0  # where its last printed line starts (``x`` unless two were joined)
    brk: bool = False  # a paragraph break before this line
    gutter: str = ""  # a margin line number PDFium reads before the text ("603 "), cut off
    opens_references: bool = False  # a reference list without a heading starts here
    closes_references: bool = False  # the figure pages after a reference list start here


@dataclass
class _Layout:
    pages: list[dict]
    sink: Callable[[str], None] | None = None
    b: Builder = field(default_factory=Builder)
    src: int = 0  # offset in the extracted text
    line_no: int = 1
    # Inside a reference list, the next page opens by going on with the entry this page ends
    # (``_goes_on``): the marks around its furniture and links and the page break stand on
    # lines of their own, no blank line, so that entry is not cut there.
    tight: bool = False

    def pieces(self) -> Iterator[Piece]:
        lines = [self._lines(i, p) for i, p in enumerate(self.pages)]
        _cut_gutters(lines)
        for page_lines in lines:
            _mark_headings(page_lines)
        self._furniture(lines)
        self._subject(lines)
        self._reference_list(lines)
        self.b.synth("\n\n")
        in_refs = False
        for i, page in enumerate(self.pages):
            after = lines[i + 1] if i + 1 < len(lines) else None
            in_refs = self._page(lines[i], page, in_refs, after)
            if self.b.size >= base.PIECE_SIZE:
                yield self.b.take()
                self.b.synth("\n")
        if self.b.size:
            yield self.b.take()

    # -- reading the lines ---------------------------------------------------------------------

    def _lines(self, index: int, page: dict) -> list[_Line]:
        # a stray CR or LF inside a line (PDFium splits lines at CRLF) is a space: one line of
        # the extracted text is one printed line
        out = [
            _Line(_ONE_LINE.sub(" ", t), x, y, s, index, last=e, last_x=ex)
            for t, x, y, s, e, ex in page["lines"]
        ]
        sizes = [ln.size for ln in out if ln.size > 0]
        gaps = [
            a.y - b.y
            for a, b in zip(out, out[1:], strict=False)
            if a.size > 0 and b.size > 0 and 0 < a.y - b.y < 40 and a.last == a.y
        ]
        # Two printed lines PDFium joined at a hyphen stand one step apart too: on a page of
        # two-line references most line steps are inside such joins, the rest between entries
        gaps += [ln.y - ln.last for ln in out if ln.size > 0 and 0 < ln.y - ln.last < 40]
        size = statistics.median(sizes) if sizes else 10.0
        step = statistics.median(gaps) if gaps else size * 1.2
        for prev, ln in zip(out, out[1:], strict=False):
            if ln.size <= 0 or prev.size <= 0:
                continue
            gap = prev.y - ln.y
            # from the line's last printed line: PDFium gives two lines joined at a hyphen
            # ("Proceed-" "ings") as one, and the next one is no wider gap away from it
            after = prev.last - ln.y if step / 2 < prev.y - prev.last < 4 * step else gap
            ln.brk = after > step * 1.45 or gap < -size  # a wider gap, or up: a new column
        return out

    def _furniture(self, pages: list[list[_Line]]) -> None:
        """Lines repeated at the top or bottom of most pages (digits aside): running heads.
        The top and bottom are where the page prints them (PDFium may read a header last).
        A journal that heads left and right pages differently ("632 LUPKER AND DAVIS" on
        even pages, "MASKED SANDWICH PRIMING 633" on odd ones) repeats each on most pages of
        one side: two thirds of them (at least three) is furniture too."""
        if len(pages) < 2:
            return
        seen: Counter[str] = Counter()  # on how many pages each line shape stands
        sides: list[Counter[str]] = [Counter(), Counter()]  # the same, by page parity
        edges = [_edge_lines(lines) for lines in pages]
        for i, lines in enumerate(edges):
            shapes = {_shape(ln.text) for ln in lines}
            seen.update(shapes)
            sides[i % 2].update(shapes)
        need = max(2, len(pages) // 2)
        need_side = [max(3, -(-2 * len(pages[k::2]) // 3)) for k in (0, 1)]
        for i, lines in enumerate(edges):
            side, need_here = sides[i % 2], need_side[i % 2]
            for ln in lines:
                shape = _shape(ln.text)
                if seen[shape] >= need or side[shape] >= need_here:
                    ln.furniture = ln.subject = True

    def _subject(self, pages: list[list[_Line]]) -> None:
        """The first page's head (up to its first section), arXiv's stamp, a DOI alone on a
        first-page line, and a citation box ("Cite this article as: ...") on any page."""
        if not pages:
            return
        first = pages[0]
        if len(pages) > 1 and any(_COVER_SHEET.match(ln.text) for ln in first):
            for ln in first:  # a cover sheet: the article starts on the next page
                ln.subject = True
            first = pages[1]
        head: list[_Line] = []
        for ln in first[:40]:
            if ln.heading is not None or _BODY_START.match(ln.text) or _ABSTRACT.match(ln.text):
                break
            head.append(ln)
        # A head naming several DOIs is a list (a page of references), not one article's head.
        if len(set(_HEAD_DOI.findall(" ".join(_plain(ln.text) for ln in head)))) <= 2:
            for ln in head:
                ln.subject = True
        label = False  # the line before was a "DOI" label alone (a repository's cover page)
        for ln in [*first, *_second_head(pages, first)]:
            text = _plain(ln.text)
            if _STAMP.match(text) or _DOI_ALONE.match(text) or _HISTORY_DOI.search(text):
                ln.subject = True
            elif label and _BARE_DOI.fullmatch(text.strip()):
                ln.subject = True
            label = text.strip().lower() in ("doi", "doi:")
        for lines in pages:  # Science's history block: "Accepted 9 May 2022" | "10.1126/..."
            for before, ln in zip(lines, lines[1:], strict=False):
                if _BARE_DOI.fullmatch(_plain(ln.text).strip()) and _HISTORY_DATE.match(
                    before.text
                ):
                    ln.subject = True
        for lines in pages:  # a citation box: on the first page, or the last (BMC)
            box = False
            for i, ln in enumerate(lines):
                if _CITATION_BOX.match(ln.text):
                    box = True
                    if i and _DOI_ALONE.match(_plain(lines[i - 1].text)):
                        lines[i - 1].subject = True  # its DOI line, read before it (BMC)
                elif box and (ln.brk or ln.heading is not None):
                    box = False
                if box:
                    ln.subject = True

    def _reference_list(self, pages: list[list[_Line]]) -> None:
        """A table's "Reference" column header before the real reference heading is no
        heading. No References heading anywhere: a numbered list "[1] ... [2] ..." in the
        document's second half is its reference list (a synthetic heading opens it)."""
        flat = [ln for lines in pages for ln in lines]
        headings = [ln for ln in flat if ln.heading == "reference" and not ln.subject]
        for ln in headings[:-1]:
            if _NUMBERING.sub("", ln.text).strip().lower() == "reference":
                ln.heading = None
        start = headings[-1] if headings else self._unheaded_list(flat)
        if start is not None:
            _end_at_figures(pages, start.page)

    @staticmethod
    def _unheaded_list(flat: list[_Line]) -> _Line | None:
        """The first line of a numbered list "[1] ... [2] ..." (or a dated "1." "2." list) in
        the document's second half, marked to open the reference list; None when there is none."""
        for i in range(len(flat) - 1, len(flat) // 2 - 1, -1):
            if _FIRST_REF.match(flat[i].text) and any(
                _SECOND_REF.match(ln.text) for ln in flat[i + 1 : i + 40]
            ):
                flat[i].opens_references = True
                return flat[i]
        for i in range(len(flat) - 1, len(flat) // 2 - 1, -1):
            if _dot_list_starts(flat, i):
                flat[i].opens_references = True
                return flat[i]
        return None

    # -- writing the text ----------------------------------------------------------------------

    def _page(
        self, lines: list[_Line], page: dict, in_refs: bool, after: list[_Line] | None = None
    ) -> bool:
        link_dois = {
            m.group().rstrip(".,;").lower()
            for uri, *_ in page["links"]
            for m in [_LINK_DOI.search(uri)]
            if m
        }
        subject = joined = False
        starts = []  # where each line starts in the extracted text
        goes_on = after is not None and _goes_on(after)
        # the furniture after the page's last line of text (a running foot) is the page break's
        end = max(
            (k for k, ln in enumerate(lines) if not ln.subject and ln.text.strip()), default=-1
        )
        for i, ln in enumerate(lines):
            starts.append(self.src)
            if i > end and in_refs and goes_on:
                self.tight = True
            if ln.subject != subject:  # an aside: the section around it goes on after it
                self._mark("aside" if ln.subject else "unaside")
                subject = ln.subject
            if self.tight and not ln.subject and ln.text.strip():
                self.tight = False  # the page's first line of the list: it goes on the entry
            if ln.gutter:  # the margin's line number: in the extracted text only
                self._write(ln.gutter)
            if ln.heading is not None and not ln.subject:
                in_refs = ln.heading == "reference"
                self.b.synth("\n\n## ")
                ornament = _ORNAMENT.match(ln.text)
                if ornament:  # in the extracted text only: the title is what names the section
                    self._write(ornament.group())
                self._emit(ln.text[ornament.end() :] if ornament else ln.text)
                self.b.synth("\n\n")
                self._newline()
                continue
            if ln.opens_references:
                in_refs = True
                self.b.synth("\n\n## References\n\n")
            elif ln.closes_references and in_refs:
                in_refs = False
                self.b.synth("\n\n## Figures\n\n")
            if _entry_starts(lines, i) if in_refs else ln.brk:
                self.b.synth("\n")
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            join = nxt is not None and ln.subject == nxt.subject and _joins(ln, nxt, link_dois)
            # Around a join the blanks at the break are the extracted text's, not the scan
            # text's: "...10.18429/JACoW " + "-HP071-..." is one DOI.
            text, lead = ln.text, ""
            if joined:
                body = text.lstrip()
                lead, text = text[: len(text) - len(body)], body
            trail = text[len(text.rstrip()) :] if join else ""
            self._write(lead)
            self._emit(text[: len(text) - len(trail)], link_dois)
            self._write(trail)
            joined = join
            label = nxt is not None and _ARXIV_LABEL_END.search(_plain(ln.text).rstrip())
            if label and _ARXIV_NEXT.match(nxt.text):  # "arXiv:" | "1706.03762"
                self._newline(joined=True)
                self.b.synth(" ")
            else:
                self._newline(joined=join)
        self.tight = in_refs and goes_on
        if subject:
            self._mark("unaside")
        self._links(page["links"], starts)
        self._write("\f\n", synth="" if self.tight else "\n")
        return in_refs

    def _mark(self, name: str) -> None:
        """A role mark on a line of its own: set apart by blank lines, unless ``tight``."""
        if self.tight:
            self.b.synth(MARK + name + "\n")  # after a line's own line break
        else:
            self.b.synth("\n\n" + MARK + name + "\n\n")

    def _emit(self, text: str, link_dois: set[str] = frozenset()) -> None:
        """A line as printed. PDFium writes U+FFFE for a hyphen it took for hyphenation: the
        extracted text shows it as "-", and the scan text keeps it unless the page's own link
        names the DOI without it (a DOI's hyphen is part of the DOI: typesetters break DOIs
        without adding one)."""
        parts = text.split("\ufffe")
        at = self.src
        for k, part in enumerate(parts):
            if k:
                if _keep_hyphen(parts[k - 1], part, link_dois):
                    self.b.real("-", at, self.line_no)
                at += 1
            done = 0
            for cut in _linked_ends(part, link_dois) if link_dois else ():
                self.b.real(part[done:cut], at, self.line_no)
                self.b.synth(" ")  # "10.1128/msphere.00109-24" | "10" (the page number)
                at, done = at + cut - done, cut
            part = part[done:]
            self.b.real(part, at, self.line_no)
            at += len(part)
        self._write(text.replace("\ufffe", "-"))

    def _newline(self, *, joined: bool = False) -> None:
        if joined:  # the line break stays in the extracted text, not in the scan text
            self._write("\n")
            self.line_no += 1
            return
        self.b.real("\n", self.src, self.line_no)
        self._write("\n")
        self.line_no += 1

    def _write(self, text: str, synth: str | None = None) -> None:
        if synth is not None:
            self.b.synth(synth)
            self.line_no += text.count("\n")
        if self.sink is not None:
            self.sink(text)
        self.src += len(text)

    def _links(self, links: list[list], starts: list[int]) -> None:
        """The page's link targets, one ``[link] URI`` line each, and a ``LinkMark`` per
        annotation whose rectangle covers printed characters (``starts``: the page's lines'
        offsets)."""
        uris = [
            u for u in dict.fromkeys(u for u, *_ in links) if not u.lower().startswith("mailto:")
        ]
        if not uris:
            return
        targets: dict[str, tuple[int, int]] = {}
        own = [u for u in uris if _CROSSMARK.match(u)]  # the article's own DOI: its own block
        for block, kind in (([u for u in uris if u not in own], "link"), (own, "ownlink")):
            if not block:
                continue
            self.b.synth(MARK + kind + "\n" if self.tight else "\n\n" + MARK + kind + "\n")
            for uri in block:
                self.b.synth("\n")
                self._write("[link] ", synth="")
                targets[uri] = (self.src, self.src + len(uri))
                self._emit(uri)
                self._newline()
            self._mark("un" + kind)
        for uri, line, first, *end in links:
            if uri in targets and len(end) == 2 and first >= 0 and 0 <= end[0] < len(starts):
                anchor = (starts[line] + first, starts[end[0]] + end[1])
                self.b.links.append(LinkMark(targets[uri], anchor))


def _mark_headings(lines: list[_Line]) -> None:
    """A line that is a known section title (its number or ornament aside) is a heading; so is
    a line of back matter that ends a reference list (appendices, a collaboration's list)."""
    for ln in lines:
        title = _NUMBERING.sub("", _ORNAMENT.sub("", ln.text)).strip()
        if 2 < len(title) <= 60 and not title.endswith((".", ",", ";")):
            known, role = heading_role(title)
            if known:
                ln.heading = role or ""
            elif _BACK_MATTER.fullmatch(ln.text.strip()):
                ln.heading = ""  # ends a reference list: appendices, an author list


def _cut_gutters(pages: list[list[_Line]]) -> None:
    """Margin line numbers (bioRxiv and medRxiv preprints, manuscripts under review): PDFium
    reads each line's number first ("603 1. Ashby, M. F. ..."), so headings, list markers
    and entries would start with it. On a document whose pages (at least three, a third of
    them) number most of their lines in sequence, each number in that run is cut from its
    line (kept in the extracted text, out of the scan text)."""
    if sum(1 for lines in pages if _gutter_page(lines, 10)) < max(3, len(pages) / 3):
        return
    for lines in pages:  # a short last page numbers a few lines only
        for ln, cut in _gutter_page(lines, 3):
            ln.gutter, ln.text = ln.text[:cut], ln.text[cut:]


def _gutter_page(lines: list[_Line], least: int) -> list[tuple[_Line, int]]:
    """(line, length of its number and spaces) for the lines of a page numbered in sequence:
    the longest run of line-start numbers going up, when it numbers half the page's lines
    (``least`` at least); else none."""
    content = [ln for ln in lines if ln.text.strip()]
    nums = [(ln, m) for ln in content for m in [_GUTTER.match(ln.text)] if m]
    if len(nums) < least or len(nums) < len(content) / 2:
        return []
    values = [int(m.group(1)) for _, m in nums]
    # the longest run going up by 1 to 5 (a line PDFium reads elsewhere skips a number): the
    # page number or a line starting with a number is no part of it
    best, back = [1] * len(values), [-1] * len(values)
    for j, v in enumerate(values):
        for i in range(max(0, j - 8), j):
            if 0 < v - values[i] <= 5 and best[i] + 1 > best[j]:
                best[j], back[j] = best[i] + 1, i
    j = max(range(len(values)), key=lambda k: best[k])
    if best[j] < max(least, len(content) / 2):
        return []
    out = []
    while j >= 0:
        out.append((nums[j][0], nums[j][1].end()))
        j = back[j]
    return out[::-1]


def _second_head(pages: list[list[_Line]], first: list[_Line]) -> list[_Line]:
    """The head of the page after ``first`` when the article starts there: the first page is a
    summary page without an abstract (Cell Press's graphical abstract and highlights) and the
    next one opens with the article's head, up to its "Summary" or "Abstract"."""
    at = next((i for i, lines in enumerate(pages) if lines is first), None)
    if at is None or at + 1 >= len(pages) or any(_ABSTRACT.match(ln.text) for ln in first):
        return []
    nxt = pages[at + 1]
    end = next((i for i, ln in enumerate(nxt[:60]) if _ABSTRACT.match(ln.text)), None)
    return nxt[:end] if end is not None else []


def _linked_ends(text: str, link_dois: set[str]) -> list[int]:
    """Where a DOI printed in ``text`` ends though digits follow it with no space: the page links
    the DOI without them ("...msphere.00109-24" then the page number "10" in a running foot
    that PDFium reads as one word). Offsets in ``text``, in order."""
    cuts = []
    for m in _LINK_DOI.finditer(text):
        doi = m.group().lower()
        for d in link_dois:
            if len(doi) > len(d) and doi.startswith(d) and doi[len(d) :].isdigit():
                cuts.append(m.start() + len(d))
                break
    return cuts


def _goes_on(lines: list[_Line]) -> bool:
    """Does a page's first line of text (furniture aside) go on with the entry the page before
    ended? Only on the layout's word: it is indented, a line of its column below it starts
    further left (a hanging indent's next entry), and it is no heading."""
    i = next((k for k, ln in enumerate(lines) if not ln.subject and ln.text.strip()), None)
    if i is None:
        return False
    ln = lines[i]
    if ln.heading is not None or ln.opens_references or ln.closes_references or not ln.x:
        return False
    below = _column_below(lines, i)
    return bool(below) and below[0].x <= ln.x + 2 and _indented(ln, below)


def _end_at_figures(pages: list[list[_Line]], start: int) -> None:
    """A reference list ends where the figure pages after it begin (bioRxiv preprints print
    their figures, captions and panel labels last): at the first page after the list's first
    one that opens with a caption's label ("Fig. 1.", "Figure Legends", "Table 2") and prints
    few years (a caption floated onto a page of references leaves the list going on)."""
    for lines in pages[start + 1 :]:
        text = [ln for ln in lines if not ln.subject and ln.text.strip()]
        if not text or not _CAPTION_START.match(text[0].text) or text[0].heading is not None:
            continue
        if sum(1 for ln in text if _PRINT_YEAR.search(ln.text)) * 4 < len(text):
            text[0].closes_references = True
            return


def _dot_list_starts(flat: list[_Line], i: int) -> bool:
    """Does a numbered reference list "1. Name, ... (1982)." "2. ..." start at line ``i``?

    Its first ``_DOT_REFS_NEEDED`` entries follow each other within a few lines, each starts
    with a capital after its number and prints a year: numbered steps or findings in the body
    ("1. Cells were...") rarely date each item, and a numbered heading is a heading."""
    m = _DOT_REF.match(flat[i].text)
    if m is None or m.group(1) != "1" or flat[i].heading is not None:
        return False
    at, entries = i, []
    for n in range(2, _DOT_REFS_NEEDED + 2):
        nxt = next(
            (j for j in range(at + 1, min(at + 12, len(flat))) if _numbered(flat[j], n)), None
        )
        if nxt is None:
            if n <= _DOT_REFS_NEEDED:
                return False
            nxt = min(at + 12, len(flat))  # the last entry checked ends within its lines
        entries.append(" ".join(ln.text for ln in flat[at:nxt]))
        at = nxt
    return all(_PRINT_YEAR.search(e) for e in entries)


def _numbered(line: _Line, n: int) -> bool:
    m = _DOT_REF.match(line.text)
    return m is not None and m.group(1) == str(n) and line.heading is None


def _entry_starts(lines: list[_Line], i: int) -> bool:
    """In a reference list: does line ``i`` start an entry (a paragraph break before it)?

    Below the line before it in one column: when it is outdented (a hanging indent) or set
    apart by a wider gap. First in a column or on a page: when the line after it is indented
    (it is a hanging first line); not when it is indented itself, that is when a line of its
    column below it starts further left (it goes on with the entry the last column ended
    with, however many lines that takes); else as the gap says.
    """
    ln = lines[i]
    at = next((j for j in range(i - 1, -1, -1) if not lines[j].furniture), None)
    prev = lines[at] if at is not None else None
    if prev is not None and prev.size > 0 and ln.size > 0 and prev.y > ln.y:
        # below the last printed line of the one before (PDFium joins two lines at a hyphen),
        # which starts where its row does (PDFium splits a row at a superscript: "1992. 3" |
        # "H NMR assignment...", both on one baseline)
        left = prev.last_x
        if left and prev.last == prev.y:
            left = min([left, *_row_before(lines, at)])
        return ln.brk or bool(ln.x and left and ln.x < left - 2)
    below = _column_below(lines, i)
    if not below or not ln.x:
        return ln.brk
    if below[0].x > ln.x + 2:
        return True
    if _indented(ln, below):
        return False
    return ln.brk


def _indented(ln: _Line, below: list[_Line]) -> bool:
    """Is ``ln`` indented: does a line of its column below it start further left, before any
    wider gap (a heading above a code listing set further left is not)?"""
    for x in below:
        if ln.x > x.x + 2:
            return True
        if x.brk:
            return False
    return False


def _row_before(lines: list[_Line], at: int) -> list[float]:
    """The left x of the lines before line ``at`` printed on its baseline (one row PDFium gave
    as two or more lines)."""
    y, out = lines[at].y, []
    for j in range(at - 1, max(-1, at - 4), -1):
        ln = lines[j]
        if ln.furniture or ln.size <= 0 or abs(ln.y - y) > 1 or not ln.x:
            break
        out.append(ln.x)
    return out


def _column_below(lines: list[_Line], i: int) -> list[_Line]:
    """Up to ``_INDENT_LOOK`` printed lines after line ``i`` in its column: each below the one
    before (a line higher up is the next column's)."""
    out: list[_Line] = []
    y = lines[i].y
    for x in lines[i + 1 : i + 1 + 2 * _INDENT_LOOK]:
        if x.furniture or x.size <= 0:
            continue
        if x.y > y or len(out) == _INDENT_LOOK:
            break
        out.append(x)
        y = x.y
    return out


_INDENT_LOOK = 6  # lines of an entry continued at a column's top, at most, that are looked at


def _edge_lines(lines: list[_Line]) -> list[_Line]:
    """A page's first and last four lines in reading order, and the lines printed in the top
    or bottom tenth of its text's height."""
    placed = [ln.y for ln in lines if ln.size > 0]
    top, bottom = (max(placed), min(placed)) if placed else (0.0, 0.0)
    band = (top - bottom) / 10
    n = len(lines)
    return [
        ln
        for i, ln in enumerate(lines)
        if ln.text.strip()
        and (i < 4 or i >= n - 4 or (ln.size > 0 and (ln.y >= top - band or ln.y <= bottom + band)))
    ]


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).lower())


def _joins(line: _Line, nxt: _Line, link_dois: set[str]) -> bool:
    """Does an identifier run from the end of ``line`` into ``nxt``?"""
    text = _plain(line.text).rstrip()
    tail = text.rsplit(None, 1)[-1] if text.strip() else ""
    head_m = _DOI_CHARS.match(nxt.text.lstrip())
    if not tail or head_m is None or nxt.brk:
        return False
    if _ARXIV_LABEL_END.search(tail):
        return False  # handled by the label's own pattern ("arXiv:" then the id): keep the break
    if _ARXIV_URL_END.search(tail):
        return _ARXIV_URL_NEXT.match(nxt.text) is not None
    m = _DOI_TAIL.search(tail)
    if m is None:  # "https://doi.org/10." | "1104/pp.15.01164": broken right after "10."
        return bool(_TEN_END.search(tail)) and _registrant_follows(text, nxt.text)
    doi = m.group()
    joined = (doi + head_m.group()).rstrip(".,;")
    # The page's own links say where a DOI ends: one linked as printed on this line ends here
    # (not "...08.026" + ",arXiv:1307.1432" nor ".t007" + "Table 8"); one linked longer goes on.
    here, on = _core(doi).rstrip(".,;"), _core(joined)
    if "/" in doi and _HYPHEN_NEXT.match(nxt.text):
        return True  # "10.18429/JACoW" + "-HP071-WEPTY035": broken before a hyphen (even
        # where the page's link, drawn over the first line only, stops at the break)
    if here in link_dois:
        return False
    if any(len(d) > len(here) and d.startswith(here) and d[: len(on)] == on[: len(d)]
           for d in link_dois):  # fmt: skip
        return True
    if _ISSN_END.search(doi) and _ISSN_NEXT.match(nxt.text):
        return True  # "10.1016/0022-3956" + "(75)90026-6": an old Elsevier DOI goes on
    if "/" not in doi or doi.endswith("/"):
        return True  # "10.1038/" or "https://doi." : only half an identifier
    if doi.count("(") > doi.count(")") or doi.count("<") > doi.count(">"):
        return True  # a SICI DOI's bracket is still open
    if doi.endswith(_OPEN_END):
        return not (doi.endswith(".") and _NEW_ENTRY.match(nxt.text))
    return False


def _registrant_follows(text: str, nxt: str) -> bool:
    """Does a line ending in "10." go on into a DOI on ``nxt``?

    After a DOI label or resolver ("doi: 10.", "https://doi.org/10.") a registrant code
    ("1104/...") is enough. A bare "10." may end a sentence ("... in Table 10." + "2005/06
    figures"): it goes on only into a suffix that is no plain number.
    """
    m = _REGISTRANT_NEXT.match(nxt)
    if m is None:
        return False
    if _DOI_LABEL_END.search(text):
        return True
    return not m.group(1).rstrip(".,;").isdigit()


def _core(doi: str) -> str:
    i = doi.lower().find("10.")
    return doi[i:].lower() if i >= 0 else doi.lower()


def _plain(text: str) -> str:
    return text.replace("\ufffe", "-")


def _keep_hyphen(before: str, after: str, link_dois: set[str]) -> bool:
    """Keep a hyphenation mark between ``before`` and ``after``?

    Prose is dehyphenated, as a reader reads it: a word of letters broken at a line end
    ("selec-" + "tion", "down-" + "stream") is one word. Anything else keeps its hyphen: an
    identifier's ("AID-" + "GPS262>" in a SICI DOI, "hep-" + "th/9711200", "COVID-" + "19"),
    a capital's ("T-" + "cell"), unless the page links the DOI without it.
    """
    tail = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = after.split(None, 1)[0] if after.strip() else ""
    if _PROSE_START.fullmatch(tail) and _PROSE_END.match(word):
        return False
    m = _DOI_TAIL.search(tail)
    head = _DOI_CHARS.match(after)
    if m is None or head is None or not link_dois:
        return True
    doi = _core(m.group())
    with_, without = doi + "-" + head.group(), doi + head.group()
    linked = lambda d: any(x.startswith(_core(d).rstrip(".,;")) for x in link_dois)  # noqa: E731
    return not (linked(without) and not linked(with_))
