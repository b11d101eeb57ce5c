"""HTML: the visible text, link targets and ``citation_*`` meta values as scan text.

Headings become ``## Title`` lines, list items and paragraphs are separated by blank lines,
``<head>`` is the page's own (a ``subject`` mark) and each ``citation_reference`` meta tag is one
reference. Script, style, templates and comments give nothing. Positions map back to the file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

from pipeline.readers import base
from pipeline.readers.base import LABEL_AT_END, LABELS, MARK, Builder, Piece

__all__ = ["LineIndex", "read_html"]

# A saved page that is not the article but what a site shows in front of it: a bot check
# (Cloudflare's "Just a moment...", a CAPTCHA), a login form, a cookie wall, an error answer. Decided by signs in
# its markup (its title; an element's id or class, a <link> or <script> address, a script's
# text; a password field), and only on a page of few words: an article page may carry a
# challenge script (Cloudflare adds /cdn-cgi/challenge-platform/scripts/jsd/main.js to ordinary
# pages), a comment form's CAPTCHA, a login box or a cookie banner beside its text.
_NAME_CHARS = 200  # of a title or first <h1> kept: a title never closed must not grow
_FEW_WORDS = 150  # visible words outside <head>: a page with more is read as it is
_WALLS = (  # (what the page is, signs in its title, signs in its markup), strongest first
    (
        "bot-check",
        re.compile(
            r"just a moment|attention required|checking (?:your|the) browser|verify(?:ing)? "
            r"(?:that )?you are (?:a )?human|are you a (?:robot|human)|human verification"
            r"|captcha|ddos-guard|one more step|security check|request blocked|robot or human"
            r"|access (?:to this page )?(?:has been )?denied",
            re.IGNORECASE,
        ),
        re.compile(
            r"challenge-(?:form|running|stage|error|platform/h/)|cf-browser-verification"
            r"|cf-challenge|cf-please-wait|cf-turnstile|cf-error-details|_cf_chl"
            r"|/cdn-cgi/styles/challenges|captcha|ddos-guard|trk_jschal|sec-if-cpt",
            re.IGNORECASE,
        ),
    ),
    ("login", re.compile(r"\b(?:log ?in|sign ?in)\b", re.IGNORECASE), None),
    (
        "error",  # a site's error or rate-limit answer saved as the page
        re.compile(
            r"too many requests|service (?:temporarily )?unavailable|down for maintenance"
            r"|page not found|\b40[34]\b|forbidden|rate limit|bad gateway|server error",
            re.IGNORECASE,
        ),
        None,
    ),
    (
        "cookie-wall",
        re.compile(r"cookie|consent", re.IGNORECASE),
        re.compile(r"cookie|consent", re.I),
    ),
)
# In a script's text or a <link>/<script> address: Cloudflare's challenge options and its
# challenge scripts (/challenge-platform/h/…; not …/scripts/jsd/main.js, which ordinary pages
# carry), its challenge stylesheet.
_SCRIPT_SIGNS = (
    "_cf_chl_opt",
    "/challenge-platform/h/",
    "/cdn-cgi/styles/challenges",
    "captcha-delivery.com",  # DataDome's challenge
    "/captcha/captcha.js",  # HUMAN (PerimeterX)
)
_ANY_MARK = re.compile(  # a quick test before the kinds' own: most ids and classes are neither
    "|".join(m.pattern for _, _, m in _WALLS if m), re.IGNORECASE
)
_ADDRESS_ATTRS = frozenset({"href", "src"})  # bot-check signs only: any page links a cookie tool

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd details div dl dt fieldset figcaption "
    "figure footer form header hr li main nav ol p pre section summary table tbody td tfoot th "
    "thead tr ul title".split()
)
_ENTRY_TAGS = frozenset({"li", "tr", "dd", "dt"})  # one list entry = one work
_LIST_TAGS = frozenset({"ul", "ol", "menu"})
# A <div> whose class names it one reference is an entry, as an <li> is: the blocks inside it
# are words of its line. OUP (Silverchair) sets each reference as <div class="js-splitview-ref-
# item"> and each part of it (surname, given names, year, source, volume) in a <div> of its own,
# shown inline: read as blocks, "Abbott" and "PASP" were guessed headings that closed the list.
# Not a list's class ("ref-list", "references"), its links' ("citation-links"), nor a page part
# named after its own citation ("highwire-article-citation", "scorecard-citation").
_REF_CLASS = re.compile(
    r"(?:^|-)(?:ref|reference|bib|citation)-(?:item|content|entry)$"
    r"|^(?:(?:mixed|element)-)?citation$|^(?:ref|reference|bibr?)$",
    re.I,
)
# Words an item prints before a list inside it that make that list part of the item: a
# reference's own text ("Fold-change detection in biological systems") before its authors' or
# its links' list (eLife, PLOS), not a heading word ("2020", "Journal articles") over a list of
# works.
_OWN_WORDS = 4
_HEADING_TAGS = {f"h{i}": i for i in range(1, 7)}
# HTML sectioning elements: a heading inside one heads only what is inside it.
_SECTIONING = frozenset({"section", "article", "aside", "nav"})
# An item's first text, nothing but a number: the entry's number set in an element of its own
# (eLife's <span class="ordinal">1</span>, Frontiers' <div class="References__label">), not
# words of the reference ("2020", a year, is 4 digits).
_ORDINAL = re.compile(r"\s*\d{1,3}\s*")
_MAX_HEADING_LINKS = 64  # link targets of one heading held to write after it; more go inline
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "svg"})
_META_SCHEMES = {
    "citation_doi": "doi",
    "citation_pmid": "pmid",
    "citation_pmcid": "pmcid",
    "citation_arxiv_id": "arxiv",
    "dc.identifier": None,  # "doi:10…", "https://doi.org/…", "PMID:…": scanned as written
    "dc.identifier.doi": "doi",
    "prism.doi": "doi",
    "bepress_citation_doi": "doi",
    "doi": "doi",  # <meta name="DOI" …>; D-Lib: <meta id="DOI" content="10.1045/…">
    # The page's own addresses, often holding its DOI (Semantic Scholar prints its DOI only as
    # citation_pdf_url "https://doi.org/10.1177/…"; APS, IOP, Springer, bioRxiv in their paths)
    "citation_pdf_url": None,
    "citation_fulltext_html_url": None,
    "citation_abstract_html_url": None,
    "citation_public_url": None,
    "og:url": None,
}
_ATTR = re.compile(
    r"""(?P<name>[^\s"'>/=]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s"'>]+))"""
)


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31}):")
# Link schemes whose targets may name a work ("doi:10…", "info:doi/10…", "urn:…"); a relative
# path ("/doi/10.1002/x") has no scheme and is always scanned.
_WEB_SCHEMES = frozenset({"http", "https", "ftp", "doi", "info", "urn", "hdl", "pmid", "arxiv"})
# A field of a citation_reference meta value: up to a ";" that does not end a reference (&amp;).
_META_FIELD = re.compile(r"(?:&#?[A-Za-z0-9]{1,32};|[^;])+")
# The page's own address, from <base href>, <link rel="canonical"> or og:url: its origin is
# written before a root-relative link target with a digit in it, so that "/3249764/" on a PubMed
# page is read as https://pubmed.ncbi.nlm.nih.gov/3249764/ (a PMID), as a browser resolves it.
_ORIGIN = re.compile(r"\s*(https?://[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?)(?:[/?#]|\s*$)", re.I)
_ROOT_PATH = re.compile(r"/(?!/)[^\s]*?[0-9]")
# Atypon's link-out servlet (Taylor & Francis, Wiley, SAGE): "/servlet/linkout?suffix=…&dbid=16&
# doi=<the citing page's DOI>&key=<the cited work's DOI>": its doi= value names the page, not the
# work the reference cites, and is not read (the page names its own DOI in its head).
_LINKOUT = re.compile(r"/servlet/linkout\?", re.I)
_LINKOUT_DOI = re.compile(r"[?&;]doi=([^&\s]*)", re.I)
_CHARREF = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});")


