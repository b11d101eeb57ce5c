"""Hostile and broken seed files (issue #6): each is refused or read, with at most one one-line
message per file, in bounded memory, and never at the expense of the other files of the call.

What each input ends as (``extract_document``; the CLI prints the same message on stderr):

==========================================  =================================================
input                                       outcome
==========================================  =================================================
PNG/zip signature, random bytes, NULs       refused, fatal: "binary file (…); not read"
a truncated PDF (signature, no body)        refused, fatal: "damaged PDF (…); not read"
NULs only after the first 8 KB              read as text (the NULs are just characters)
200 MB on one line                          read in pieces; every identifier, < 64 MB growth
latin-1 / cp1252                            read, warning: "not UTF-8; decoded as cp1252 …"
UTF-8 with stray invalid bytes              read, same warning; the valid UTF-8 stays UTF-8
UTF-16 LE/BE with BOM, UTF-32 with BOM      read, no problem
UTF-16 LE/BE without BOM                    recognised by its NUL pattern, read, no problem
broken UTF-16 (odd length)                  read, warning: "not valid UTF-16…; … replaced"
HTML nested 100,000 levels                  read (the parser is not recursive)
HTML tables/sections nested 100,000 levels  read in linear time (layout rows, kept sections)
HTML of inline markup only, no block tags   cut into pieces of bounded size and map
HTML comment/tag/"<!" never closed          the rest is hidden (as in a browser), linear time
HTML script/style/noscript/template/svg,    never yield identifiers (an unclosed <script>
comments                                    hides the rest of the page, as in a browser)
BibTeX with unbalanced braces               every entry still one reference work
RIS without ER                              the next TY starts the next record
CSV, a million rows                         streamed; every row's id; memory = output only
CSV ragged rows, quoted/multiline cells,    read; a stray quote no longer hangs the reader
a stray quote, lone-CR rows
CSV of one endless line                     read in parts of MAX_CELLS cells, every id
empty file, BOM only                        nothing, no problem
FIFO, character device                      fatal: "a FIFO, not a regular file; skipped"
                                            (never opened: no hang)
symlink loop (file) / to an ancestor (dir)  fatal "unreadable: Too many levels…" / not walked
no read permission                          fatal: "unreadable: Permission denied"
spaces and non-ASCII in path names          read; ``document`` is the path as given
==========================================  =================================================
"""

from __future__ import annotations

import codecs
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import pipeline.readers.base as documents
import pipeline.readers.csv as csv_reader
import pipeline.readers.source as source
from pipeline.extract import FALLBACK_ENCODING, extract_document, extract_paths
from pipeline.identifiers import normalise
from pipeline.readers import NotUtf8, RawFile, read_pieces
from pipeline.records import SeedDocument

ROOT = Path(__file__).resolve().parents[2]
GOOD = (
    "Title of a page\n\n"
    "PMID: 27172445 DOI: 10.1000/abc.1\n\n"
    "## References\n\n"
    "1. Smith J. doi:10.1038/nphys1170 PMCID: PMC11727498\n"
    "2. Doe A. arXiv:2101.00001v2 https://openalex.org/W2741809807\n"
)
GOOD_VALUES = [
    "27172445",
    "10.1000/abc.1",
    "10.1038/nphys1170",
    "PMC11727498",
    "2101.00001",
    "W2741809807",
]


def values(doc: SeedDocument) -> list[str]:
    return [m.value for m in doc.mentions]


def decoded(path: str | Path) -> str:
    try:
        return "".join(RawFile(str(path)).chars())
    except NotUtf8:
        return "".join(RawFile(str(path), FALLBACK_ENCODING).chars())


def assert_spans(doc: SeedDocument) -> None:
    """Every mention points at its value in the decoded text, on the right line."""
    text = decoded(doc.path)
    for m in doc.mentions:
        assert normalise(m.scheme, text[m.start : m.end]) == m.value, m
        assert text.count("\n", 0, m.start) + 1 == m.line, m


def one_problem(doc: SeedDocument, starts: str, *, fatal: bool) -> None:
    assert len(doc.problems) == 1, doc.problems
    (p,) = doc.problems
    assert p.fatal is fatal and p.path == doc.path
    assert p.message.startswith(starts), p.message
    assert "\n" not in p.message and len(p.message) < 120


def in_subprocess(code: str, *, timeout: float = 120, user: int | None = None) -> dict:
    """Run ``code`` in a fresh interpreter (own peak RSS, killable); it prints one JSON line."""
    prelude = f"import json, resource, sys, time\nsys.path.insert(0, {str(ROOT)!r})\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        user=user,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Binary
