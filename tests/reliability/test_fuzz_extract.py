"""Fuzzing the extractor (issue #6): nothing crashes, and every mention keeps its promises.

The invariants ``pipeline.extract`` guarantees for every mention ``m`` of a file, checked here on
generated input (1,000 cases per target, in CI):

1. **Span.** ``m.start``/``m.end`` are character offsets into the file's *decoded* text (UTF-8,
   a BOM dropped; UTF-16 by its BOM; undecodable bytes read as cp1252), ``0 <= start < end <=
   len(text)``, and the printed text names the value:
   ``normalise(m.scheme, printed) == m.value`` where ``printed`` is ``text[m.start:m.end]``,
   HTML character references decoded first in an HTML file (``10.1/a&lt;1&gt;`` is
   ``10.1/a<1>``). Labels are never inside the span (``PMID: 1`` is reported at ``1``).
2. **Line.** ``m.line == text.count("\\n", 0, m.start) + 1``.
3. **Value.** ``normalise(m.scheme, m.value) == m.value`` (the contract's normalised form).
4. **Groups and roles.** Groups are numbered 1, 2, 3… in order of first appearance; one group
   has one role; a group that is not the page's own (``subject``) names at most one value per
   scheme; roles are ``subject|citing|reference|mention``.
5. **Failure.** ``extract_document`` never raises; a refused file has no mentions and exactly
   one fatal one-line problem.

Structured generators add completeness: an identifier planted where a reader must see it (HTML
text and links, a BibTeX field, a RIS tag, a CSV cell) is found with the right value, one work
per entry; one planted where it must not (``<script>``, ``<style>``, comments) is not.
"""

from __future__ import annotations

import functools
import html
import os
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline.readers.base as documents
import pipeline.readers.csv as csv_reader
from pipeline.extract import FALLBACK_ENCODING, extract_document
from pipeline.identifiers import find_identifiers, normalise
from pipeline.readers import SNIFF_SIZE, BinaryFile, NotUtf8, RawFile, detect_kind
from pipeline.records import SeedDocument
from tests.strategies import sampled

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ROLES = {"subject", "citing", "reference", "mention"}
EXTENSIONS = (".txt", ".md", ".html", ".bib", ".ris", ".csv", ".tsv")

_DIR = tempfile.mkdtemp(prefix="enrich-fuzz-")


@contextmanager
def written(data: bytes, ext: str) -> Iterator[str]:
    """A temporary file holding ``data``, removed afterwards (one per example)."""
    fd, path = tempfile.mkstemp(suffix=ext, dir=_DIR)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield path
    finally:
        os.unlink(path)


def decoded(path: str) -> str:
    """The text the extractor's offsets count in (the same decoding rules as the reader)."""
    try:
        return "".join(RawFile(path).chars())
    except NotUtf8:
        return "".join(RawFile(path, FALLBACK_ENCODING).chars())


def extracted_without_problems(source: str, ext: str) -> SeedDocument:
    """``source`` written as a ``ext`` file and extracted: invariants checked, no problems."""
    with written(source.encode("utf-8"), ext) as path:
        doc = extract_document(path)
        check_document(doc, path)
    assert doc.problems == ()
    return doc


def check_document(doc: SeedDocument, path: str) -> str | None:
    """Assert invariants 1-5 of ``doc``; return the decoded text (None for a refused file)."""
    if any(p.fatal for p in doc.problems):
        assert doc.mentions == ()
        assert len(doc.problems) == 1
        assert doc.problems[0].message and "\n" not in doc.problems[0].message
        return None
    for p in doc.problems:
        assert p.message and "\n" not in p.message
    text = decoded(path)
    is_html = detect_kind(path, text[:SNIFF_SIZE]) == "html"
    roles: dict[int, str] = {}
    values: dict[tuple[int, str], str] = {}
    next_group = 1
    for m in doc.mentions:
        assert 0 <= m.start < m.end <= len(text), m
        printed = text[m.start : m.end]
        if is_html:
            printed = html.unescape(printed)
        assert normalise(m.scheme, printed) == m.value, (m, text[m.start : m.end])
        assert m.line == text.count("\n", 0, m.start) + 1, m
        assert normalise(m.scheme, m.value) == m.value, m
        assert m.role in ROLES and m.document == path
        if m.group not in roles:
            assert m.group == next_group, m
            next_group += 1
        assert roles.setdefault(m.group, m.role) == m.role, m
        if m.role != "subject":
            assert values.setdefault((m.group, m.scheme), m.value) == m.value, m
    return text