class _Wall:
    """Signs that a page is a bot check, a login form, a cookie wall or an error answer."""

    def __init__(self) -> None:
        self.words = 0  # visible words outside <head>, counted up to _FEW_WORDS
        self.head = False
        self.naming: str | None = None  # "title" or "h1" while reading the page's name
        self.names = {"title": "", "h1": ""}  # its <title> and first <h1> (a 429 page's name)
        self.signs: set[str] = set()
        self.open = True  # still looking: fewer than _FEW_WORDS words so far

    def tag(self, tag: str, attrs: list) -> None:
        """An element's signs: its id or class, its address, a password field."""
        if tag in self.names and not self.names[tag]:
            self.naming = tag
        for name, value in attrs:
            if not value:
                continue
            if tag == "input" and name == "type" and value.lower() == "password":
                self.signs.add("login")
            elif name in ("id", "class") and _ANY_MARK.search(value):
                self.signs.update(kind for kind, _, mark in _WALLS if mark and mark.search(value))
            elif name in _ADDRESS_ATTRS:
                self.script(value)

    def end(self, tag: str) -> None:
        if tag == self.naming:
            self.naming = None
        elif tag == "head":
            self.head = False

    def script(self, text: str) -> None:
        """A script's text or an address: Cloudflare's challenge options and scripts (plain
        substring tests: a page's head may hold megabytes of script)."""
        if any(sign in text for sign in _SCRIPT_SIGNS):
            self.signs.add("bot-check")

    def text(self, data: str) -> None:
        if self.naming and len(self.names[self.naming]) < _NAME_CHARS:
            self.names[self.naming] += data[:_NAME_CHARS]
        if not self.head:
            self.words += len(data.split())
            self.open = self.words < _FEW_WORDS

    def verdict(self) -> str | None:
        """One line for a page of few words that shows the signs of a wall, else None."""
        if self.words >= _FEW_WORDS:
            return None
        name = " ".join((self.names["title"] or self.names["h1"]).split())[:80]
        kind = next((k for k, sign, _ in _WALLS if k in self.signs or sign.search(name)), None)
        if kind is None:
            return None
        shown = f'"{name}", ' if name else ""
        return (
            f"looks like {'an' if kind[0] in 'aeiou' else 'a'} {kind} page, not the article "
            f"({shown}{self.words} words of text): save it again from a browser once it "
            "shows the article"
        )