# --------------------------------------------------------------------------------------------

_RANDOM = random.Random(6).randbytes(64 * 1024)
BINARIES = {
    "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _RANDOM[:2000],
    "random.txt": _RANDOM,
    "nul-laden.txt": b"PMID: 27172445\x00\x00\x01\x02 doi:10.1000/abc\n" * 50,
    "archive.csv": b"PK\x03\x04" + _RANDOM[:500],
}


def test_a_truncated_pdf_is_refused_as_damaged_with_one_line(tmp_path):
    # Once refused as "binary" (PDFs were not read); now read, and a PDF that is only its
    # signature is named as damaged, still hashed and counted.
    data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj PMID: 27172445\n"
    doc = extract_document(_write(tmp_path / "paper.pdf", data))
    assert doc.mentions == ()
    one_problem(doc, "damaged PDF", fatal=True)
    assert doc.bytes == len(data)


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_binary_files_are_refused_with_one_line(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(BINARIES[name])
    doc = extract_document(str(path))
    assert doc.mentions == ()
    one_problem(doc, "binary file", fatal=True)
    assert doc.bytes == len(BINARIES[name])  # still identified: size and hash


def test_nul_bytes_after_the_sniffed_head_are_just_characters(tmp_path):
    path = tmp_path / "late-nul.txt"
    path.write_bytes(GOOD.encode() * 400 + b"\x00\x00" + GOOD.encode())
    doc = extract_document(str(path))
    assert doc.problems == ()
    assert values(doc) == GOOD_VALUES * 401
    assert_spans(doc)


# --------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------

ACCENTED = "Caf\u00e9 \u00e0 la cr\u00e8me \u2013 \u201cquoted\u201d\n\n" + GOOD


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("latin1.txt", ACCENTED.replace("\u2013", "-").replace("\u201c", '"')
         .replace("\u201d", '"').encode("latin-1"), "not UTF-8; decoded as cp1252"),
        ("cp1252.txt", ACCENTED.encode("cp1252"), "not UTF-8; decoded as cp1252"),
        ("utf16le-bom.txt", codecs.BOM_UTF16_LE + ACCENTED.encode("utf-16-le"), None),
        ("utf16be-bom.txt", codecs.BOM_UTF16_BE + ACCENTED.encode("utf-16-be"), None),
        ("utf16le.txt", ACCENTED.encode("utf-16-le"), None),
        ("utf16be.txt", ACCENTED.encode("utf-16-be"), None),
        ("utf32.txt", ACCENTED.encode("utf-32"), None),
        ("utf8-bom.txt", codecs.BOM_UTF8 + ACCENTED.encode(), None),
        ("utf16-odd.txt", ACCENTED.encode("utf-16") + b"\x00", "not valid UTF-16"),
    ],
)  # fmt: skip
def test_other_encodings_are_read_with_at_most_a_warning(tmp_path, name, data, problem):
    path = tmp_path / name
    path.write_bytes(data)
    doc = extract_document(str(path))
    if problem is None:
        assert doc.problems == ()
    else:
        one_problem(doc, problem, fatal=False)
    assert values(doc) == GOOD_VALUES
    assert_spans(doc)
    assert decoded(path).lstrip("\ufeff").startswith(ACCENTED[:4])


def test_stray_invalid_bytes_in_utf8_leave_the_valid_utf8_alone(tmp_path):
    # One Windows byte in a UTF-8 file: only that byte is read as cp1252, so every accented
    # character stays one character and the offsets are those of a UTF-8 editor.
    good = ("\u00e9\u00e8\u4e2d " * 50 + "\n\n" + GOOD).encode()
    data = good + b"\x93bad\x94 \xed\xa0\x80 \xc3(\n\n" + good
    path = tmp_path / "mixed.txt"
    path.write_bytes(data)
    doc = extract_document(str(path))
    one_problem(doc, "not UTF-8; decoded as cp1252", fatal=False)
    text = good.decode()
    assert decoded(path) == text + "\u201cbad\u201d \u00ed\u00a0\u20ac \u00c3(\n\n" + text
    assert values(doc) == GOOD_VALUES * 2
    first = extract_document(_write(tmp_path / "alone.txt", good))
    assert [(m.start, m.line) for m in doc.mentions[:6]] == [
        (m.start, m.line) for m in first.mentions
    ]
    assert_spans(doc)


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"\n\n\n"])
def test_empty_files_give_nothing_and_no_problem(tmp_path, data):
    doc = extract_document(_write(tmp_path / "empty.txt", data))
    assert (doc.mentions, doc.problems, doc.bytes) == ((), (), len(data))


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def test_html_nested_100k_levels_is_read(tmp_path):
    depth = 100_000
    page = (
        ("<html><body>" + "<div><span>" * depth + "<p>PMID: 27172445</p>" + "</span></div>" * depth)
        + "<ul>"
        + "<li>" * depth
        + "doi:10.1000/deep"
        + "</body></html>"
    )  # unclosed <li>s
    doc = extract_document(_write(tmp_path / "deep.html", page.encode()))
    assert doc.problems == ()
    assert values(doc) == ["27172445", "10.1000/deep"]


