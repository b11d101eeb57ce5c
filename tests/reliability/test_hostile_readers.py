"""Hostile input to the readers added in round 7 (bibxml, yaml_records, refworks) and their
sniffing: each is read or refused with at most one line per problem, in bounded time and memory,
never expanding an entity, never running a YAML tag, never reading another file.

Measured numbers (before/after the fixes these tests guard) are in the branch notes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeline.readers.base as documents
from pipeline.extract import extract_document
from pipeline.readers.sniff import detect_kind
from pipeline.readers.yaml_records import read_yaml
from tests.reliability.test_hostile_seeds import in_subprocess, one_problem, values

TEI = '<?xml version="1.0"?>\n{doctype}<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><listBibl>'
ENTRY = '<biblStruct><analytic><title>T</title><idno type="DOI">10.1000/e{i}</idno></analytic>'
ENTRY += "</biblStruct>"


def _write(path: Path, data: str | bytes) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------


def test_external_entities_are_never_read_nor_expanded(tmp_path):
    secret = _write(tmp_path / "secret.txt", "PMID: 99999999 doi:10.9999/secret\n")
    doctype = (
        f'<!DOCTYPE TEI [<!ENTITY xxe SYSTEM "file://{secret}">'
        '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>\n'
    )
    page = TEI.format(doctype=doctype) + ENTRY.format(i=1)
    page += "<bibl>&xxe; &lol2;</bibl></listBibl></text></TEI>"
    doc = extract_document(_write(tmp_path / "xxe.xml", page))
    assert values(doc) == ["10.1000/e1"]
    one_problem(doc, "XML declares entities; read without expanding them", fatal=False)
    assert all("lollol" not in r.text and "99999999" not in r.text for r in doc.references)


def test_a_truncated_file_keeps_its_entries_with_one_warning(tmp_path):
    page = TEI.format(doctype="") + ENTRY.format(i=1) + ENTRY.format(i=2)
    page += '<biblStruct><analytic><idno type="DOI">10.1000/e3</idno><title>Cu'
    doc = extract_document(_write(tmp_path / "cut.xml", page))
    assert values(doc) == ["10.1000/e1", "10.1000/e2", "10.1000/e3"]
    assert len(doc.references) == 3
    one_problem(doc, "malformed XML (no element found", fatal=False)


@pytest.mark.timeout(120)
def test_a_huge_text_node_in_an_entry_costs_bounded_memory(tmp_path):
    # A regression: the entry's whole captured text was split into words (a 50 MB <bibl> of
    # 10M words: 908 MB peak); it is read up to ENTRY_TEXT_CHARS first (169 MB).
    path = tmp_path / "big.xml"
    page = TEI.format(doctype="") + ENTRY.format(i=1) + "<bibl>" + "word " * 4_000_000
    _write(path, page + "doi:10.1000/tail</bibl></listBibl></text></TEI>")
    got = in_subprocess(f"""
        from pipeline.extract import extract_document
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        doc = extract_document({str(path)!r})
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) >> 10
        print(json.dumps({{"values": [m.value for m in doc.mentions], "mb": grown,
                           "longest": max(len(r.text) for r in doc.references)}}))
    """)
    assert got["values"] == ["10.1000/e1", "10.1000/tail"]
    assert got["longest"] <= 4000
    assert got["mb"] < 150, got  # 20 MB of words: ~360 MB before


# --------------------------------------------------------------------------------------------
# Sniffing: no reader is sent another's file
# --------------------------------------------------------------------------------------------

XHTML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
    'Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
    '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
    '<meta name="x" content="<mods xmlns=http://www.loc.gov/mods/v3>"/></head>'
    "<body><p>x</p></body></html>"
)
README = "# Tool\n\nCite us:\n\n```yaml\ncff-version: 1.2.0\ndoi: 10.1000/x\n```\n"


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("a.xml", '<t:TEI xmlns:t="http://www.tei-c.org/ns/1.0"><t:text/></t:TEI>', "bibxml"),
        ("a.xml", '<m:modsCollection xmlns:m="http://www.loc.gov/mods/v3"/>', "bibxml"),
        ("a.xml", '<TEI xmlns="http://www.tei-c.org/ns/1.0"><p>from JATS</p></TEI>', "bibxml"),
        ("a.html", XHTML, "html"),
        ("a.xml", '<?xml version="1.0"?><!DOCTYPE PubmedArticleSet><PubmedArticleSet>'
         '<!-- <TEI xmlns="http://www.tei-c.org/ns/1.0"> -->', "pubmed_xml"),
        ("a.xml", "<xml><records><record><titles>http://www.crossref.org/schema"
         "</titles></record></records></xml>", "endnote"),
        ("a.xml", '<article dtd-version="1.2"><ref-list><mods xmlns="http://www.loc.gov/mods/v3">',
         "jats"),
        ("README.md", README, "markdown"),
        ("CITATION", "# comment\n---\ntitle: X\ncff-version: 1.2.0\n", "yaml"),
        ("x.txt", "RT Journal Article\nA1 " + "Name Given;" * 2000 + "\nT1 X\n", "refworks"),
    ],
)  # fmt: skip
def test_each_file_goes_to_its_own_reader(name, head, kind):
    assert detect_kind(name, head[:8192]) == kind


# --------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------


def test_yaml_tags_never_run_and_alias_bombs_stay_small(tmp_path):
    marker = tmp_path / "ran"
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 12)
    )
    cff = (
        "cff-version: 1.2.0\ndoi: 10.1000/cff\n"
        f"x: !!python/object/apply:os.system ['touch {marker}']\n"
        "y: !!python/name:os.system\n" + bomb + "references:\n"
        "  - !!python/object:builtins.dict {title: T, doi: 10.1000/ref, authors: *a11}\n"
    )
    doc = extract_document(_write(tmp_path / "CITATION.cff", cff))
    assert not marker.exists()
    assert doc.problems == ()
    assert [(m.value, m.role) for m in doc.mentions] == [
        ("10.1000/cff", "subject"),
        ("10.1000/ref", "reference"),
    ]


@pytest.mark.timeout(30)
def test_yaml_nested_too_deeply_is_one_line(tmp_path):
    cff = "cff-version: 1.2.0\ndoi: 10.1000/cff\nx: " + "[" * 100_000 + "]" * 100_000 + "\n"
    doc = extract_document(_write(tmp_path / "CITATION.cff", cff))
    one_problem(doc, "not readable as YAML (", fatal=False)
    assert values(doc) == ["10.1000/cff"]


def test_yaml_read_as_text_is_cut_into_bounded_pieces(monkeypatch):
    # A regression: a YAML file the composer refused was yielded as one piece, whatever its size.
    monkeypatch.setattr(documents, "PIECE_SIZE", 512)
    monkeypatch.setattr(documents, "BLOCK_SIZE", 500)
    text = "cff-version: 1.2.0\n\tbad: tab\n" + "".join(
        f"line {i} doi:10.1000/t{i}\n\n" for i in range(400)
    )
    problems: list[str] = []
    pieces = list(read_yaml([text], problems))
    assert len(problems) == 1 and problems[0].startswith("not readable as YAML (")
    assert len(pieces) > 5
    assert max(len(p.text) for p in pieces) < 4 * 512
    assert "".join(p.text for p in pieces).count("doi:10.1000/t") == 400


# --------------------------------------------------------------------------------------------
# RefWorks
# --------------------------------------------------------------------------------------------


def test_refworks_record_with_a_huge_first_field_is_still_records(tmp_path):
    # A regression: a first field longer than the sniffed head made the file plain text.
    rec = "RT Journal Article\nA1 X\nT1 Title\nDO 10.1000/rw1\n\n"
    head = "RT Journal Article\nA1 " + ";".join(f"Name{i} Given" for i in range(5000))
    doc = extract_document(_write(tmp_path / "cnki.txt", head + "\nDO 10.1000/huge\n\n" + rec))
    assert [(m.value, m.role) for m in doc.mentions] == [
        ("10.1000/huge", "reference"),
        ("10.1000/rw1", "reference"),
    ]
    assert len(doc.references) == 2


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_refworks_crlf_and_lone_cr_records(tmp_path, newline):
    rec = "RT Journal Article\nSR 1\nA1 Smith John;Doe Ann\nT1 T{i}\nDO 10.1000/rw{i}\nDS CNKI\n\n"
    text = "".join(rec.format(i=i) for i in range(3)).replace("\n", newline)
    doc = extract_document(_write(tmp_path / "cnki.txt", text))
    assert doc.problems == ()
    assert [(m.value, m.role) for m in doc.mentions] == [
        (f"10.1000/rw{i}", "reference") for i in range(3)
    ]


@pytest.mark.timeout(120)
def test_a_large_citation_cff_reads_in_seconds(tmp_path):
    # A regression: 20 MB of CFF took 78 s of CPU and 1.5 GB (PyYAML's Python composer, and
    # the garbage collector set off again and again by its millions of nodes); now ~10 s.
    refs = "".join(
        f"  - type: article\n    title: Paper {i} about things\n    doi: 10.1000/r{i}\n"
        "    authors:\n      - family-names: Smith\n        given-names: J\n    year: 2020\n"
        for i in range(40_000)
    )
    path = _write(tmp_path / "CITATION.cff", "cff-version: 1.2.0\nreferences:\n" + refs)
    got = in_subprocess(f"""
        from pipeline.extract import extract_document
        doc = extract_document({path!r})
        cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
        print(json.dumps({{"n": len(doc.references), "problems": len(doc.problems), "cpu": cpu}}))
    """)
    assert (got["n"], got["problems"]) == (40_000, 0)
    assert got["cpu"] < 12, got  # 6 MB: ~23 s before, ~3 s now


@pytest.mark.timeout(10)
def test_sniffing_comments_before_the_root_takes_no_backtracking():
    # A regression of this branch: "(?:<!--.*?-->\s*)*" let each comment end at any later
    # "-->", so 22 comments before a root that was no HTML took 7 s (2^n ways).
    head = '<?xml version="1.0"?>' + "<!---->" * 1000 + "<root/>"
    assert detect_kind("a.xml", head[:8192]) == "xml"
    assert detect_kind("a.xml", "<!--" * 2000) == "xml"


@pytest.mark.timeout(20)
def test_a_yaml_alias_inside_its_own_list_costs_that_field_only(tmp_path):
    # A regression: "date-parts: &d [*d]" looped forever (the year was looked for in the first
    # item of the first item of ...); "title: &t [*t]" recursed until RecursionError.
    csl = (
        "references:\n- id: a\n  title: &t [*t]\n  DOI: 10.1000/a\n"
        "  issued:\n    date-parts: &d [*d]\n"
        "- &r\n  id: b\n  title: B\n  DOI: 10.1000/b\n  author: *r\n  issued: &i [*i]\n"
    )
    doc = extract_document(_write(tmp_path / "refs.yaml", csl))
    assert doc.problems == ()
    assert [(m.value, m.role) for m in doc.mentions] == [
        ("10.1000/a", "reference"),
        ("10.1000/b", "reference"),
    ]
    assert len(doc.references) == 2


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("name", "record"),
    [
        ("cnki.txt", "RT Journal Article\nA1 Smith J\nT1 x{gap}y\nDO 10.1000/gap\n\n"),
        ("refs.ris", "TY  - JOUR\nTI  - x{gap}y\nDO  - 10.1000/gap\nER  - \n"),
        ("refs.enw", "%0 Journal Article\n%T x{gap}y\n%R 10.1000/gap\n\n"),
    ],
)
def test_a_tagged_line_with_a_long_run_of_spaces_reads_in_linear_time(tmp_path, name, record):
    # A regression: "(?P<value>.*?)[ \t\r]*$" tried the rest of the run at each of its spaces
    # (40,000 spaces: 4.7 s; 200,000: minutes); the value now ends at its last non-blank.
    doc = extract_document(_write(tmp_path / name, record.format(gap=" " * 200_000)))
    assert doc.problems == ()
    assert [(m.value, m.role) for m in doc.mentions] == [("10.1000/gap", "reference")]


# --------------------------------------------------------------------------------------------
# Headings (round 6's bracketed tails)
# --------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("dots.html", "<h2>1 References" + "." * 200_000 + "x)</h2>"),
        ("dots.md", "## 1 References" + "." * 200_000 + "x)\n\n"),
        ("blanks.html", "<h2>References x" + "&#32;" * 20_000 + "y [edit]</h2>"),
    ],
)
def test_a_huge_heading_is_judged_in_linear_time(tmp_path, name, page):
    # A regression: "[\s:*_=.-]+$" and the bracketed tail's "\s*\[...\]\s*$" were retried from
    # each dot or blank of a run (a heading of 40,000 dots: 5 s in extract; 200,000: minutes).
    # Still Wikipedia's "References [edit]" is a reference heading.
    tail = "<ol><li>Smith J. PMID: 27172445</li></ol>" if name.endswith("html") else ""
    tail = tail or "1. Smith J. PMID: 27172445\n"
    doc = extract_document(_write(tmp_path / name, page + tail))
    assert values(doc) == ["27172445"]
    wiki = "<h2>References [edit]</h2><ol><li>Smith J. A study. PMID: 27172445</li></ol>"
    doc = extract_document(_write(tmp_path / "wiki.html", wiki))
    assert [(m.value, m.role) for m in doc.mentions] == [("27172445", "reference")]


@pytest.mark.timeout(30)
def test_heading_role_of_a_long_run_of_blanks_before_a_bracketed_tail_is_linear():
    from pipeline.readers.headings import heading_role

    assert heading_role("references x" + " " * 200_000 + "y [a]") == (False, None)
    assert heading_role("References  [ edit ]") == (True, "reference")


def test_a_closer_with_another_prefix_ends_its_element(tmp_path):
    # A regression: elements are counted by local name, so "</y:bibl>" found "bibl" open but
    # looked for "y:bibl" on the stack, emptied it and raised IndexError: the whole file was
    # "could not be read". Now it closes "<x:bibl>", with the malformed-XML warning only.
    page = TEI.format(doctype="") + ENTRY.format(i=1) + "<x:bibl>one</y:bibl>"
    page += ENTRY.format(i=2) + "</listBibl></text></TEI>"
    doc = extract_document(_write(tmp_path / "prefix.xml", page))
    assert values(doc) == ["10.1000/e1", "10.1000/e2"]
    one_problem(doc, "malformed XML (mismatched tag", fatal=False)


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("tei.xml", TEI.format(doctype="") + ENTRY.format(i=1) + "<![/head>"
         + ENTRY.format(i=2) + "</listBibl></text></TEI>"),
        ("page.html", "<html><body><p>doi:10.1000/e1</p><![/head><p>doi:10.1000/e2</p>"),
        ("a.nxml", '<article article-type="research-article"><body><p>doi:10.1000/e1</p>'
         "<![ x><p>doi:10.1000/e2</p></body></article>"),
    ],
)  # fmt: skip
def test_a_marked_section_without_a_name_is_a_bogus_comment(tmp_path, name, page):
    # A regression (found by mutating the GROBID fixture): html.parser raised AssertionError
    # ("expected name token") on "<![" not followed by a name, in every markup reader and the
    # HTML one: the whole file was fatal "could not be read".
    doc = extract_document(_write(tmp_path / name, page))
    assert values(doc) == ["10.1000/e1", "10.1000/e2"]
    assert not any(p.fatal for p in doc.problems)