def marked_section(parser: HTMLParser, i: int, report: int = 1) -> int:
    """html.parser's reading of ``<![`` at ``i``, but one not followed by a name (``<![/head>``)
    is a bogus comment up to the next ``>``, as browsers read it: html.parser raised
    AssertionError there, and the whole file was "could not be read"."""
    try:
        return HTMLParser.parse_marked_section(parser, i, report)
    except AssertionError:
        return parser.parse_bogus_comment(i)


class _Html(HTMLParser):
    """Visible text, link targets and citation meta tags, as scan text with a map to the file.

    Iterative (html.parser is not recursive): any nesting depth is fine. The element stack is
    only consulted for "inside an entry", kept as a counter.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out = Builder()
        self.lines = LineIndex()
        self.skip = 0  # inside <script>/<style>
        self.entry = 0  # inside <li>/<tr>/…: blocks there do not split the entry
        self.lists = 0  # open <ul>/<ol>
        # Open <li>s: [its list depth, part of the item around it, words of its own so far]
        self.items: list[list] = []
        self.heading = False
        self.inline_heads = 0  # open headings read as words of the entry around them
        self.scopes: list[bool] = []  # open sectioning elements: whether each marked its scope
        self.number: str | None = None  # an entry's first text so far, while it may be a number
        self.tables = 0  # open <table>s
        self.heading_links: list[tuple[str, int, int]] = []  # the open heading's link targets
        self.rows: list[list] = []  # open <tr>s: [tables open around it, counted as an entry]
        self.divs: list[bool] = []  # open <div>s: whether each is a reference counted as an entry
        self.ready: list[Piece] = []
        self.rawbase = 0
        self.skipping: str | None = None  # the closer of an endless comment or tag
        self.wall = _Wall()
        self.origin = ""  # the page's scheme://host, once its head names its address

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        return marked_section(self, i, report)

    def feed_block(self, block: str) -> Iterator[Piece]:
        self.rawbase = self.lines.total - len(self.rawdata)  # file offset of rawdata[0]
        self.lines.add(block)
        if self.skipping:
            self._skip(block)
        else:
            self.feed(block)
        if len(self.rawdata) > 4 * base.PIECE_SIZE and self.rawdata.startswith("<"):
            # html.parser waits for the end of a comment or tag that has not come in millions
            # of characters, rescanning it at every block: skip to its closer instead (a
            # browser shows none of it either).
            self.skipping = "-->" if self.rawdata.startswith("<!--") else ">"
            self._skip("")
        yield from self.ready
        self.ready.clear()

    def _skip(self, block: str) -> None:
        """Drop input up to and including ``self.skipping``, keeping the parser's position."""
        self.rawdata += block
        closer = self.skipping or ">"
        j = self.rawdata.find(closer)
        if j < 0:
            keep = len(closer) - 1  # a closer may straddle two blocks
            self.updatepos(0, len(self.rawdata) - keep)
            self.rawdata = self.rawdata[len(self.rawdata) - keep :]
            return
        self.updatepos(0, j + len(closer))
        self.rawdata = self.rawdata[j + len(closer) :]
        self.skipping = None
        self.goahead(0)

    def close(self) -> None:
        """What is left unparsed at the end is a comment, tag or declaration never closed: a
        browser shows none of it (html.parser would rescan it once per "<", quadratically)."""
        if self.skipping or self.rawdata.startswith("<"):
            self.updatepos(0, len(self.rawdata))
            self.rawdata = ""
        super().close()
        if self.heading_links:  # of a heading never closed
            self.out.synth("\n\n")
            self._heading_links()

    def _boundary(self) -> None:
        """A blank line: the end of an entry, and a place where a piece may end."""
        self.out.synth("\n\n")
        if self.out.size >= base.PIECE_SIZE or len(self.out.spans.pos) >= base.MAX_RUNS:
            self.ready.append(self.out.take())
            self.out.synth("\n\n")

    def _maybe_cut(self) -> None:
        """End a piece inside a long run of inline text (a page without block tags): after a
        blank that follows no label, or anywhere once far too large, so memory stays bounded."""
        out = self.out
        runs = len(out.spans.pos)
        if out.size < 2 * base.PIECE_SIZE and runs < 2 * base.MAX_RUNS:
            return
        tail = "".join(out.parts[-8:])[-64:]
        safe = tail[-1:].isspace() and not LABEL_AT_END.search(tail.rstrip(" \t"))
        if safe or out.size >= 4 * base.PIECE_SIZE or runs >= 4 * base.MAX_RUNS:
            self.ready.append(out.take())

    def where(self) -> tuple[int, int]:
        line, col = self.getpos()
        return self.lines.offset(line) + col, line

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._end_text()
        if self.wall.open:
            self.wall.tag(tag, attrs)
        if tag in _SKIP_TAGS:
            self.out.space()  # what comes before and after a script is never one word
            self.skip += 1
        elif tag == "head":
            self.wall.head = True
            self.out.synth("\n\n" + MARK + "subject\n")
        elif tag == "body":
            self.out.synth("\n\n" + MARK + "end\n\n")
        elif tag == "meta":
            self._meta(attrs)
            if not self.origin and _is_attr(attrs, "property", "og:url"):
                self._learn_origin(attrs, "content")
        elif tag in _HEADING_TAGS and self._in_item_words():
            self.inline_heads += 1
            self.out.space()
        elif tag in _HEADING_TAGS:
            self.out.synth("\n\n" + "#" * _HEADING_TAGS[tag] + " ")
            self.heading = True
        elif tag == "div":
            self._div(attrs, opening=True)
        else:
            self._block(tag, opening=True)
            if tag in ("a", "link"):
                self._href()
            if tag == "base" or tag == "link" and _is_attr(attrs, "rel", "canonical"):
                self._learn_origin(attrs, "href", replace=tag == "base")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP_TAGS:
            self.skip -= 1

    def handle_endtag(self, tag: str) -> None:
        self._end_text()
        if self.wall.open:
            self.wall.end(tag)
        if tag in _SKIP_TAGS:  # a stray end tag too: "10.1000/</script>10" is no DOI "10.1000/10"
            self.skip = max(self.skip - 1, 0)
            self.out.space()
        elif tag == "head":
            self.out.synth("\n\n" + MARK + "end\n\n")
        elif tag in _HEADING_TAGS and self.inline_heads:
            self.inline_heads -= 1
            self.out.space()
        elif tag in _HEADING_TAGS:
            self.heading = False
            self._boundary()
            self._heading_links()
        elif tag == "div":
            self._div([], opening=False)
        else:
            self._block(tag, opening=False)

    def _in_item_words(self) -> bool:
        """A heading inside a list item that has printed words of its own is words of that
        item: ScienceDirect sets each reference's journal in an ``<h3>`` after its authors
        (``<li>V.E. Bondybey et al. <h3>Chem. Phys. Lett.</h3> (1983)</li>``). A heading first
        in its item ("<li><h3>2020</h3><ul>…", a publication list's year) is still a heading."""
        return bool(self.items) and self.items[-1][2] > 0

    def _block(self, tag: str, *, opening: bool) -> None:
        if tag in _SECTIONING:
            self._scope(opening=opening)
        if tag in _LIST_TAGS:
            self._list(opening=opening)
        if tag == "table":
            self._table(opening=opening)
        if tag == "li":
            self._item(opening=opening)
        elif tag == "tr":
            self._row(opening=opening)
        elif tag in _ENTRY_TAGS:
            self.entry = max(self.entry + (1 if opening else -1), 0)
            self._boundary()
        elif tag == "br":
            self.out.line_break()  # a line, not a paragraph: "PMID: 1<br>DOI: …" is one work
        elif tag in _BLOCK_TAGS and not (self.entry or self.heading):
            self._boundary()
        elif tag in _BLOCK_TAGS and self.heading:
            self.out.line_break()
        elif tag in _BLOCK_TAGS:
            self.out.space()  # a paragraph inside a list item is still that item, on its line
        else:
            self.out.space()  # an inline tag still separates words
            self._maybe_cut()

    def _div(self, attrs: list, *, opening: bool) -> None:
        """A ``<div>`` is a block, unless its class names it one reference (see _REF_CLASS) and
        it is in no entry yet: then it is an entry, and its blocks are words of its line."""
        if opening:
            ref = not (self.entry or self.heading) and any(
                name == "class" and value and any(map(_REF_CLASS.search, value.split()))
                for name, value in attrs
            )
            self.divs.append(ref)
            if ref:
                self.entry += 1
                self._boundary()
                return
        elif self.divs and self.divs.pop():
            self.entry = max(self.entry - 1, 0)
            self._boundary()
            return
        self._block("div", opening=opening)

    def _scope(self, *, opening: bool) -> None:
        """A sectioning element's start and end, marked so that the headings inside it end
        with it; not inside an entry or a heading (a mark would cut them)."""
        if opening:
            marked = not (self.entry or self.heading)
            self.scopes.append(marked)
            if marked:
                self._boundary()
                self.out.synth(MARK + "scope\n\n")
        elif self.scopes and self.scopes.pop() and not (self.entry or self.heading):
            self._boundary()
            self.out.synth(MARK + "unscope\n\n")

    def _table(self, *, opening: bool) -> None:
        """A table inside a row makes every row around it a layout row, no entry (a page
        laid out in a table: its article is in a cell, its references each a <div> or <p>)."""
        if opening:
            for row in reversed(self.rows):  # rows below a layout row are layout rows already
                if not row[1]:
                    break
                row[1] = False
                self.entry = max(self.entry - 1, 0)
            self.tables += 1
            return
        while self.rows and self.rows[-1][0] >= self.tables:  # its rows left open
            self._row(opening=False)
        self.tables = max(self.tables - 1, 0)

    def _row(self, *, opening: bool) -> None:
        """A table row is one entry (a publication list's row), until a table inside it shows
        it is layout; a row left open ends at the next row of its table."""
        rows = self.rows
        if opening:
            while rows and rows[-1][0] >= self.tables:
                self._row(opening=False)
            rows.append([self.tables, True])
            self.entry += 1
        elif rows and rows.pop()[1]:
            self.entry = max(self.entry - 1, 0)
        self._boundary()

    def _list(self, *, opening: bool) -> None:
        if opening:
            self.lists += 1
            return
        self.lists = max(self.lists - 1, 0)
        while self.items and self.items[-1][0] > self.lists:  # its items left open
            self._item(opening=False)

    def _item(self, *, opening: bool) -> None:
        """An ``<li>`` is an entry, unless it is in a list inside an item that printed words of
        its own first (a reference's authors or links as a list): then words of that item."""
        items = self.items
        if opening:
            while items and items[-1][0] >= self.lists:  # "<li>a<li>b": the first one ends
                self._item(opening=False)
            outer = next((it for it in reversed(items) if not it[1]), None)
            part = outer is not None and outer[2] >= _OWN_WORDS
            items.append([self.lists, part, 0])
            self.entry += 1
        else:
            part = bool(items) and items.pop()[1]
            self.entry = max(self.entry - 1, 0)
            self.inline_heads = 0  # a heading left open in the item ends with it
        if part:
            self.out.space()
        else:
            self._boundary()

    def handle_data(self, data: str) -> None:
        if self.skip:
            if self.wall.open:
                self.wall.script(data)
            return
        if self.wall.open:
            self.wall.text(data)
        if data.isspace():  # indentation between tags: no text, and no need to map it
            self.out.space()
            return
        if self.number is not None:  # the item's first text goes on: more of its number?
            self.number = self.number + data if len(self.number) < 8 else None
        if self.items and self.items[-1][2] < _OWN_WORDS:  # enough words known: stop counting
            if self.items[-1][2] == 0 and not self.items[-1][1]:
                self.number = data  # the entry's first text: its number, if a tag ends it here
            self.items[-1][2] += len(data.split())
        src, line = self.where()
        if (self.heading or self.entry) and "\n" in data:
            # A heading stays on its "## " line, an entry on its line: a line break in the
            # file is a space on the page (Wiley: "<span>1274</span>.\n  <div>10.3389/…")
            at = 0
            for k, part in enumerate(data.split("\n")):
                if k:
                    self.out.synth(" ")
                self.out.real(part, src + at, line + k)
                at += len(part) + 1
        else:
            self.out.real(data, src, line)
        self._maybe_cut()

    def _end_text(self) -> None:
        """A tag ends the text before it: an entry's first text that is nothing but a number
        is its number set apart ("<span>1</span>"), written as a label ("1.")."""
        if self.number is not None:
            if _ORDINAL.fullmatch(self.number):
                self.out.synth(".")
            self.number = None

    def handle_entityref(self, name: str) -> None:
        self._reference(f"&{name}")

    def handle_charref(self, name: str) -> None:
        self._reference(f"&#{name}")

    def _reference(self, raw: str) -> None:
        # "10.1000/xyz&lt;1&gt;" is the DOI 10.1000/xyz<1>: the decoded character joins the text
        # and maps back to the whole reference, its ";" included when it has one ("&amp" too).
        if not self.skip:
            self.number = None  # "1&nbsp;Smith": the number is no text of its own
            src, line = self.where()
            if self.rawdata.startswith(";", src - self.rawbase + len(raw)):
                raw += ";"
            char = html.unescape(raw).replace("\xa0", " ")
            self.out.real(char, src, line, len(raw))
            self._maybe_cut()

    def _meta(self, attrs: list) -> None:
        names = {k.lower(): (v or "") for k, v in attrs}
        key = (names.get("name") or names.get("property") or names.get("id") or "").lower()
        if key == "citation_reference":
            self._cited_meta()
        elif key in _META_SCHEMES:
            scheme = _META_SCHEMES[key]
            self._attribute("content", lead="\n" + (LABELS[scheme] if scheme else ""), tail="\n")

    def _cited_meta(self) -> None:
        """One ``citation_reference`` meta tag is one reference of the page (Google Scholar's
        ``citation_title=…; citation_doi=10.…; citation_pmid=…`` form, or free text)."""
        found = self._attribute_value("content")
        if found is None:
            return
        value, src, line = found
        self.out.synth("\n\n" + MARK + "reference\n")
        start = self.out.size
        for part in _META_FIELD.finditer(value):  # ";" ends a field, never a DOI, here
            key, eq, rest = part.group().partition("=")
            scheme = _META_SCHEMES.get(key.strip().lower()) if eq else None
            at = part.start() + (len(key) + 1 if scheme else 0)
            self.out.synth("\n" + (LABELS[scheme] if scheme else ""))
            self._unescaped(
                rest if scheme else part.group(), src + at, line + value.count("\n", 0, at)
            )
        fields = (p.group().partition("=") for p in _META_FIELD.finditer(html.unescape(value)))
        cited = ". ".join(" ".join((v if e else k).split()) for k, e, v in fields if k.strip())
        self.out.entry(start, cited)
        self.out.synth("\n\n" + MARK + "subject\n")

    def _href(self) -> None:
        """A link target, scanned unless it points into this page (``#cite_note-3``: a
        reference list's back links) or is no web address (``mw-data:``, ``javascript:``,
        ``mailto:``, ``data:``): such targets name no work, and would be words of the entry's
        text (``#cite_ref-Smith2020_3-0 ^ Smith J...``)."""
        found = self._attribute_value("href")
        if found is None:
            return
        value = found[0].lstrip()
        scheme = _SCHEME.match(value)
        if value.startswith("#") or (scheme and scheme.group(1).lower() not in _WEB_SCHEMES):
            return
        if self.heading and len(self.heading_links) < _MAX_HEADING_LINKS:
            self.heading_links.append(found)  # written after the heading: no words of its title
            return
        self.out.synth(" ")
        self._link(found)
        self.out.synth(" ")

    def _link(self, found: tuple[str, int, int]) -> None:
        """A link target as scan text, a root-relative one after the page's origin."""
        if self.origin and _ROOT_PATH.match(found[0]):
            self.out.synth(self.origin)
        value, src, line = found
        if not _LINKOUT.search(value):
            self._unescaped(*found)
            return
        at = 0
        for m in _LINKOUT_DOI.finditer(value):  # all but the citing page's DOI
            self._unescaped(value[at : m.start(1)], src + at, line + value.count("\n", 0, at))
            self.out.synth(" ")
            at = m.end(1)
        self._unescaped(value[at:], src + at, line + value.count("\n", 0, at))

    def _learn_origin(self, attrs: list, name: str, *, replace: bool = False) -> None:
        """The page's scheme://host from an address attribute (<base> overrides the others)."""
        if self.origin and not replace:
            return
        value = next((v for k, v in attrs if k == name and v), "")
        m = _ORIGIN.match(html.unescape(value))
        if m:
            self.origin = m.group(1)

    def _heading_links(self) -> None:
        """The link targets of the heading just ended, one a line between link marks (as the
        DOCX reader writes a paragraph's): their ids are found, with the role of the heading's
        section, and its title is only its words ("References", not "References [ /w/index.
        php?…&action=edit edit ]"; "Citing Articles", not "/prx/cited-by/10.1103/… Citing
        Articles")."""
        if not self.heading_links:
            return
        self.out.synth(MARK + "link\n")
        for found in self.heading_links:
            self._link(found)
            self.out.synth("\n")
        self.out.synth(MARK + "unlink\n\n")
        self.heading_links.clear()

    def _attribute(self, name: str, *, lead: str, tail: str) -> None:
        found = self._attribute_value(name)
        if found is not None:
            self.out.synth(lead)
            self._unescaped(*found)
            self.out.synth(tail)

    def _unescaped(self, value: str, src: int, line: int) -> None:
        """An attribute value as the browser reads it: ``a&#40;1)`` is ``a(1)``, each decoded
        character reference mapping back to the whole reference."""
        at = 0
        for m in _CHARREF.finditer(value):
            char = html.unescape(m.group())
            if char == m.group():
                continue  # not a reference html knows: left as written
            self.out.real(value[at : m.start()], src + at, line + value.count("\n", 0, at))
            where = line + value.count("\n", 0, m.start())
            self.out.real(char.replace("\xa0", " "), src + m.start(), where, len(m.group()))
            at = m.end()
        self.out.real(value[at:], src + at, line + value.count("\n", 0, at))

    def _attribute_value(self, name: str) -> tuple[str, int, int] | None:
        """The raw value of attribute ``name`` of the current tag, its file offset and line."""
        raw = self.get_starttag_text() or ""
        for m in _ATTR.finditer(raw):
            if m.group("name").lower() == name:
                group = next(g for g in ("dq", "sq", "uq") if m.group(g) is not None)
                src, line = self.where()
                at = m.start(group)
                return m.group(group), src + at, line + raw.count("\n", 0, at)
        return None