@pytest.mark.timeout(60)
def test_html_nested_tables_and_sections_take_linear_time(tmp_path):
    # each table demotes only the rows still counted around it, each section keeps the sections
    # around it up to 512 levels: 100,000 of each take seconds, not hours
    depth = 100_000
    page = (
        "<table><tr><td><section><h2>References</h2>" * depth
        + "<p>Smith J. A study of things. PMID: 27172445</p>"
        + "</section></td></tr></table>" * depth
    )
    doc = extract_document(_write(tmp_path / "deep.html", page.encode()))
    assert doc.problems == ()
    assert [(m.value, m.role) for m in doc.mentions] == [("27172445", "reference")]


@pytest.mark.timeout(45)
def test_an_html_title_never_closed_of_millions_of_tiny_pieces_takes_linear_time():
    # the reader keeps a page's title (to tell a bot-check page): at most its first 200
    # characters, or every piece of a title never closed copies the whole title so far
    page = "<html><head><title>" + "x<b>" * 2_500_000 + "</head><body>hi</body></html>"
    blocks = [page[i : i + 65536] for i in range(0, len(page), 65536)]
    assert "hi" in "".join(p.text for p in read_pieces("html", blocks))


def test_html_script_style_and_comments_never_yield_identifiers(tmp_path):
    page = """<!DOCTYPE html><html><head>
<script>var pmid = "PMID: 11111111"; var doi = "10.9999/in-head-script";</script>
<style>/* 10.9999/in-style */ .a::after { content: "PMID: 22222222"; }</style>
</head><body>
<p>Visible: PMID: 27172445</p>
<noscript>PMID: 33333333</noscript>
<template><p>doi:10.9999/in-template</p></template>
<svg><text>doi:10.9999/in-svg</text></svg>
<!-- doi:10.9999/in-comment PMID: 44444444 -->
<script type="application/ld+json">{"identifier": "https://doi.org/10.9999/in-json-ld"}</script>
<script>document.write("</scr" + "ipt>doi:10.9999/split-script");</script>
<![CDATA[ doi:10.9999/in-cdata ]]>
<p>Visible: <a href="https://doi.org/10.1000/abc.1">link</a></p>
<script>doi:10.9999/unclosed-script-hides-the-rest
<p>PMID: 55555555</p>
</body></html>"""
    doc = extract_document(_write(tmp_path / "scripts.html", page.encode()))
    assert doc.problems == ()
    assert values(doc) == ["27172445", "10.1000/abc.1"]


def test_html_character_references_in_links_map_back_to_the_file(tmp_path):
    # A regression: attribute values were scanned raw, so "&#40;" ended the DOI at "&", and a
    # reference without ";" ("&amp") was mapped as if it had one.
    page = (
        '<html><body><p><a href="https://doi.org/10.1002/(SICI)1097&#45;4636">x</a></p>'
        "<p>doi:10.1000/a&amp-b c</p>"  # "&amp" without ";" inside the DOI (a trailing "&"
        # ends no DOI: it is cut as a query string's separator)
        '<meta name="citation_reference" content="citation_title=A &amp; B; '
        'citation_doi=10.1000/ref&#40;1&#41;">'
        "</body></html>"
    )
    path = tmp_path / "refs.html"
    doc = extract_document(_write(path, page.encode()))
    assert values(doc) == ["10.1002/(sici)1097-4636", "10.1000/a&-b", "10.1000/ref(1)"]
    import html

    for m in doc.mentions:
        assert normalise(m.scheme, html.unescape(page[m.start : m.end])) == m.value


