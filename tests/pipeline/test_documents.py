"""pipeline.documents: reading files of each kind into scan text that maps back to the file."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest

import pipeline.readers.base as documents
from pipeline.extract import extract_document
from pipeline.readers import (
    BinaryFile,
    NotUtf8,
    Piece,
    RawFile,
    SpanMap,
    detect_kind,
    layout_for,
    read_pieces,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "extract"


def pieces_of(kind: str, text: str, block: int = 5) -> list[Piece]:
    return list(read_pieces(kind, (text[i : i + block] for i in range(0, len(text), block))))


def scan_text(kind: str, text: str) -> str:
    return "".join(p.text for p in pieces_of(kind, text))


# --------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "head", "kind"),
    [
        ("a.txt", "PMID: 27172445\n", "text"),
        ("a.md", "# Notes\n", "markdown"),
        ("a.html", "<p>hi</p>", "html"),
        ("a.HTM", "", "html"),
        ("a.bib", "", "bibtex"),
        ("a.ris", "", "ris"),
        ("a.csv", "", "csv"),
        ("a.tsv", "", "tsv"),
        ("a.nbib", "PMID- 27172445\n", "medline"),
        # no or a misleading extension: sniffed
        ("download", "<!DOCTYPE html>\n<html><body>", "html"),
        ("page.txt", "  <html lang=en><head>", "html"),
        ("export.txt", "% comment\n@article{key,\n  doi = {10.1/x}}", "bibtex"),
        ("export", "TY  - JOUR\nDO  - 10.1/x\n", "ris"),
        ("list", "title,doi,pmid\nA,10.1000/x,1\n", "csv"),
        ("list.txt", "title\tPMID\tDOI\n", "tsv"),
        ("notes", "Some text, with a comma and a doi, 10.1000/x\n", "text"),
        ("label.txt", "PMID: 27172445, DOI: 10.1000/x\n", "text"),
        # publisher and library XML, citation files (round 7 sweep)
        ("a.xml", '<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader>', "bibxml"),
        ("a.xml", '<tei:TEI xmlns:tei="http://www.tei-c.org/ns/1.0">', "bibxml"),
        (
            "a.tei",
            '<?xml version="1.0"?>\n<TEI xml:space="preserve" xmlns="http://www.tei-c.org/ns/1.0"',
            "bibxml",
        ),
        ("x", '<doi_batch xmlns="http://www.crossref.org/schema/4.4.0" version="4.4.0">', "bibxml"),
        ("x.xml", '<modsCollection xmlns="http://www.loc.gov/mods/v3">', "bibxml"),
        (
            "Exported Items.rdf",
            '<rdf:RDF\n xmlns:z="http://www.zotero.org/namespaces/export#">',
            "bibxml",
        ),
        ("feed.xml", '<?xml version="1.0"?><rss><channel>', "xml"),
        ("CITATION.cff", "# comment\nauthors:\n  - name: X\n", "yaml"),
        ("citation.txt", "cff-version: 1.2.0\ntitle: X\n", "yaml"),
        ("ci.yml", "name: tests\non:\n  push:\n", "text"),
        ("CNKI.txt", "RT Journal Article\nSR 1\nA1 Sharma Ashutosh\n", "refworks"),
    ],
)
def test_detect_kind_by_extension_then_sniffing(path, head, kind):
    assert detect_kind(path, head) == kind


def test_bibtex_and_ris_entries_are_references_by_default():
    assert layout_for("bibtex").default_role == layout_for("ris").default_role == "reference"
    assert layout_for("text").default_role == "mention"


# --------------------------------------------------------------------------------------------
# Bytes to characters
# --------------------------------------------------------------------------------------------


def test_raw_file_hashes_and_counts_the_bytes_while_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "BLOCK_SIZE", 3)  # multi-byte characters split across blocks
    data = "Caf\u00e9 \u00e0 la cr\u00e8me \u2014 PMID: 1\n".encode()
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    raw = RawFile(str(path))
    assert "".join(raw.chars()) == data.decode("utf-8")
    assert (raw.bytes, raw.sha256.hexdigest()) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("block", [1, 2, 3, 64])
def test_raw_file_gives_lone_carriage_returns_as_line_feeds_and_keeps_crlf(
    tmp_path, monkeypatch, block
):
    monkeypatch.setattr(documents, "BLOCK_SIZE", block)  # a CRLF split across two blocks
    data = b"TY  - JOUR\rDO  - 10.1/a\r\nER  - \r\rTY  - JOUR\r"
    path = tmp_path / "old-mac.ris"
    path.write_bytes(data)
    text = "".join(RawFile(str(path)).chars())
    assert text == "TY  - JOUR\nDO  - 10.1/a\r\nER  - \n\nTY  - JOUR\n"
    assert len(text) == len(data)  # one character for one: offsets unchanged


def test_a_bibtex_file_with_classic_mac_line_ends_has_its_entry_on_its_line():
    # JabRef's UTF-16BE test library: "% Encoding: UTF-16BE" CR CR "@article{," CR ...
    doc = extract_document(str(ROOT / "tests" / "fixtures" / "documents" / "jabref-utf16be-cr.bib"))
    assert [(r.line, r.text) for r in doc.references] == [(3, "\u00dc ist ein Umlaut.")]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (codecs.BOM_UTF8 + b"PMID: 1", "PMID: 1"),
        ("PMID: 1".encode("utf-16"), "PMID: 1"),  # a BOM, so not refused for its NUL bytes
    ],
)
def test_raw_file_drops_byte_order_marks(tmp_path, data, text):
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    assert "".join(RawFile(str(path)).chars()) == text


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b"text\x00more"])
def test_raw_file_refuses_binary(tmp_path, data):
    path = tmp_path / "a.bin"
    path.write_bytes(data)
    with pytest.raises(BinaryFile):
        list(RawFile(str(path)).chars())


def test_raw_file_signals_non_utf8_and_decodes_with_a_fallback(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("Caf\u00e9 \u201cx\u201d".encode("cp1252") + b"\x81")
    with pytest.raises(NotUtf8):
        list(RawFile(str(path)).chars())
    assert "".join(RawFile(str(path), "cp1252").chars()) == "Caf\u00e9 \u201cx\u201d\ufffd"


# --------------------------------------------------------------------------------------------
# Pieces of plain text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("piece_size", [8, 40, 1000])
def test_text_pieces_cover_the_file_exactly_once(monkeypatch, piece_size):
    monkeypatch.setattr(documents, "PIECE_SIZE", piece_size)
    text = (FIXTURES / "notes.md").read_text() + "one very long line without breaks " * 20
    at, line = 0, 1
    for p in pieces_of("text", text):
        k = at - p.base  # the synthetic prefix: line breaks standing for what came before
        assert p.text[:k].strip("\n") == ""
        real = p.text[k:]
        assert text[at : at + len(real)] == real
        assert p.line + p.text.count("\n", 0, k) == line
        at, line = at + len(real), line + real.count("\n")
    assert at == len(text)


def test_text_pieces_never_end_between_a_label_and_its_value(monkeypatch):
    monkeypatch.setattr(documents, "PIECE_SIZE", 16)
    for p in pieces_of("text", "DOI\n10.1111/ejh.70051\nPMID\n41369097\nPMID\n41369098\n" * 3):
        assert not p.text.rstrip("\n").endswith(("PMID", "DOI"))


# --------------------------------------------------------------------------------------------
# Structured kinds
# --------------------------------------------------------------------------------------------


def test_html_scan_text_is_visible_text_links_and_meta_values():
    text = scan_text("html", (FIXTURES / "article.html").read_text())
    assert "PMID: 41369097" in text  # <meta name="citation_pmid"> gets a synthetic label
    assert "https://pubmed.ncbi.nlm.nih.gov/30814057/" in text  # a link target
    assert "10.1000/xyz<1>" in text  # &lt; &gt; decoded
    assert "## References" in text  # <h2> becomes a heading line
    assert "tracking" not in text and "also-hidden" not in text  # <script>, <style>


# Wikipedia's reference list markup (as the saved page of any article prints it): a back link
# into the page, a TemplateStyles <link> with a "mw-data:" target, the ids as links.
WIKIPEDIA_REF = (
    '<h2><span class="mw-headline" id="References">References</span></h2><ol class="references">'
    '<li id="cite_note-pmid12032318-21"><span class="mw-cite-backlink"><b>'
    '<a href="#cite_ref-pmid12032318_21-0" title="Jump up">^</a></b></span> '
    '<span class="reference-text"><link rel="mw-deduplicated-inline-style" '
    'href="mw-data:TemplateStyles:r999302996"><cite class="citation journal cs1">Tang TH (2002). '
    '"Identification of 86 candidates". <i>Proc Natl Acad Sci U S A</i>. <b>99</b> (11): 7536-41. '
    '<a href="/wiki/Doi_(identifier)">doi</a>:<a class="external text" '
    'href="https://doi.org/10.1073%2Fpnas.112047299">10.1073/pnas.112047299</a>. '
    '<a href="/wiki/PMID_(identifier)">PMID</a>&nbsp;<a class="external text" '
    'href="https://pubmed.ncbi.nlm.nih.gov/12032318">12032318</a>.</cite></span></li></ol>'
)


def test_html_links_into_the_page_or_to_no_web_address_are_not_text():
    text = scan_text("html", WIKIPEDIA_REF + '<a href="javascript:void(0)">x</a>')
    assert "#cite_ref" not in text and "mw-data:" not in text and "javascript:" not in text
    assert "https://doi.org/10.1073%2Fpnas.112047299" in text  # a web link is still scanned
    assert "/wiki/PMID_(identifier)" in text  # so is a relative one ("/doi/10.1002/x")


def test_a_wikipedia_reference_entry_starts_with_its_authors(tmp_path):
    path = tmp_path / "CRISPR - Wikipedia.html"
    path.write_text(WIKIPEDIA_REF)
    (entry,) = extract_document(str(path)).references
    assert entry.text.startswith('^ Tang TH (2002). "Identification of 86 candidates"')
    assert {i.value for i in entry.ids} == {"10.1073/pnas.112047299", "12032318"}


def test_html_list_items_are_separate_paragraphs_but_their_paragraphs_are_not():
    text = scan_text("html", "<ol><li><p>A 10.1000/a</p><p>PMID: 1</p></li><li>B</li></ol>")
    item = text[text.index("A 10.1000") : text.index("PMID: 1")]
    assert "\n\n" not in item
    assert "\n\n" in text[text.index("PMID: 1") : text.index("B")]


def test_html_positions_map_back_to_the_file():
    source = '<p>x &amp; y</p>\n<a href="https://doi.org/10.1/abcd">PMID:&nbsp;<b>123</b></a>'
    (piece,) = pieces_of("html", source, block=7)
    for needle in ("https://doi.org/10.1/abcd", "123", "x "):
        src, line = piece.spans.locate(piece.text, piece.text.index(needle))
        assert source[src : src + len(needle)] == needle
        assert line == source.count("\n", 0, src) + 1
    amp = piece.text.index("&")
    assert (
        source[piece.spans.locate(piece.text, amp)[0] : piece.spans.locate_end(amp + 1)] == "&amp;"
    )


def test_html_any_nesting_depth_is_read_without_recursion():
    depth = 50_000
    text = scan_text("html", "<div>" * depth + "<span>PMID: 1</span>" * 3 + "</div>" * depth)
    assert text.count("PMID: 1") == 3


def test_csv_id_columns_label_their_cells_and_rows_are_paragraphs():
    text = scan_text("csv", (FIXTURES / "works.csv").read_text())
    assert (
        "PMID: 34431082" in text
        and "arXiv:1706.03762v7" in text
        and "OpenAlex: W2626778328" in text
    )
    assert "PMID: 2021" not in text  # the year column is not labelled
    assert text.count("\n\n") == 3  # three data rows; the header is not scanned


def test_csv_quoted_cells_keep_delimiters_and_line_breaks():
    text = scan_text("csv", 'title,pmid\n"A, b\nc",123\n')
    assert "A, b\nc" in text and "PMID: 123" in text


def test_bibtex_eprint_is_arxiv_only_when_the_entry_says_so():
    text = scan_text("bibtex", (FIXTURES / "references.bib").read_text())
    assert "eprint        = {arXiv:1706.03762v7}" in text
    assert "eprint  = {9802150}" in text  # no archivePrefix in that entry: left alone


def test_span_map_maps_runs_and_synthetic_text():
    spans = SpanMap()
    spans.add(pos=6, src=100, line=3, size=4)  # "PMID: " synthetic, then 4 real characters
    text = "PMID: 1234"
    assert spans.locate(text, 6) == (100, 3)
    assert spans.locate(text, 8) == (102, 3)
    assert spans.locate(text, 0) == (100, 3)  # synthetic: the next real run
    assert spans.locate_end(10) == 104


def test_html_line_break_is_a_line_not_a_paragraph():
    text = scan_text("html", "<p>PMID: 1<br>DOI: 10.1000/a</p><p>PMID: 2</p>")
    assert "PMID: 1\nDOI: 10.1000/a" in text
    assert "\n\n" in text[text.index("10.1000/a") : text.index("PMID: 2")]


def test_csv_without_an_identifier_header_is_all_data():
    text = scan_text("csv", "see doi:10.1000/first,1\nsee doi:10.1000/second,2\n")
    assert "10.1000/first" in text and "10.1000/second" in text


# eLife's reference list (sandcrawler's elife_article.html): a number, the title, the authors as
# a list, the journal, the DOI, the "Google Scholar" link as a list; PLOS's (plos_one_article.html):
# the text, then its links ("View Article", "PubMed/NCBI", "Google Scholar") as a list.
ELIFE_REFS = """<h2>References</h2><ol class="reference-list">
<li class="reference-list__item"><span class="ordinal">1</span><div class="reference">
  <a href="https://doi.org/10.1016/j.coisb.2017.12.005">Fold-change detection in biological
  systems</a>
  <ol class="reference__authors_list">
    <li><a href="https://scholar.google.com/scholar?q=%22author:M+Adler%22">M Adler</a></li>
    <li><a href="https://scholar.google.com/scholar?q=%22author:U+Alon%22">U Alon</a></li>
  </ol><span>(2018)</span>
  <div><i>Current Opinion in Systems Biology</i> <b>8</b>:81-89.</div>
  <span class="doi"><a href="https://doi.org/10.1016/j.coisb.2017.12.005">https://doi.org/10.1016/j.coisb.2017.12.005</a></span>
  <ul><li><a href="https://scholar.google.com/scholar_lookup?title=Fold">Google Scholar</a></li></ul>