def _is_attr(attrs: list, name: str, value: str) -> bool:
    """Whether attribute ``name`` holds ``value`` (case-insensitive; rel="canonical x" too)."""
    return any(k == name and v and value in v.lower().split() for k, v in attrs)


class LineIndex:
    """File offsets of line starts, kept only for lines the parser may still report."""

    def __init__(self) -> None:
        self.first = 1  # line number of starts[0]
        self.starts = [0]
        self.total = 0

    def add(self, block: str) -> None:
        at = block.find("\n")
        while at >= 0:
            self.starts.append(self.total + at + 1)
            at = block.find("\n", at + 1)
        self.total += len(block)

    def offset(self, line: int) -> int:
        i = line - self.first
        if i > 4096:  # the parser has moved on: forget lines it can no longer report
            drop = i - 64
            del self.starts[:drop]
            self.first += drop
            i -= drop
        return self.starts[i]


def read_html(chars: Iterable[str], problems: list[str] | None = None) -> Iterator[Piece]:
    """The pieces of an HTML page whose text arrives as ``chars`` blocks. ``problems``, if
    given, receives one line when the page looks like a bot check, a login form, a cookie
    wall or an error answer saved instead of the article (see _WALLS)."""
    parser = _Html()
    parser.out.synth("\n\n")
    for block in chars:
        yield from parser.feed_block(block)
    parser.close()
    verdict = parser.wall.verdict()
    if verdict and problems is not None:
        problems.append(verdict)
    yield from parser.ready  # cut while the parser flushed what it still held
    if parser.out.size:
        yield parser.out.take()