def test_html_heading_split_over_lines_maps_back_to_the_file(tmp_path):
    # A regression: a heading's text with a line break was synthetic, so its identifiers
    # pointed at whatever real text came next.
    page = "<html><body><h2>Paper PMID:\n27172445\n doi:10.1000/x</h2><p>text</p></body></html>"
    doc = extract_document(_write(tmp_path / "h.html", page.encode()))
    assert [(m.value, m.line) for m in doc.mentions] == [("27172445", 2), ("10.1000/x", 3)]
    assert_spans(doc)


def test_html_never_closed_comment_or_tag_hides_the_rest_and_ends_fast(tmp_path):
    # A regression: html.parser rescanned an unterminated "<!" once per "<" at the end of the
    # file (quadratic: 2 MB of "<!" did not finish), and buffered an endless comment whole.
    cases = {
        "bang.html": "<p>PMID: 27172445</p>" + "<!" * 1_000_000,
        "comment.html": "<p>PMID: 27172445</p><!-- PMID: 1 " + "x " * 5_000_000,
        "tag.html": '<p>PMID: 27172445</p><a href="PMID: 1 ' + "y " * 5_000_000,
        "closed.html": "<p>PMID: 27172445</p><!-- " + "z " * 5_000_000 + "--><p>PMID: 2</p>",
    }
    for name, page in cases.items():
        started = time.monotonic()
        doc = extract_document(_write(tmp_path / name, page.encode()))
        assert time.monotonic() - started < 30, name
        expected = ["27172445", "2"] if name == "closed.html" else ["27172445"]
        assert values(doc) == expected, name
        assert_spans(doc)


def test_html_without_block_tags_is_still_cut_into_bounded_pieces(monkeypatch):
    # A regression: pieces ended only at block tags, so a page of inline markup, character
    # references or stray "<" was one piece with a map entry per tiny run (20 MB: 1.4 GB).
    inline = "".join(
        f"<b>x</b> &amp; < a PMID: {i + 1} <i>doi:10.1000/i{i}</i> " for i in range(3000)
    )
    page = "<html><body><p>" + inline + "</p></body></html>"
    assert len(list(read_pieces("html", [page]))) <= 2  # small: no cut needed
    monkeypatch.setattr(documents, "PIECE_SIZE", 512)
    monkeypatch.setattr(documents, "MAX_RUNS", 64)
    pieces = list(read_pieces("html", [page[i : i + 1000] for i in range(0, len(page), 1000)]))
    assert len(pieces) > 20
    assert max(len(p.spans.pos) for p in pieces) <= 4 * 64
    assert max(len(p.text) for p in pieces) <= 4 * 512 + 200


def test_html_inline_pieces_give_the_same_mentions(tmp_path, monkeypatch):
    inline = "".join(
        f"<b>x</b> &amp; < a PMID: <i>{i + 1}</i> <i>doi:10.1000/i{i}&lt;1&gt;</i> "
        for i in range(800)
    )
    path = _write(
        tmp_path / "inline.html", ("<html><body><p>" + inline + "</p></body></html>").encode()
    )
    whole = extract_document(path).mentions
    assert len(whole) == 1600
    monkeypatch.setattr(documents, "PIECE_SIZE", 256)
    monkeypatch.setattr(documents, "MAX_RUNS", 32)
    monkeypatch.setattr(documents, "BLOCK_SIZE", 333)
    assert [(m.value, m.start, m.end, m.line) for m in extract_document(path).mentions] == [
        (m.value, m.start, m.end, m.line) for m in whole
    ]


# --------------------------------------------------------------------------------------------
# BibTeX, RIS
# --------------------------------------------------------------------------------------------


def test_bibtex_with_unbalanced_braces_keeps_every_entry_apart(tmp_path):
    bib = (
        "@article{a, doi = {10.1000/one}, title = {Unclosed {brace}\n"
        "@article{b, title = {Extra }} closer}}}, doi = {10.1000/two}}\n"
        "@misc{c, note = {PMID: 27172445}, doi = {10.1000/three\n"
        "@book{d, doi = 10.1000/four}\n"
    )
    doc = extract_document(_write(tmp_path / "broken.bib", bib.encode()))
    assert doc.problems == ()
    works = {}
    for m in doc.mentions:
        works.setdefault(m.group, []).append(m.value)
    assert list(works.values()) == [
        ["10.1000/one"],
        ["10.1000/two"],
        ["27172445", "10.1000/three"],
        ["10.1000/four"],
    ]
    assert {m.role for m in doc.mentions} == {"reference"}