</div></li>
<li class="reference-list__item"><span class="ordinal">2</span><div class="reference">
  <a href="https://doi.org/10.1038/nrg2102">Network motifs: theory and experimental approaches</a>
  <ol class="reference__authors_list">
    <li><a href="https://scholar.google.com/scholar?q=%22author:U+Alon%22">U Alon</a></li>
  </ol><span>(2007)</span>
  <div><i>Nature Reviews Genetics</i> <b>8</b>:450-461.</div>
  <ul><li><a href="https://www.ncbi.nlm.nih.gov/pubmed/17510665">PubMed</a></li>
  <li><a href="https://scholar.google.com/scholar_lookup?title=Network">Google Scholar</a></li></ul>
</div></li></ol>"""


def test_an_html_reference_printing_its_authors_and_links_as_lists_is_one_entry(tmp_path):
    path = tmp_path / "elife.html"
    path.write_text(ELIFE_REFS)
    doc = extract_document(str(path))
    assert [sorted(str(i) for i in e.ids) for e in doc.references] == [
        ["doi:10.1016/j.coisb.2017.12.005"],
        ["doi:10.1038/nrg2102", "pmid:17510665"],
    ]
    assert "M Adler" in doc.references[0].text and "(2018)" in doc.references[0].text
    # the PubMed link's PMID is the same work as the title's DOI
    groups = {m.value: m.group for m in doc.mentions}
    assert groups["10.1038/nrg2102"] == groups["17510665"]


def test_html_list_items_under_a_heading_word_or_left_open_are_entries_each(tmp_path):
    path = tmp_path / "publications.html"
    path.write_text(
        "<h2>References</h2><ul><li>2020<ul>"
        "<li>Smith J. A study of things in the lab. Nature. 2020. doi:10.1000/a</li>"
        "<li>Doe A. Another study of things. Cell. 2020. doi:10.1000/b</li></ul></li></ul>"
        "<h2>Bibliography</h2><ol><li>Roe R. A third long study title. Science. 2001. "
        "doi:10.1000/c<li>Poe P. A fourth long study title. Science. 2002. doi:10.1000/d</ol>"
    )
    entries = extract_document(str(path)).references
    assert [[i.value for i in e.ids] for e in entries if e.ids] == [
        ["10.1000/a"],
        ["10.1000/b"],
        ["10.1000/c"],
        ["10.1000/d"],
    ]


def test_a_heading_inside_a_reference_after_its_words_is_words_of_that_entry(tmp_path):
    # ScienceDirect (papis tests/downloaders/resources/ScienceDirect_S0009261497040141.html):
    # each reference sets its journal in an <h3> after its authors. A heading first in its
    # item (a publication list's year) is still a heading.
    path = tmp_path / "sciencedirect.html"
    path.write_text(
        '<h2>References</h2><ul><li class="bib-reference"><span>V.E. Bondybey</span>'
        '<em> et al.</em><div><h3 class="title">Chem. Phys. Lett.</h3></div><div>(1983)</div>'
        '</li><li class="bib-reference"><span>K. Hirao</span><div><h3 class="title">'
        "Chem. Phys. Lett.</h3></div><div>(1992)</div></li></ul>"
        "<ul><li><h3>2021</h3><ul><li>Roe R. A long study title. Science. doi:10.1000/c</li>"
        "</ul></li></ul>"
    )
    doc = extract_document(str(path))
    assert [(e.text, e.section) for e in doc.references] == [
        ("V.E. Bondybey et al. Chem. Phys. Lett. (1983)", "References"),
        ("K. Hirao Chem. Phys. Lett. (1992)", "References"),
        ("Roe R. A long study title. Science. doi:10.1000/c", "2021"),
    ]


def test_a_heading_inside_a_section_or_article_heads_nothing_after_it(tmp_path):
    # PeerJ (papis tests/downloaders/resources/Fallback_peerj.html), APS: the reference list
    # is the last <section> of the <article>; the sidebar after </article> ("Questions",
    # "Links", "Download") is under no reference heading, so gives no entries.
    path = tmp_path / "peerj.html"
    path.write_text(
        "<body><article><h1>Fish surveys</h1><section><h2>Introduction</h2><p>Text.</p>"
        '</section><section><h2>References</h2><ul><li>Brock VE. 1954. <a href="https://'
        'doi.org/10.2307%2F3797016">A preliminary report on a method</a>. J Wildl Manage '
        "18(3):297-308</li></ul></section></article>"
        '<ul class="nav"><li><a href="/questions/">Questions</a></li><li>Links</li></ul>'
        "<div><h3>Download</h3><p>Content alert</p></div></body>"
    )
    doc = extract_document(str(path))
    assert [e.text[:8] for e in doc.references] == ["Brock VE"]
    assert [(e.section, [str(i) for i in e.ids]) for e in doc.references] == [
        ("References", ["doi:10.2307/3797016"])
    ]
    # a list whose entries are each an <article> under the heading keeps them all
    path.write_text(
        "<h2>Bibliography</h2><article><p>Smith J. A study of things in the lab. Nature. 2020. "
        "doi:10.1000/a</p></article><article><p>Doe A. Another study of things. Cell. 2020. "
        "doi:10.1000/b</p></article>"
    )
    assert [e.text for e in extract_document(str(path)).references] == [
        "Smith J. A study of things in the lab. Nature. 2020. doi:10.1000/a",
        "Doe A. Another study of things. Cell. 2020. doi:10.1000/b",
    ]


def test_a_reference_given_in_a_meta_tag_and_printed_on_the_page_is_one_entry(tmp_path):
    # SpringerLink, Nature, PLOS repeat the printed list as citation_reference meta tags
    # (papis SpringerLink_BF02727953.html): one entry per reference, the printed one, with the
    # meta tag's ids joined (the second printed entry shows no DOI; its meta tag has one).
    path = tmp_path / "springer.html"
    path.write_text(
        '<head><meta name="citation_reference" content="citation_journal_title=Phys. Rev.; '
        "citation_author=M. D. Girardeau; citation_volume=139; citation_publication_date=1965;"
        ' citation_doi=10.1103/PhysRev.139.B500; citation_id=CR5">'
        '<meta name="citation_reference" content="citation_journal_title=Nuovo Cimento; '
        "citation_author=R. Mirman; citation_volume=18 B; citation_publication_date=1973; "
        'citation_pages=110-110; citation_doi=10.1007/BF02727953x; citation_id=CR6">'
        '<meta name="citation_reference" content="J. W. Gibbs: Elementary Principles in '
        'Statistical Mechanics Chap. XV (New York, N. Y., 1960).">'
        '<meta name="citation_reference" content="citation_journal_title=Phys. Rev.; '
        "citation_author=M. D. Girardeau; citation_volume=142; citation_publication_date=1966;"
        ' citation_firstpage=21"></head><body>'
        "<h2>References</h2><ol><li><p>M. D. Girardeau: Phys. Rev., 139, B 500 (1965).</p><p>"
        '<a href="https://doi.org/10.1103%2FPhysRev.139.B500">Article</a></p></li>'
        "<li><p>R. Mirman: Nuovo Cimento, 18 B, 110 (1973).</p></li>"
        "<li><p>J. W. Gibbs: Elementary Principles in Statistical Mechanics Chap. XV (New "
        "York, N. Y., 1960).</p></li><li><p>A. Landé: New Foundations of Quantum Mechanics "
        "(Cambridge, 1965), p. 68.</p></li></ol></body>"
    )
    entries = extract_document(str(path)).references
    assert [(e.text[:12], e.section, [str(i) for i in e.ids]) for e in entries] == [
        ("Phys. Rev.. ", None, []),  # another work of the same author and journal: kept
        ("M. D. Girard", "References", ["doi:10.1103/physrev.139.b500"]),
        ("R. Mirman: N", "References", ["doi:10.1007/bf02727953x"]),
        ("J. W. Gibbs:", "References", []),
        ("A. Landé: Ne", "References", []),
    ]


def test_an_html_entrys_number_set_in_an_element_of_its_own_is_its_label(tmp_path):
    # Frontiers (metascraper-citation's fpsyg.2014.00781 fixture): <div class=
    # "References__label"><p>1</p></div>; eLife: <span class="ordinal">1</span>. A year first
    # in its own element is words of the entry.
    path = tmp_path / "frontiers.html"
    path.write_text(
        '<h2>REFERENCES</h2><ul class="References"><li class="References__item"><div '
        'class="References__label"><p>1</p></div><div class="References__content"><p>Allen '
        "C. P. G. (2014). The timing of conscious vision. J. Cogn. Neurosci. 26 1507-1518.</p>"
        '</div></li><li><span class="ordinal">2</span><div class="reference"><a href="https:'
        '//doi.org/10.1038/nrg2102">Network motifs: theory and experimental approaches</a> '
        "U Alon (2007)</div></li></ul>"
    )
    entries = extract_document(str(path)).references
    assert [(e.label, e.text[:20]) for e in entries] == [
        ("1", "Allen C. P. G. (2014"),
        ("2", "https://doi.org/10.1"),
    ]
    path.write_text(
        "<h2>References</h2><ul><li><span>2020</span> Smith J, Doe A. A study of things in "
        "the lab, and of others. Nature 12: 34-56.</li><li><span>2019</span> Roe R. Another "
        "study of things in the lab. Cell 3: 1-9.</li></ul>"
    )
    entries = extract_document(str(path)).references
    assert [(e.label, e.text[:10]) for e in entries] == [
        (None, "2020 Smith"),
        (None, "2019 Roe R"),
    ]


def test_a_page_laid_out_in_a_table_gives_one_entry_per_reference_block(tmp_path):
    # ScienceDirect 2010 (pyscholar tests/data/science-direct.html): the page sits in a cell
    # of a layout table whose rows hold tables; each reference is a <div>, wrapped in the file.
    # A row around a table is layout, no entry, so each <div> is an entry of its own.
    path = tmp_path / "sd2010.html"
    path.write_text(
        "<table><tr><td><table><tr><td>Menu</td></tr></table></td><td><h3>References</h3>"
        '<div id="ref_bib1">1. J.R. Fuchs, B.A. Nasseri and J.P. Vacanti, Tissue engineering:'
        "\na 21st century solution to surgical reconstruction. <i>Ann Thorac Surg</i> 72 (2001)"
        '</div><div id="ref_bib2">2. G.J.M. Cabrita, B.S. Ferreira, C. Lobato da Silva, G.\n'
        "Almeida-Porada and J.M.S. Cabral, Hematopoietic stem cells: from the bone to the "
        'bioreactor. <a href="https://doi.org/10.1016/S0167-7799(03)00076-3">Trends '
        "Biotechnol</a> 21 (2003)</div></td></tr></table>"
    )
    entries = extract_document(str(path)).references
    assert [(e.label, e.text[:12], [str(i) for i in e.ids]) for e in entries] == [
        ("1", "J.R. Fuchs, ", []),
        ("2", "G.J.M. Cabri", ["doi:10.1016/s0167-7799(03)00076-3"]),
    ]
    # a table of works, rows left open too: one entry per row, its paragraphs one line
    path.write_text(
        "<h2>Publications</h2><h3>References</h3><table><tr><td>1</td><td><p>Smith J, Doe A. "
        "A study of things in the lab.</p><p>Nature 12: 3-4. doi:10.1000/a</p></td>"
        "<tr><td>2</td><td><p>Roe R. Another study of things in the lab.</p><p>Cell 5: 6-7. "
        "doi:10.1000/b</p></td></table>"
    )
    entries = extract_document(str(path)).references
    assert [(e.text[-13:], [i.value for i in e.ids]) for e in entries] == [
        ("doi:10.1000/a", ["10.1000/a"]),
        ("doi:10.1000/b", ["10.1000/b"]),
    ]


def test_an_html_headings_links_and_bracketed_tail_are_no_words_of_its_title(tmp_path):
    # Wikipedia (readability's wikipedia.html, the Mozilla article): "References" carries its
    # edit link, "[edit]"; the heading was "References [ /w/index.php?…&action=edit edit ]", no
    # reference heading, so none of its 72 references were entries. ScienceDirect's "Cited by"
    # list titles each citing work with a link to its DOI: still found, under that heading.
    path = tmp_path / "wikipedia.html"
    path.write_text(
        '<h2><span class="mw-headline" id="References">References</span><span class="mw-'
        'editsection">[<a href="/w/index.php?title=Mozilla&amp;action=edit&amp;section=35">'
        'edit</a>]</span></h2><ol class="references"><li id="cite_note-1"><span class="mw-'
        'cite-backlink"><a href="#cite_ref-1">^</a></span> Payment, S. (2007). Marc Andreessen '
        "and Jim Clark: The Founders of Netscape. Rosen Publishing Group.</li></ol>"
        '<h2>Cited by (15)</h2><h3><a href="https://doi.org/10.1063/1.477391">Efficient '
        "algorithms</a></h3><p>2020, Journal of Chemical Physics</p>"
    )
    doc = extract_document(str(path))
    assert [(e.section, e.text[:18]) for e in doc.references] == [
        ("References [ edit ]", "^ Payment, S. (200")
    ]
    assert [(m.value, m.role, m.section) for m in doc.mentions] == [
        ("10.1063/1.477391", "citing", "link")
    ]
    # a heading never closed still gives its links' ids, at the end
    path.write_text('<p>Text.</p><h2>See <a href="https://doi.org/10.1000/x">this</a>')
    assert [m.value for m in extract_document(str(path)).mentions] == ["10.1000/x"]


def test_the_pages_own_doi_after_its_reference_list_is_no_entrys_id(tmp_path):
    # PLOS: "Download PDF" and "Citation" links with the article's DOI follow the list, with
    # no heading between: they run into the last entry's text, but are the page's own.
    path = tmp_path / "plos.html"
    path.write_text(
        '<head><meta name="citation_doi" content="10.1371/journal.pone.0213978"></head><body>'
        "<h2>References</h2><ol><li>Wang Y., Cui Z. and Jiang S. (2005) Sequencing of REV "
        "isolate HA9901. Science in China C. 35:340-380.</li></ol>"
        '<a href="/plosone/article/file?id=10.1371/journal.pone.0213978&type=printable">'
        "Download PDF</a></body>"
    )
    doc = extract_document(str(path))
    assert doc.references[0].text.startswith("Wang Y., Cui Z.")
    assert [i for e in doc.references for i in e.ids] == []
    assert {m.role for m in doc.mentions} == {"subject"}


def test_the_pages_own_addresses_in_its_meta_tags_name_the_page_itself(tmp_path):
    # Semantic Scholar (metascraper-semanticscholar's crosswalk.html fixture) gives its DOI only
    # as citation_pdf_url; APS, IOP, Springer, bioRxiv print it in og:url and the *_url tags.
    path = tmp_path / "s2.html"
    path.write_text(
        '<head><meta name="citation_title" content="Where the Crosswalk Ends">'
        '<meta name="citation_pdf_url" content="https://doi.org/10.1177/23998083221081530">'
        '<meta property="og:url" content="https://journals.aps.org/prx/abstract/10.1103/'
        'PhysRevX.12.041027"></head><body><h2>70 References</h2></body>'
    )
    mentions = extract_document(str(path)).mentions
    assert {(m.value, m.role) for m in mentions} == {
        ("10.1177/23998083221081530", "subject"),
        ("10.1103/physrevx.12.041027", "subject"),
    }


def test_a_meta_tag_named_or_identified_doi_names_the_page_itself(tmp_path):
    # D-Lib Magazine's article pages: <meta id="DOI" content="10.1045/...">, no citation_doi.
    path = tmp_path / "dlib.html"
    path.write_text(
        '<head><meta id="DOI" content="10.1045/may2017-vanhyning"><meta name="doi" '
        'content="10.1045/may2017-vanhyning"></head><body><h3>Transforming Libraries</h3>'
        '<p><a href="https://doi.org/10.1045/may2017-vanhyning">https://doi.org/10.1045/'
        "may2017-vanhyning</a></p></body>"
    )
    roles = {m.role for m in extract_document(str(path)).mentions}
    assert roles == {"subject"}


# Cloudflare's challenge page, saved instead of the article (papis' ACS, Taylor & Francis,
# Annual Reviews and APS test pages are this page): its markup cut down, scripts shortened.
CLOUDFLARE_CHALLENGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    '<meta name="robots" content="noindex,nofollow">'
    '<link href="/cdn-cgi/styles/challenges.css" rel="stylesheet">'
    '<meta http-equiv="refresh" content="35"></head><body class="no-js">'
    '<div class="main-wrapper" role="main"><div class="main-content"><noscript>'
    '<div id="challenge-error-title"><div class="h2"><span id="challenge-error-text">Enable '
    "JavaScript and cookies to continue</span></div></div></noscript></div></div><script>"
    "(function(){window._cf_chl_opt={cvId: '3',cZone: \"pubs.acs.org\",cType: 'managed'};"
    "var cpo = document.createElement('script');cpo.src = '/cdn-cgi/challenge-platform/h/b/"
    "orchestrate/chl_page/v1?ray=8f';}());</script></body></html>"
)
ARTICLE_WORDS = " ".join(
    ["The reaction was followed by NMR spectroscopy at room temperature."] * 30
)


def test_a_bot_check_page_saved_instead_of_the_article_gives_one_warning_naming_it(tmp_path):
    path = tmp_path / "jp003647e.html"
    path.write_text(CLOUDFLARE_CHALLENGE)
    doc = extract_document(str(path))
    (problem,) = doc.problems
    assert problem.path == str(path) and not problem.fatal
    assert problem.message.startswith('looks like a bot-check page, not the article ("Just a')
    assert "save it again from a browser" in problem.message


@pytest.mark.parametrize(
    ("page", "kind"),
    [
        (  # Cloudflare's block page (its words, Ray ID and footer: about 100 words)
            "<html><head><title>Attention Required! | Cloudflare</title></head><body><div "
            'id="cf-wrapper"><div id="cf-error-details"><h1>Sorry, you have been blocked</h1>'
            "<h2>You are unable to access example.org</h2><p>This website is using a security "
            "service to protect itself from online attacks.</p></div></div></body></html>",
            "bot-check",
        ),
        (  # HUMAN (PerimeterX) press-and-hold challenge
            "<html><head><title>Access to this page has been denied</title></head><body><h1>"
            "Press &amp; Hold to confirm you are a human (and not a bot).</h1><div "
            'id="px-captcha"></div><script src="/px/captcha/captcha.js"></script></body></html>',
            "bot-check",
        ),
        (  # a CAPTCHA interstitial with no Cloudflare title
            '<html><head><title>Please wait</title></head><body><div class="g-recaptcha" '
            'data-sitekey="6Lc"></div><p>Please confirm you are not a robot.</p></body></html>',
            "bot-check",
        ),
        (  # an institution's sign-in form in front of the article
            "<html><head><title>Institutional access</title></head><body><h1>Access through "
            'your institution</h1><form action="/action/doLogin" method="post"><input '
            'name="username"><input type="password" name="password"><button>Go</button>'
            "</form></body></html>",
            "login",
        ),
        (  # a cookie wall: only the consent dialog was saved
            '<html><head><title>Journal</title></head><body><div id="cookie-consent-wall">'
            "<p>We use cookies to improve your experience.</p><button>Accept all</button>"
            "</div></body></html>",
            "cookie-wall",
        ),
        (  # a rate-limit answer saved as the page (no <title>: its heading names it)
            "<html><body><h1>429 Too Many Requests</h1>You have sent too many requests in a "
            "given amount of time.</body></html>",
            "error",
        ),
    ],
)
def test_a_login_captcha_cookie_wall_or_error_page_of_few_words_warns_what_it_is(
    tmp_path, page, kind
):
    path = tmp_path / "saved.html"
    path.write_text(page)
    (problem,) = extract_document(str(path)).problems
    assert problem.message.startswith(f"looks like {'an' if kind == 'error' else 'a'} {kind} ")


def test_an_article_page_beside_a_challenge_script_login_box_or_cookie_banner_gives_no_warning(
    tmp_path,
):
    # Cloudflare adds its bot-detection script to ordinary pages (readability's royal-road and
    # article-author-tag pages carry it); journal pages hold a login box and a cookie banner.
    path = tmp_path / "article.html"
    path.write_text(
        "<html><head><title>Sign in to see more | Kinetics of a reaction</title><script>"
        "a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';</script></head><body>"
        '<div id="cookie-banner">We use cookies.</div><form><input type="password"></form>'
        f'<h1>Kinetics of a reaction</h1><div class="g-recaptcha"></div><p>{ARTICLE_WORDS}</p>'
        "</body></html>"
    )
    assert extract_document(str(path)).problems == ()


def test_a_short_page_without_the_signs_of_a_wall_gives_no_warning(tmp_path):
    # A few words alone are no sign: a saved fragment listing two works is read as it is.
    path = tmp_path / "two.html"
    path.write_text(
        "<html><head><title>Publications</title></head><body><ol><li>Smith J. Kinetics. "
        "doi:10.1000/xyz1</li><li>Doe A. Spectra. doi:10.1000/xyz2</li></ol></body></html>"
    )
    doc = extract_document(str(path))
    assert doc.problems == () and len(doc.mentions) == 2


PUBMED_REFERENCES = (
    '<ol class="references-list"><li>Reisberg B, London E, Ferris SH. The Brief Cognitive '
    'Rating Scale. Psychopharmacol Bull. 1988;24:629-36.<ul class="reference-links"><li><a '
    'class="reference-link" href="/3249764/" data-ga-action="PMID">PubMed</a></li></ul></li>'
    "</ol>"
)


@pytest.mark.parametrize(
    "head",
    [
        '<link rel="canonical" href="https://pubmed.ncbi.nlm.nih.gov/7114305/">',
        '<meta property="og:url" content="https://pubmed.ncbi.nlm.nih.gov/7114305/">',
        '<base href="https://pubmed.ncbi.nlm.nih.gov/">',
    ],
)
def test_a_root_relative_link_is_read_from_the_address_the_page_names(tmp_path, head):
    # A PubMed article page links each reference to "/3249764/": a browser resolves it against
    # the page's address, which the page names in <base>, its canonical link or og:url.
    path = tmp_path / "pubmed.html"
    path.write_text(
        f"<html><head>{head}</head><body><h2>References</h2>{PUBMED_REFERENCES}</body></html>"
    )
    doc = extract_document(str(path))
    (entry,) = doc.references
    assert [(i.scheme, i.value) for i in entry.ids] == [("pmid", "3249764")]
    text = path.read_text()
    (m,) = [m for m in doc.mentions if m.value == "3249764"]
    assert text[m.start : m.end] == "3249764"


def test_a_root_relative_link_of_a_page_naming_no_address_names_no_work(tmp_path):
    path = tmp_path / "pubmed.html"
    path.write_text(f"<html><body><h2>References</h2>{PUBMED_REFERENCES}</body></html>")
    (entry,) = extract_document(str(path)).references
    assert entry.ids == ()


def test_a_line_break_in_the_file_inside_a_reference_is_a_space_not_a_new_entry(tmp_path):
    # Wiley's reference pane (markup as quoted in public parser tests): the text ends "1274."
    # and a line break before the div holding the DOI; a browser shows one line.
    path = tmp_path / "wiley.html"
    path.write_text(
        '<html><body><h2>References</h2><ul class="rlist separator">\n  <li data-bib-id='
        '"jfd12505-bib-0001">\n    <span class="author">Attéré S.A.</span>, <span class="'
        'author">Charette S.J.</span>\n    (<span class="pubYear">2015</span>)\n    <span '
        'class="articleTitle">Diversity and homogeneity among small plasmids</span>. <i>'
        'Frontiers in Microbiology</i>\n    <span class="vol">6</span>, <span class="pageFirst">'
        '1274</span>.\n    <div class="extra-links getFTR"><span class="hidden data-doi">'
        "10.3389/fmicb.2015.01274</span></div>\n  </li>\n</ul></body></html>"
    )
    (entry,) = extract_document(str(path)).references
    assert entry.text.startswith("Attéré S.A.")
    assert [(i.scheme, i.value) for i in entry.ids] == [("doi", "10.3389/fmicb.2015.01274")]


OUP_REFERENCES = (  # academic.oup.com (Silverchair): each part of a reference is a <div> of its own
    '<h2 class="backreferences-title">References</h2><div class="ref-list js-splitview-ref-list">'
    '<div class="js-splitview-ref-item"><div class="ref-content "><div class="mixed-citation '
    'citation"><div class="person-group"><div class="name"><div class="surname">Abbott</div> '
    '<div class="given-names">B. P.</div></div> <div class="etal">et al.</div></div>, <div '
    'class="year">2016</div>, <div class="source ">PASP</div>, <div class="volume">128</div>, '
    '<div class="fpage">124</div></div></div>\n<div class="citation-links"><div class="crossref-'
    'doi js-crossref"><a href="https://doi.org/10.1088/1538-3873/128/966/124">Crossref</a></div>'
    '<div class="adsDoiReference"><a href="https://ui.adsabs.harvard.edu/">Search ADS</a></div>'
    '</div></div>\n<div class="js-splitview-ref-item"><div class="ref-content "><div class="mixed-'
    'citation citation"><div class="person-group"><div class="name"><div class="surname">Roe'
    '</div> <div class="given-names">R.</div></div></div>, <div class="year">2019</div>, <div '
    'class="source ">MNRAS</div></div></div><div class="citation-links"><div class="crossref-doi">'
    '<a href="https://doi.org/10.1093/mnras/sty2001">Crossref</a></div></div></div></div>'
)


def test_a_reference_div_is_one_entry_and_the_divs_of_its_parts_are_no_headings(tmp_path):
    # OUP: "Abbott", "PASP" set each in a <div> were guessed headings that closed the list:
    # 0 entries, their DOIs mere mentions. A <div> whose class names one reference is an entry.
    path = tmp_path / "oup.html"
    path.write_text(f"<html><body>{OUP_REFERENCES}<h2>Notes</h2><p>Text.</p></body></html>")
    doc = extract_document(str(path))
    assert [(e.text[:27], [i.value for i in e.ids]) for e in doc.references] == [
        ("Abbott B. P. et al. , 2016 ", ["10.1088/1538-3873/128/966/124"]),
        ("Roe R. , 2019 , MNRAS https", ["10.1093/mnras/sty2001"]),
    ]
    assert {m.role for m in doc.mentions} == {"reference"}
    # a list's, its links' or a page part's <div> is no entry: each <div> inside it is one
    path.write_text(
        '<h2>References</h2><div class="references highwire-article-citation"><div class='
        '"citation-links">Smith J. A '
        'study of things. Cell 1: 2.</div><div class="citation-links">Roe R. Another study of '
        "things. Nature 3: 4.</div></div>"
    )
    assert len(extract_document(str(path)).references) == 2


def test_a_link_outs_encoded_doi_of_the_cited_work_is_the_entrys_id(tmp_path):
    # Taylor & Francis (and Wiley): a reference's "[Taylor & Francis Online]" / "CrossRef"
    # link-out carries the page's own DOI (doi=) and then the cited work's (key=), %-encoded.
    # The page's own swallowed the cited one as a query tail: no entry had an id.
    path = tmp_path / "tandf.html"
    link = (
        '<a href="/servlet/linkout?suffix=CIT{n}&amp;dbid=16&amp;doi=10.1080%2F00268976.2021.'
        '1234567&amp;key={key}">[Crossref]</a>'
    )
    path.write_text(
        '<html><head><meta name="dc.Identifier" scheme="doi" content="10.1080/00268976.2021.'
        '1234567"></head><body><h2>References</h2><ul class="references numeric-ordered-list">'
        "<li>Smith, J. 2001. A study of molecules. Mol. Phys. 99: 1-10. "
        + link.format(n="0001", key="10.1080%2F00268970110089432")
        + "</li><li>Roe, R. 1999. Another study. J. Chem. Phys. 3: 4. "
        + link.format(n="0002", key="10.1063%2F1.477391")
        + "</li></ul></body></html>"
    )
    doc = extract_document(str(path))
    assert [[i.value for i in e.ids] for e in doc.references] == [
        ["10.1080/00268970110089432"],
        ["10.1063/1.477391"],
    ]
    text = path.read_text()
    cited = [m for m in doc.mentions if m.role == "reference"]
    assert [text[m.start : m.end] for m in cited] == [
        "10.1080%2F00268970110089432",
        "10.1063%2F1.477391",
    ]
    assert {m.value for m in doc.mentions if m.role == "subject"} == {
        "10.1080/00268976.2021.1234567"
    }
    # the link-out's doi= names the citing page: read as no DOI, even if its head names none
    path.write_text("<html>" + text.split("</head>")[1])
    doc = extract_document(str(path))
    assert [[i.value for i in e.ids] for e in doc.references] == [
        ["10.1080/00268970110089432"],
        ["10.1063/1.477391"],
    ]