# --------------------------------------------------------------------------------------------
# Vocabulary: identifier-like fragments, labels, markup and noise
# --------------------------------------------------------------------------------------------

_FRAGMENTS = [
    "10.",
    "10.1000/",
    "10.48550/arXiv.",
    "2101.00001",
    "v2",
    "hep-th/9901001",
    "doi:",
    "DOI: ",
    "https://doi.org/",
    "%2F",
    "%3C",
    "PMID: ",
    "PMID",
    "PMC",
    "PMCID: ",
    "PubMed ID: ",
    "pubmed.ncbi.nlm.nih.gov/",
    "europepmc.org/abstract/MED/",
    "arXiv:",
    "arxiv.org/abs/",
    "OpenAlex: ",
    "openalex.org/W",
    "W",
    "12345678",
    "0",
    "9",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    "{",
    "}",
    '"',
    "'",
    ".",
    ",",
    ";",
    ":",
    "/",
    "-",
    "#",
    "?",
    "&",
    "=",
    " ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "## References\n",
    "References\n\n",
    "Cited by\n\n",
    "1. ",
    "- ",
    "@article{",
    "TY  - ",
    "ER  - ",
    "DO  - ",
    "<p>",
    "</p>",
    "<li>",
    "<a href=",
    "<script>",
    "</script>",
    "<h2>",
    "</h2>",
    "&lt;",
    "&amp;",
    "&#",
    "\ufeff",
    "\u00e9",
    "\u2013",
    "\u201d",
    "\ue000subject\n",
    "\x00",
]
_NOISE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
# Text that looks like what the scanner looks for, cut and joined in every way.
scan_texts = st.lists(st.sampled_from(_FRAGMENTS) | _NOISE, max_size=40).map("".join)
_ENCODINGS = ["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]


@st.composite
def file_bytes(draw) -> bytes:
    """Bytes of a would-be seed file: encoded identifier soup, raw bytes, or both."""
    kind = draw(sampled("text", "text", "bytes", "mixed"))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    text = draw(scan_texts)
    encoding = draw(sampled(*_ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if kind == "mixed":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


# --------------------------------------------------------------------------------------------
# find_identifiers on arbitrary text
# --------------------------------------------------------------------------------------------


@FUZZ
@given(st.one_of(scan_texts, st.text(max_size=200)))
def test_find_identifiers_spans_name_their_values(text):
    found = find_identifiers(text)
    assert [f.start for f in found] == sorted(f.start for f in found)
    for f in found:
        assert 0 <= f.start < f.end <= len(text)
        assert normalise(f.scheme, text[f.start : f.end]) == f.value, (f, text)
        assert normalise(f.scheme, f.value) == f.value


# --------------------------------------------------------------------------------------------
# extract_document on arbitrary bytes, every extension
# --------------------------------------------------------------------------------------------


@FUZZ
@given(file_bytes(), st.sampled_from(EXTENSIONS))
def test_extract_document_keeps_its_invariants_on_arbitrary_bytes(data, ext):
    with written(data, ext) as path:
        doc = extract_document(path)
        assert doc.bytes == len(data)
        check_document(doc, path)
        if any(p.fatal for p in doc.problems):
            try:
                "".join(RawFile(path).chars())
            except BinaryFile:
                pass  # refused because binary: right
            else:
                raise AssertionError(f"readable text refused: {doc.problems}")


# --------------------------------------------------------------------------------------------
# Structured generators
# --------------------------------------------------------------------------------------------

_WORD = st.text(alphabet=string.ascii_lowercase + " ,;", max_size=10).map(lambda w: "zq " + w)


@functools.cache
def identifiers(n: int, scheme: str | None = None) -> st.SearchStrategy[tuple[str, str, str]]:
    """(scheme, value, printed) with a value unique to entry ``n`` (so works never merge); one
    strategy per (n, scheme), reused by every draw."""
    return _identifiers(n, scheme)


@st.composite
def _identifiers(draw, n: int, scheme: str | None = None) -> tuple[str, str, str]:
    scheme = scheme or draw(sampled("doi", "pmid", "pmcid", "arxiv", "openalex"))
    if scheme == "doi":
        suffix = draw(sampled("abc", "X.Y-Z", "a(1)b", "s1;2", "2024_09"))
        value = f"10.{1000 + n}/{suffix}{n}"
        printed = draw(sampled(value, value.upper(), "https://doi.org/" + value))
        return scheme, value.lower(), printed
    if scheme == "pmid":
        value = str(10_000_000 + n)
        return scheme, value, draw(sampled(f"PMID: {value}", f"PMID:{value}"))
    if scheme == "pmcid":
        value = f"PMC{1_000_000 + n}"
        return scheme, value, draw(sampled(value, f"PMCID: {value}"))
    if scheme == "arxiv":
        value = f"2{n % 10}0{1 + n % 9}.{10000 + n}"
        return scheme, value, draw(sampled(f"arXiv:{value}", f"arXiv:{value}v3"))
    value = f"W{100 + n}"
    return scheme, value, draw(sampled(f"https://openalex.org/{value}"))


def found_works(doc: SeedDocument) -> list[dict[str, str]]:
    groups: dict[int, dict[str, str]] = {}
    for m in doc.mentions:
        groups.setdefault(m.group, {})[m.scheme] = m.value
    return list(groups.values())


# HTML ----------------------------------------------------------------------------------------

_HIDDEN = ("script", "style", "noscript", "template")
_WRAPPERS = st.lists(st.sampled_from(["div", "section", "span", "b"]), max_size=4)


@st.composite
def html_documents(draw) -> tuple[str, list[dict[str, str]]]:
    """A page of random nested blocks whose <li> items each name one work (in text or links),
    with identifiers hidden in script/style/comments too; returns (html, expected works)."""
    expected: list[dict[str, str]] = []
    parts = ["<!DOCTYPE html><html><head><title>t</title></head><body>"]
    n = 0
    for _ in range(draw(st.integers(0, 6))):
        wrappers = draw(_WRAPPERS)
        parts += [f"<{w}>" for w in wrappers]
        parts.append("<ul>")
        for _ in range(draw(st.integers(1, 4))):
            n += 1
            scheme, value, printed = draw(identifiers(n))
            if printed.startswith("10.") and draw(st.booleans()):
                printed = printed.replace("(", "&#40;")  # a character reference in a DOI
            where = draw(sampled("text", "link", "para"))
            if where == "link" and scheme in ("doi", "openalex"):
                href = printed if printed.startswith("http") else "https://doi.org/" + printed
                item = f'<a href="{href}">{draw(_WORD)}</a>'
            elif where == "para":
                item = f"<p>{draw(_WORD)}</p><p>{printed}</p>"
            else:
                item = f"{draw(_WORD)} <i>{printed}</i> {draw(_WORD)}"
            parts.append(f"<li>{item}</li>")
            expected.append({scheme: value})
            if draw(st.booleans()):
                tag = draw(sampled(*_HIDDEN))
                parts.append(f"<{tag}>PMID: 99{n:06d} doi:10.9999/hidden{n}</{tag}>")
            if draw(st.booleans()):
                parts.append(f"<!-- doi:10.9999/comment{n} -->")
        parts.append("</ul>")
        parts += [f"</{w}>" for w in reversed(wrappers)]
    parts.append("</body></html>")
    return "".join(parts), expected


@FUZZ
@given(html_documents(), st.sampled_from(["\n", "", "\r\n"]))
def test_html_items_are_found_once_each_and_hidden_text_never(page, joiner):
    source, expected = page
    source = source.replace("><", ">" + joiner + "<")
    doc = extracted_without_problems(source, ".html")
    assert found_works(doc) == expected
    assert all(m.role == "mention" for m in doc.mentions)


# BibTeX --------------------------------------------------------------------------------------


@st.composite
def bibtex_files(draw) -> tuple[str, list[dict[str, str]]]:
    entries, expected = [], []
    for n in range(1, draw(st.integers(0, 6)) + 1):
        fields = [f"title = {{{draw(_WORD)}}}", f"year = {{{draw(st.integers(1900, 2030))}}}"]
        work: dict[str, str] = {}
        for k in range(draw(st.integers(1, 3))):
            scheme, value, printed = draw(identifiers(n))
            if scheme in work:
                continue
            work[scheme] = value
            if scheme == "arxiv":
                bare = printed.removeprefix("arXiv:")
                fields += [f"eprint = {{{bare}}}", "archivePrefix = {arXiv}"]
            elif scheme == "doi":
                fields.append(f"doi = {{{printed}}}" if k % 2 else f'doi = "{printed}"')
            else:
                fields.append(f"note = {{{printed}}}")
        fields = draw(st.permutations(fields))
        sep = draw(sampled(",\n  ", ", ", ",\r\n\t"))
        kind = draw(sampled("article", "ARTICLE", "misc", "inproceedings"))
        entries.append(f"@{kind}{{key{n},{sep}{sep.join(fields)}\n}}")
        expected.append(work)
    preamble = draw(sampled("", "% exported\n", "@comment{x}\n", "@string{j = {J}}\n"))
    return preamble + draw(sampled("\n", "\n\n")).join(entries) + "\n", expected


@FUZZ
@given(bibtex_files())
def test_bibtex_entries_are_one_reference_work_each(bib):
    source, expected = bib
    doc = extracted_without_problems(source, ".bib")
    assert found_works(doc) == expected
    assert {m.role for m in doc.mentions} <= {"reference"}


# RIS -----------------------------------------------------------------------------------------

_RIS_TAGS = {"doi": ["DO", "UR", "N1"], "pmid": ["AN", "N1"], "pmcid": ["N1", "AN"]}


@st.composite
def ris_files(draw) -> tuple[str, list[dict[str, str]]]:
    records, expected = [], []
    for n in range(1, draw(st.integers(0, 6)) + 1):
        lines = ["TY  - JOUR", f"TI  - {draw(_WORD)}", f"PY  - {draw(st.integers(1900, 2030))}"]
        work: dict[str, str] = {}
        for _ in range(draw(st.integers(1, 3))):
            scheme, value, printed = draw(identifiers(n))
            if scheme in work:
                continue
            work[scheme] = value
            tag = draw(sampled(*_RIS_TAGS.get(scheme, ["N1", "UR"])))
            lines.append(f"{tag}  - {printed}")
        lines = [lines[0], *draw(st.permutations(lines[1:]))]
        if n == 1 or draw(st.booleans()):  # a missing ER: the next TY still starts a record
            lines.append("ER  - ")
        records.append(draw(sampled("\n", "\r\n")).join(lines))
        expected.append(work)
    return draw(sampled("\n", "\n\n")).join(records) + "\n", expected


@FUZZ
@given(ris_files())
def test_ris_records_are_one_reference_work_each_even_without_er(ris):
    source, expected = ris
    doc = extracted_without_problems(source, ".ris")
    assert found_works(doc) == expected
    assert {m.role for m in doc.mentions} <= {"reference"}


# CSV / TSV -----------------------------------------------------------------------------------

_COLUMNS = {"doi": "DOI", "pmid": "pmid", "pmcid": "PMCID", "arxiv": "arxiv_id"}
_CSV_SCHEMES = st.lists(st.sampled_from(sorted(_COLUMNS)), min_size=1, max_size=3, unique=True)
# free-text cells: quoted, multiline, with delimiters and quotes
_CSV_FREE = st.text(alphabet=string.ascii_letters + ' ,;\t"\n-', max_size=20) | st.sampled_from(
    ["\n", "\n\n", "a\n", "\nb", '""', ",\n,", '5" tall', '"\n"']
)


def _csv_cell(value: str, delimiter: str, quote: bool) -> str:
    if quote or delimiter in value or '"' in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def csv_files(draw) -> tuple[str, str, list[dict[str, str]]]:
    """A table with identifier columns (bare values) and free-text cells (quoted, multiline,
    with delimiters and quotes); returns (ext, text, expected works)."""
    ext = draw(sampled(".csv", ".tsv"))
    d = "," if ext == ".csv" else "\t"
    schemes = draw(_CSV_SCHEMES)
    header = ["title", "abstract", *[_COLUMNS[s] for s in schemes], "notes"]
    rows, expected = [d.join(header)], []
    free = _CSV_FREE
    for n in range(1, draw(st.integers(0, 8)) + 1):
        work: dict[str, str] = {}
        cells = [_csv_cell(draw(free), d, draw(st.booleans())) for _ in range(2)]
        for s in schemes:
            if draw(st.integers(0, 4)) == 0:
                cells.append("")  # an empty cell
                continue
            _, value, printed = draw(identifiers(n, s))
            bare = value if s != "doi" else printed
            cells.append(_csv_cell(bare, d, draw(st.booleans())))
            work[s] = value
        cells.append(_csv_cell(draw(free), d, draw(st.booleans())))
        if draw(st.integers(0, 5)) == 0:
            cells = cells[: len(cells) - 1]  # a ragged row: a cell short
        elif draw(st.integers(0, 5)) == 0:
            cells.append("extra")  # a ragged row: a cell too many
        rows.append(d.join(cells))
        if work:
            expected.append(work)
    eol = draw(sampled("\n", "\r\n"))
    return ext, eol.join(rows) + draw(sampled("", eol)), expected


@FUZZ
@given(csv_files())
def test_csv_rows_are_one_work_each_with_their_typed_cells(table):
    ext, source, expected = table
    doc = extracted_without_problems(source, ext)
    # Free-text cells hold no identifier, so every mention comes from an identifier column.
    assert found_works(doc) == expected


# --------------------------------------------------------------------------------------------
# Regressions found by these generators
# --------------------------------------------------------------------------------------------


def test_a_label_before_a_doi_does_not_turn_its_prefix_into_a_pmid():
    # "pmid 10.1001/abc1" gave PMID 10 and lost the DOI (found in a random HTML list item).
    for text in ("pmid 10.1001/abc1", "PMID: 10.1001/abc1", "PMC 10.1001/abc1"):
        assert [(f.scheme, f.value) for f in find_identifiers(text)] == [("doi", "10.1001/abc1")]
    assert [f.value for f in find_identifiers("PMID: 12345.")] == ["12345"]
    assert [f.value for f in find_identifiers("PMC1234.5")] == ["PMC1234"]


# --------------------------------------------------------------------------------------------
# Streaming: how a file is cut into blocks and pieces never changes what is found
# --------------------------------------------------------------------------------------------

_TINY = {
    (documents, "PIECE_SIZE"): 64,
    (documents, "BLOCK_SIZE"): 7,
    (documents, "MAX_RUNS"): 16,
    (csv_reader, "MAX_CELLS"): 3,
}


@contextmanager
def tiny_pieces() -> Iterator[None]:
    """Blocks of 7 bytes, pieces of ~64 characters: every cut path of the readers runs."""
    saved = {key: getattr(*key) for key in _TINY}
    try:
        for (module, name), value in _TINY.items():
            setattr(module, name, value)
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


structured = st.one_of(
    html_documents().map(lambda t: (".html", t[0])),
    bibtex_files().map(lambda t: (".bib", t[0])),
    ris_files().map(lambda t: (".ris", t[0])),
    csv_files().map(lambda t: (t[0], t[1])),
)


@FUZZ
@given(structured)
def test_block_and_piece_sizes_never_change_the_mentions(doc):
    ext, source = doc
    with written(source.encode("utf-8"), ext) as path:
        whole = extract_document(path)
        with tiny_pieces():
            cut = extract_document(path)
    assert cut.problems == whole.problems
    assert cut.mentions == whole.mentions