def test_ris_without_er_lines_still_splits_records(tmp_path):
    ris = (
        "TY  - JOUR\nTI  - One\nDO  - 10.1000/ris.1\n"
        "TY  - JOUR\nTI  - Two\nDO  - 10.1000/ris.2\nAN  - PMID: 27172445\n"
        "TY  - JOUR\nDO  - 10.1000/ris.3\nER  - \n"
        "TY  - JOUR\nDO  - 10.1000/ris.4"  # no ER and no final line break
    )
    doc = extract_document(_write(tmp_path / "no-er.ris", ris.encode()))
    groups = [(m.value, m.group) for m in doc.mentions]
    assert groups == [
        ("10.1000/ris.1", 1),
        ("10.1000/ris.2", 2),
        ("27172445", 2),
        ("10.1000/ris.3", 3),
        ("10.1000/ris.4", 4),
    ]


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def test_csv_ragged_quoted_and_multiline_cells(tmp_path):
    csv = (
        "doi,pmid,title\r\n"
        "10.1000/c1,1\r\n"  # a cell short
        '"10.1000/c2",2,"multi\nline, with ""quotes""",extra,cells\r\n'  # cells too many
        '10.1000/c3,,5" screen, an inch mark\r\n'  # a stray quote in an unquoted cell
        ' "10.1000/c4" ,"PMID: 4"\r\n'  # blanks around a quoted cell; a labelled value
        '"unterminated,10.1000/c5\r\n'  # a quote never closed: read as plain text
        "10.1000/c6,10.1000/in-the-pmid-column,"  # no final line break, a trailing delimiter
    )
    doc = extract_document(_write(tmp_path / "ragged.csv", csv.encode()))
    assert doc.problems == ()
    rows = {}
    for m in doc.mentions:
        rows.setdefault(m.group, []).append((m.scheme, m.value))
    assert list(rows.values()) == [
        [("doi", "10.1000/c1"), ("pmid", "1")],
        [("doi", "10.1000/c2"), ("pmid", "2")],
        [("doi", "10.1000/c3")],
        [("doi", "10.1000/c4"), ("pmid", "4")],
        [("doi", "10.1000/c5")],
        # a DOI in the pmid column is that DOI, not "PMID 10" (a regression)
        [("doi", "10.1000/c6")],
        [("doi", "10.1000/in-the-pmid-column")],
    ]
    assert_spans(doc)


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"])
@pytest.mark.parametrize("ext", [".csv", ".tsv"])
def test_csv_line_endings_and_tsv_empty_leading_cells(tmp_path, eol, ext):
    # Regressions: lone-CR rows (classic Mac Excel) were one endless row and gave nothing; in a
    # TSV, leading empty cells before a quoted cell were eaten as "blanks", shifting columns.
    d = "," if ext == ".csv" else "\t"
    rows = [d.join(["title", "doi", "pmid"]), d.join(["", "", '"27172445"']),
            d.join(["x", "10.1000/t1", "1"])]  # fmt: skip
    doc = extract_document(_write(tmp_path / f"t{ext}", eol.join(rows).encode()))
    assert [(m.scheme, m.value, m.group) for m in doc.mentions] == [
        ("pmid", "27172445", 1),
        ("doi", "10.1000/t1", 2),
        ("pmid", "1", 2),
    ]


def test_a_stray_quote_in_a_large_csv_is_read_in_linear_time(tmp_path, monkeypatch):
    # A regression: one inch mark made every later cut re-count the quotes of the whole buffer
    # for every line (quadratic: a 2.5 MB file did not finish in 2 minutes).
    monkeypatch.setattr(documents, "PIECE_SIZE", 4096)
    n = 30_000
    body = "".join(f"10.1000/r{i},{i + 1},Title {i}\n" for i in range(n))
    csv = 'doi,pmid,title\n10.1000/first,7,5" screen\n' + body
    started = time.monotonic()
    doc = extract_document(_write(tmp_path / "stray.csv", csv.encode()))
    assert time.monotonic() - started < 30
    assert len(doc.mentions) == 2 * (n + 1)
    assert doc.mentions[-1].value == str(n) and doc.mentions[-1].group == n + 1


def test_csv_cut_into_tiny_pieces_gives_the_same_mentions(tmp_path, monkeypatch):
    # Quoted cells with line breaks, doubled quotes and delimiters must never be cut inside.
    rng = random.Random(7)
    lines = ["doi,pmid,notes"]
    for i in range(400):
        note = rng.choice(['"a\nb, ""c""\n"', '"x,y"', "plain", '5" tall', '""', '"\n\n"'])
        lines.append(f"10.1000/n{i},{i + 1},{note}")
    path = _write(tmp_path / "notes.csv", "\n".join(lines).encode())
    whole = extract_document(path).mentions
    assert len(whole) == 800
    monkeypatch.setattr(documents, "PIECE_SIZE", 64)
    monkeypatch.setattr(documents, "BLOCK_SIZE", 7)
    assert extract_document(path).mentions == whole


def test_a_csv_of_one_endless_line_is_read_in_bounded_parts(tmp_path, monkeypatch):
    # A regression: a row was held whole (a 200 MB line of short cells: gigabytes), and the
    # forced cut of an over-long line fell inside a cell, losing the identifier there.
    monkeypatch.setattr(documents, "PIECE_SIZE", 512)
    n = 20_000
    path = _write(tmp_path / "line.csv", ",".join(f"10.1000/x{i}" for i in range(n)).encode())
    held = []
    real_emit = csv_reader._emit_row
    monkeypatch.setattr(
        csv_reader, "_emit_row", lambda b, row, *a: held.append(len(row)) or real_emit(b, row, *a)
    )
    doc = extract_document(path)
    assert [m.value for m in doc.mentions] == [f"10.1000/x{i}" for i in range(n)]
    assert max(held) <= csv_reader.MAX_CELLS
    assert_spans(doc)


def test_rows_emitted_in_parts_keep_their_columns(tmp_path, monkeypatch):
    table = "title,notes,doi,pmid\n" + "".join(
        f"t{i},n{i},10.1000/p{i},{i + 1}\n" for i in range(50)
    )
    path = _write(tmp_path / "parts.csv", table.encode())
    whole = extract_document(path).mentions
    assert [m.scheme for m in whole[:2]] == ["doi", "pmid"] and len(whole) == 100
    monkeypatch.setattr(csv_reader, "MAX_CELLS", 3)
    assert extract_document(path).mentions == whole


MILLION_ROWS = """
    path, n = sys.argv[1], int(sys.argv[2])
    with open(path, "w") as fh:
        fh.write("title,pmid\\n")
        for start in range(0, n, 100_000):
            fh.write("".join(f"Row {i},{i + 1}\\n" for i in range(start, start + 100_000)))
    from pipeline.extract import extract_document
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    doc = extract_document(path)
    seconds = time.monotonic() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    found = [m.value for m in doc.mentions]
    print(json.dumps({
        "problems": [p.message for p in doc.problems], "count": len(found),
        "all": found == [str(i + 1) for i in range(n)],
        "groups": len({m.group for m in doc.mentions}), "growth_mb": growth, "seconds": seconds,
    }))
"""


def test_a_million_row_csv_is_streamed_and_every_row_found(tmp_path):
    n = 1_000_000
    code = MILLION_ROWS.replace("sys.argv[1]", repr(str(tmp_path / "million.csv")))
    out = in_subprocess(code.replace("int(sys.argv[2])", str(n)), timeout=240)
    assert out["problems"] == [] and out["count"] == n and out["all"] and out["groups"] == n
    # The mentions themselves are the output (~300 bytes each: the record, its value string and
    # four ints; 1M of them ~290 MB, measured growth 315-375 MB); reading adds a bounded working
    # set on top (pieces of ~2 M characters), whatever the file's size.
    output_mb = n * 400 / 2**20
    assert out["growth_mb"] < output_mb + 64, out


# --------------------------------------------------------------------------------------------
# Huge text
# --------------------------------------------------------------------------------------------

HUGE = """
    path, mb = sys.argv[1], int(sys.argv[2])
    block = 1 << 20
    filler = "abcdefghijklmno" * (block // 15 + 1)  # no anchor character, no line break
    expected = []
    with open(path, "w") as fh:
        for i in range(mb):
            head = f" PMID: {10_000_000 + i} doi:10.5555/huge.{i} "
            expected += [("pmid", str(10_000_000 + i), i * block + 7),
                         ("doi", f"10.5555/huge.{i}", i * block + head.index("10.5555"))]
            fh.write(head + filler[: block - len(head)])
    from pipeline.extract import extract_document
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    doc = extract_document(path)
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    got = [(m.scheme, m.value, m.start) for m in doc.mentions]
    print(json.dumps({"problems": [p.message for p in doc.problems], "bytes": doc.bytes,
                      "exact": got == [tuple(e) for e in expected], "count": len(got),
                      "lines": sorted({m.line for m in doc.mentions}), "growth_mb": growth}))
"""


def test_a_200_mb_single_line_file_is_read_in_bounded_memory(tmp_path):
    code = HUGE.replace("sys.argv[1]", repr(str(tmp_path / "huge.txt")))
    out = in_subprocess(code.replace("int(sys.argv[2])", "200"), timeout=240)
    assert out["problems"] == [] and out["bytes"] == 200 * 2**20
    assert out["exact"] and out["count"] == 400 and out["lines"] == [1]
    assert out["growth_mb"] < 64, out


# --------------------------------------------------------------------------------------------
# Not regular files, permissions, odd names
# --------------------------------------------------------------------------------------------


def test_fifo_and_devices_are_skipped_without_opening_them(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    good = _write(tmp_path / "good.txt", GOOD.encode())
    # In a subprocess: if a FIFO were opened, the open would wait for a writer forever.
    code = f"""
        from pipeline.extract import extract_document, extract_paths
        docs = [extract_document(p) for p in ({str(fifo)!r}, "/dev/zero", "/dev/null")]
        docs += list(extract_paths([{str(tmp_path)!r}]))
        print(json.dumps([[d.path, [(p.message, p.fatal) for p in d.problems],
                           len(d.mentions), d.bytes] for d in docs]))
    """
    out = in_subprocess(code, timeout=60)
    assert out == [
        [str(fifo), [["a FIFO, not a regular file; skipped", True]], 0, 0],
        ["/dev/zero", [["a character device, not a regular file; skipped", True]], 0, 0],
        ["/dev/null", [["a character device, not a regular file; skipped", True]], 0, 0],
        [good, [], len(GOOD_VALUES), len(GOOD)],
        [str(fifo), [["a FIFO, not a regular file; skipped", True]], 0, 0],
    ]


def test_symlink_loops_end(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    good = _write(folder / "sub" / "good.txt", GOOD.encode())
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)  # a directory loop
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")  # a file loop
    docs = list(extract_paths([str(folder)]))
    assert [d.path for d in docs] == [str(folder / "a.txt"), str(folder / "b.txt"), good]
    for d in docs[:2]:
        one_problem(d, "unreadable: Too many levels of symbolic links", fatal=True)
    assert values(docs[2]) == GOOD_VALUES


def test_a_file_without_read_permission_is_one_fatal_problem(tmp_path, monkeypatch):
    # Tests run as root, for whom chmod 000 blocks nothing: the refusal is simulated where the
    # readers open files (the real thing, as an unprivileged user, is the next test).
    locked = _write(tmp_path / "locked.txt", GOOD.encode())
    good = _write(tmp_path / "good.txt", GOOD.encode())
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    import pipeline.extract as extract

    monkeypatch.setattr(source, "open", guarded_open, raising=False)
    monkeypatch.setattr(extract, "open", guarded_open, raising=False)
    docs = list(extract_paths([locked, good]))
    one_problem(docs[0], "unreadable: Permission denied", fatal=True)
    assert docs[0].mentions == () and values(docs[1]) == GOOD_VALUES


def test_a_file_without_read_permission_as_an_unprivileged_user(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="enrich-perm-"))
    try:
        folder.chmod(0o755)
        locked = _write(folder / "locked.txt", GOOD.encode())
        Path(locked).chmod(0)
        good = _write(folder / "good.txt", GOOD.encode())
        Path(good).chmod(0o644)
        root = os.geteuid() == 0
        if not root and os.access(locked, os.R_OK):
            pytest.skip("this user can read a mode-000 file")
        code = f"""
            from pipeline.extract import extract_document
            docs = [extract_document(p) for p in ({locked!r}, {good!r})]
            print(json.dumps([[[(p.message, p.fatal) for p in d.problems], len(d.mentions)]
                              for d in docs]))
        """
        try:
            out = in_subprocess(code, timeout=60, user=65534 if root else None)
        except PermissionError as exc:  # the interpreter lives where "nobody" cannot go
            pytest.skip(f"no interpreter an unprivileged user can run: {exc}")
        assert out == [[[["unreadable: Permission denied", True]], 0], [[], len(GOOD_VALUES)]]
    finally:
        shutil.rmtree(folder)


def test_path_names_with_spaces_and_unicode(tmp_path):
    folder = tmp_path / "my seeds \u00e9t\u00e9" / "\u6587\u732e \U0001f4da"
    folder.mkdir(parents=True)
    path = _write(folder / "r\u00e9f\u00e9rences (copy).txt", GOOD.encode())
    doc = extract_document(path)
    assert values(doc) == GOOD_VALUES and {m.document for m in doc.mentions} == {path}
    assert [d.path for d in extract_paths([str(tmp_path)])] == [path]


# --------------------------------------------------------------------------------------------
# One bad file among good ones
# --------------------------------------------------------------------------------------------


def hostile_set(folder: Path) -> tuple[list[str], list[str]]:
    """(good paths, bad paths) written under ``folder``, interleaved in the call order."""
    folder.mkdir()
    goods = {
        "a good.txt": GOOD.encode(),
        "b.md": ("# Notes\n\n" + GOOD).encode(),
        "c.html": f"<html><body><p>{GOOD}</p></body></html>".encode(),
        "d.bib": b"@article{x, doi = {10.1000/bib.1}, note = {PMID: 27172445}}\n",
        "e.ris": b"TY  - JOUR\nDO  - 10.1000/ris.1\nER  - \n",
        "f.csv": b"doi,pmid\n10.1000/csv.1,27172445\n",
    }
    bads = {
        "bad.png": BINARIES["image.png"],
        "bad.txt": BINARIES["nul-laden.txt"],
        "bad.bib": b"@article{x, doi = {10.1000/unbalanced, title = {{{\n",
        "bad.csv": b'doi,pmid\n"10.1000/open-quote\n',
        "bad.html": b"<html><body>" + b"<div>" * 20_000 + b"<script>doi:10.9/x",
        "bad-latin.txt": ("Caf\u00e9 doi:10.1000/latin\n").encode("latin-1"),
        "bad-empty.txt": b"",
    }
    good_paths = [_write(folder / n, d) for n, d in goods.items()]
    bad_paths = [_write(folder / n, d) for n, d in bads.items()]
    return good_paths, bad_paths


def test_bad_files_leave_the_good_ones_in_the_same_call_untouched(tmp_path):
    goods, bads = hostile_set(tmp_path / "set")
    fifo = tmp_path / "set" / "bad-fifo"
    os.mkfifo(fifo)
    bads.append(str(fifo))
    alone = {p: extract_document(p) for p in goods}
    order = [p for pair in zip(bads, goods + goods[:1], strict=False) for p in pair]
    together = {d.path: d for d in extract_paths(order + [str(tmp_path / "set")])}
    for p in goods:
        assert together[p].mentions == alone[p].mentions
        assert together[p].problems == ()
    for p in bads:
        assert len(together[p].problems) <= 1
        for problem in together[p].problems:
            assert "\n" not in problem.message
    fatal = {Path(p).name for p, d in together.items() if any(q.fatal for q in d.problems)}
    assert fatal == {"bad.png", "bad.txt", "bad-fifo"}


def test_cli_extract_prints_the_good_mentions_and_one_line_per_bad_file(tmp_path):
    goods, bads = hostile_set(tmp_path / "set")
    good, bad = goods[0], bads[0]  # a text file and a PNG
    done = subprocess.run(
        [sys.executable, "-m", "flows", "extract", good, bad, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    printed = json.loads(done.stdout)
    assert printed == [m.to_json() for m in extract_document(good).mentions]
    assert done.stderr.splitlines() == [
        f"enrich: {bad}: binary file (NUL bytes or a binary signature); not read"
    ]
    assert done.returncode == 2  # the contract: unreadable input; the good output still printed


def test_cli_extract_warns_about_encoding_in_one_line_and_exits_0(tmp_path):
    path = _write(tmp_path / "latin.txt", ("Caf\u00e9 doi:10.1000/latin\n").encode("latin-1"))
    done = subprocess.run(
        [sys.executable, "-m", "flows", "extract", path],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert [m["value"] for m in json.loads(done.stdout)] == ["10.1000/latin"]
    assert done.stderr.splitlines() == [
        f"enrich: {path}: not UTF-8; decoded as cp1252 with replacements"
    ]
    assert done.returncode == 0


def test_files_are_only_regular_files_or_refused(tmp_path):
    # Guard for the table above: every kind of path ends as mentions or one fatal problem.
    sock_dir = tmp_path / "s"
    sock_dir.mkdir()
    import socket

    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_dir / "sock"))
        doc = extract_document(str(sock_dir / "sock"))
        one_problem(doc, "a socket, not a regular file; skipped", fatal=True)
        assert stat.S_ISSOCK(os.stat(sock_dir / "sock").st_mode)
    finally:
        sock.close()
    one_problem(extract_document(str(tmp_path)), "unreadable: Is a directory", fatal=True)
