"""pipeline.readers.pdf: real PDFs (GROBID's and py-pdf's test files) and generated edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract import extract_document
from pipeline.readers import ReadLimits, extracted_text
from pipeline.readers.pdf import shutdown_worker
from tests.pipeline.readers.pdfgen import bomb, content, pdf, placed

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"


def by_value(doc):
    """The printed mention of each value (a link target only when nothing printed it)."""
    found = {m.value: m for m in doc.mentions if m.section == "link"}
    found.update({m.value: m for m in doc.mentions if m.section != "link"})
    return found


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --------------------------------------------------------------------------------------------
# Real PDFs
# --------------------------------------------------------------------------------------------


def test_jcap_header_doi_is_the_subject_and_arxiv_ids_in_references_are_references():
    doc = extract_document(str(DOCS / "jcap-0807.3577.pdf"))
    assert doc.problems == ()
    found = by_value(doc)
    assert found["10.1088/1475-7516/2008/10/003"].role == "subject"  # "doi:..." in the header
    assert found["0807.3577"].role == "subject"  # "ArXiv ePrint: 0807.3577" on page 1
    assert found["10.1088/1475-7516/2008/10/003"].group == found["0807.3577"].group
    for arxiv in ("0803.0732", "astro-ph/0703586", "gr-qc/0507057"):  # old style keeps archive
        assert found[arxiv].role == "reference" and found[arxiv].section == "References"


def test_jcap_dois_that_are_only_link_targets_are_kept_in_section_link():
    doc = extract_document(str(DOCS / "jcap-0807.3577.pdf"))
    links = {m.value: m for m in doc.mentions if m.section == "link"}
    # the reference list prints no DOI: these exist only as URI link annotations
    assert links["10.1086/304265"].role == "reference"
    assert links["10.1046/j.1365-8711.2002.06001.x"].scheme == "doi"
    assert not any(m.value == "10.1086/304265" and m.section != "link" for m in doc.mentions)


def test_arxiv_margin_stamp_names_the_subject():
    doc = extract_document(str(DOCS / "arxiv-0908.0054.pdf"))
    (stamp,) = [m for m in doc.mentions if m.value == "0908.0054"]
    assert (stamp.scheme, stamp.role) == ("arxiv", "subject")


def test_a_numbered_list_without_a_heading_is_the_reference_list():
    doc = extract_document(str(DOCS / "arxiv-0908.0054.pdf"))
    assert doc.references and doc.references[0].label == "1"
    linked = [m for m in doc.mentions if m.section == "link"]
    assert linked and {m.role for m in linked} == {"reference"}


def test_ieee_first_page_doi_footer_is_the_subject():
    doc = extract_document(str(DOCS / "ieee-dsde.2010.49.pdf"))
    assert [(m.value, m.role) for m in doc.mentions] == [("10.1109/dsde.2010.49", "subject")]


def test_offsets_point_into_the_extracted_text():
    path = str(DOCS / "jcap-0807.3577.pdf")
    text = extracted_text(path)
    lines = text.split("\n")
    for m in extract_document(path).mentions:
        printed = text[m.start : m.end].replace("\n", "")
        assert m.value.lower() in printed.lower() or printed.lower().endswith(m.value.lower())
        assert text.count("\n", 0, m.start) + 1 == m.line
        assert lines[m.line - 1]


def test_encrypted_pdf_is_one_fatal_line():
    doc = extract_document(str(DOCS / "encrypted.pdf"))
    (p,) = doc.problems
    assert p.fatal and p.message.startswith("encrypted PDF") and doc.bytes == 12783


# --------------------------------------------------------------------------------------------
# Line breaks inside identifiers (generated: both kinds of break, and neighbours left apart)
# --------------------------------------------------------------------------------------------

BROKEN = [
    "Title of a paper",
    "Body text.",
    "",
    "Introduction",
    "See doi:10.1111/j.1365-",
    "2648.2009.01234.x and https://doi.org/10.1038/",
    "nature12373 and https://doi.",
    "org/10.1002/(SICI)1097-4636(199912)47:4<463::AID-",
    "JBM6>3.0.CO;2-R here.",
    "References",
    "[1] Smith J. Title. doi:10.1000/abc.",
    "[2] Doe A. Other. PMID:",
    "12345678",
    "[3] Roe B. arXiv:",
    "1706.03762",
]


def test_identifiers_broken_across_lines_are_joined(tmp_path):
    doc = extract_document(write(tmp_path, "broken.pdf", pdf([content(BROKEN)])))
    found = by_value(doc)
    assert "10.1111/j.1365-2648.2009.01234.x" in found  # a real hyphen at the break: kept
    assert "10.1038/nature12373" in found  # broken after the prefix slash
    assert "10.1002/(sici)1097-4636(199912)47:4<463::aid-jbm6>3.0.co;2-r" in found
    assert found["12345678"].scheme == "pmid" and found["12345678"].role == "reference"
    assert found["1706.03762"].role == "reference"
    # a complete DOI at a line end is not glued to the next entry
    assert "10.1000/abc" in found and not any(v.startswith("10.1000/abc.") for v in found)
    assert [r.label for r in doc.references] == ["1", "2", "3"]
    assert doc.references[1].ids[0].value == "12345678"


def test_an_arxiv_url_broken_at_a_slash_is_joined(tmp_path):
    lines = [
        "References",
        "1. Boixo, S. et al. Simulation of circuits. Preprint at https://arxiv.org/",
        "abs/1712.05384 (2017).",
        "2. Chen, J. et al. Classical simulation. Preprint at https://arxiv.org/",
        "pdf/1805.01450v2 (2018).",
        "3. Roe, B. A web page at https://arxiv.org/",
        "help/submit (2019).",
    ]
    doc = extract_document(write(tmp_path, "arxiv.pdf", pdf([content(lines)])))
    assert [[i.value for i in r.ids] for r in doc.references] == [
        ["1712.05384"],
        ["1805.01450"],
        [],  # a page of the site, no paper: the break stays
    ]


def test_a_doi_broken_right_after_10_dot_is_joined_only_into_a_registrant_code(tmp_path):
    lines = [
        "Intro",
        "",
        "See https://doi.org/10.",
        "1104/pp.15.01164 and doi: 10.",
        "5555/12345 and also 10.",
        "1016/j.cell.2001.01.001 here.",
        "The counts are in Table 10.",
        "2005/06 figures follow, and in row 10.",
        "The next sentence.",
    ]
    doc = extract_document(write(tmp_path, "ten.pdf", pdf([content(lines)])))
    found = by_value(doc)
    assert "10.1104/pp.15.01164" in found  # after a resolver
    assert "10.5555/12345" in found  # after a label: a numeric suffix is enough
    assert "10.1016/j.cell.2001.01.001" in found  # bare "10.": a suffix that is no number
    # a sentence ending in "10." keeps its break: "2005/06" is no DOI suffix
    assert set(found) == {"10.1104/pp.15.01164", "10.5555/12345", "10.1016/j.cell.2001.01.001"}


def test_a_links_doi_decides_a_hyphen_pdfium_took_for_hyphenation(tmp_path):
    lines = ["Intro", "", "doi:10.5555/abcdef-", "ghij and more"]
    linked = pdf([content(lines)], links=["https://doi.org/10.5555/abcdefghij"])
    found = by_value(extract_document(write(tmp_path, "l.pdf", linked)))
    assert "10.5555/abcdefghij" in found  # the link says the hyphen was typesetting
    kept = by_value(extract_document(write(tmp_path, "k.pdf", pdf([content(lines)]))))
    assert "10.5555/abcdef-ghij" in kept  # no evidence: the DOI's own hyphen stays


def test_a_link_over_an_entrys_printed_text_gives_that_entry_its_id(tmp_path):
    lines = [
        "References",
        "1. Smith J. A first title. J Biol 2001.",
        "2. Jones K. A second title. J Chem 2002.",
        "3. Brown L. A third title. Nature 2003.",
    ]
    links = [
        ("https://doi.org/10.5555/first", (130, 703, 220, 715)),  # over Smith's title
        ("https://doi.org/10.5555/second", (72, 689, 300, 701)),  # over Jones's line
        ("https://doi.org/10.5555/both", (72, 689, 300, 715)),  # over the end of one, the next
        ("https://doi.org/10.5555/none", (72, 500, 300, 512)),  # over no printed text
    ]
    doc = extract_document(write(tmp_path, "r.pdf", pdf([content(lines)], links=links)))
    ids = {r.label: [i.value for i in r.ids] for r in doc.references}
    assert ids == {"1": ["10.5555/first"], "2": ["10.5555/second"], "3": []}
    links_found = {m.value for m in doc.mentions if m.section == "link"}
    assert links_found == {f"10.5555/{k}" for k in ("first", "second", "both", "none")}


def test_decoys_stay_out(tmp_path):
    lines = [
        "Intro",
        "",
        "J. Physiol. 10.1113 is no DOI; ISSN 1234-5678; ISBN 978-3-16-148410-0;",
        "pages 388-398; grant R01 CA123456; n = 163, p = 0.05; PMC Phys. A 2 1",
    ]
    doc = extract_document(write(tmp_path, "d.pdf", pdf([content(lines)])))
    assert doc.mentions == ()


# --------------------------------------------------------------------------------------------
# Bad PDFs: one line each, bounded
# --------------------------------------------------------------------------------------------


def test_a_pdf_without_text_is_scanned_and_skipped_in_a_folder(tmp_path):
    path = write(tmp_path, "scan.pdf", pdf([b"q Q"]))
    (p,) = extract_document(path).problems
    assert p.message.startswith("scanned PDF: no text layer, OCR not done") and not p.skipped
    (q,) = extract_document(path, named=False).problems
    assert q.fatal and q.skipped


def test_a_pdf_of_5000_pages_is_read_up_to_the_page_limit(tmp_path):
    path = write(tmp_path, "long.pdf", pdf([content(["PMID: 12345678"])], pages_share=5000))
    doc = extract_document(path, limits=ReadLimits(pdf_max_pages=50))
    assert len(doc.mentions) == 50
    (p,) = doc.problems
    assert not p.fatal and p.message.startswith("PDF of 5000 pages: read the first 50")


@pytest.mark.slow
def test_a_decompression_bomb_ends_in_the_worker_not_the_run(tmp_path):
    path = write(tmp_path, "bomb.pdf", bomb(1024))
    doc = extract_document(path, limits=ReadLimits(pdf_max_memory_mb=400, pdf_max_seconds=60))
    good = extract_document(write(tmp_path, "ok.pdf", pdf([content(["PMID: 1"])])))
    assert [m.value for m in good.mentions] == ["1"]  # the worker came back
    assert len(doc.problems) <= 1
    for p in doc.problems:
        assert "\n" not in p.message


def test_a_pdf_that_takes_too_long_is_given_up(tmp_path):
    path = write(tmp_path, "long.pdf", pdf([content(["PMID: 12345678"] * 40)], pages_share=3000))
    doc = extract_document(path, limits=ReadLimits(pdf_max_seconds=0.05))
    (p,) = doc.problems
    assert p.fatal and "ENRICH_PDF_MAX_SECONDS" in p.message
    shutdown_worker()
    assert extract_document(write(tmp_path, "ok.pdf", pdf([content(["PMID: 2"])]))).mentions


def test_a_pdf_signature_inside_text_is_text_unless_the_file_is_named_pdf(tmp_path):
    # found by the fuzzer: "1%PDF-0." in a .txt was read as a damaged PDF
    assert extract_document(write(tmp_path, "a.txt", b"1%PDF-0. PMID: 1\n")).problems == ()
    junk = b"HTTP/1.1 200 OK\r\n\r\n" + pdf([content(["PMID: 12345678"])])
    assert [m.value for m in extract_document(write(tmp_path, "b.pdf", junk)).mentions] == [
        "12345678"
    ]


# --------------------------------------------------------------------------------------------
# Reference lists laid out on real pages' patterns
# --------------------------------------------------------------------------------------------

PROSE = "We report the measurements of the samples in the main text of this article here."


def test_a_numbered_list_of_dated_references_under_no_heading_is_the_reference_list(tmp_path):
    # Nature's style: the list follows the last paragraph with no "References" heading
    body = ["A title of an article", "Introduction", *[PROSE] * 12]
    refs = [
        "1. Feynman, R. P. Simulating physics with computers. Int. J. Theor. Phys. 21,",
        "467-488 (1982).",
        "2. Devoret, M. H. & Clarke, J. Measurements of tunneling. Phys. Rev. Lett. 55, 1908",
        "(1985).",
        "3. Preskill, J. Quantum computing. Preprint at https://doi.org/10.1142/8674 (2012).",
        "4. Shor, P. W. Scheme for reducing decoherence. Phys. Rev. A 52, R2493 (1995).",
    ]
    doc = extract_document(write(tmp_path, "nature.pdf", pdf([content(body + refs)])))
    assert [r.label for r in doc.references] == ["1", "2", "3", "4"]
    assert doc.references[0].text.endswith("Int. J. Theor. Phys. 21, 467-488 (1982).")
    assert [m.role for m in doc.mentions if m.value == "10.1142/8674"] == ["reference"]


def test_numbered_steps_without_years_are_no_reference_list(tmp_path):
    steps = [
        "1. Cells were washed twice in buffer and spun down.",
        "2. The pellet was dissolved in the lysis buffer.",
        "3. Samples were loaded on the gel, see doi:10.5555/protocol.",
        "4. Bands were cut out and sequenced.",
    ]
    body = ["A title of an article", "Introduction", *[PROSE] * 12, *steps]
    doc = extract_document(write(tmp_path, "steps.pdf", pdf([content(body)])))
    assert doc.references == ()
    assert [m.role for m in doc.mentions] == ["mention"]


def test_an_entry_continued_indented_at_a_column_top_is_not_a_new_entry(tmp_path):
    # Elsevier's hanging indent: an entry's last lines open the next column, indented like
    # continuation lines; the next entry starts further left below them
    left = [
        (72, 720, "References"),
        (72, 700, "Smith, J., 2001. A first study of the subject. J. Hydrol. 1, 1-2."),
        (84, 686, "More of the first entry here."),
        (72, 672, "Van Lill, W.S., 1980. The effect of afforestation with Pinus"),
    ]
    right = [
        (318, 720, "patula on streamflow from experimental catchments."),
        (318, 706, "Journal of Hydrology 48, 107-118."),
        (306, 692, "Van Wyk, D.B., 1987. Some effects on streamflow. Water 13, 31-36."),
        (318, 678, "Its second line."),
    ]
    doc = extract_document(write(tmp_path, "cols.pdf", pdf([placed(left + right)])))
    starts = [r.text.split(",")[0] for r in doc.references]
    assert starts == ["Smith", "Van Lill", "Van Wyk"]
    assert doc.references[1].text.endswith(
        "with Pinus patula on streamflow from experimental "
        "catchments. Journal of Hydrology 48, 107-118."
    )


def test_running_heads_of_left_and_right_pages_are_furniture(tmp_path):
    # APA journals head odd pages "632 LUPKER AND DAVIS" (read last on the page) and even ones
    # "MASKED SANDWICH PRIMING 633": each stands on under half of all pages (neither the title
    # page nor the last one has one), but on most pages of its side
    def page(i: int, lines: list[str]) -> bytes:
        if not 0 < i < 7:
            return content(lines)
        if i % 2:
            return content([*lines, "", f"{600 + i} SMITH AND JONES"])
        return content([f"A RUNNING TITLE {600 + i}", "", *lines])

    pages = [page(i, [PROSE] * 10) for i in range(5)]
    pages.append(page(5, [*[PROSE] * 4, "References",
                          "Adams, A. (2001). A first work. Journal, 1, 1-2.",
                          "Brown, B. (2002). A second work. Journal, 2, 3-4."]))  # fmt: skip
    pages.append(page(6, ["Clark, C. (2003). A third work. Journal, 3, 5-6.",
                          "Davis, D. (2004). A fourth work. Journal, 4, 7-8."]))  # fmt: skip
    pages.append(page(7, ["Appendix A", PROSE]))
    doc = extract_document(write(tmp_path, "heads.pdf", pdf(pages)))
    assert [r.text for r in doc.references] == [
        "Adams, A. (2001). A first work. Journal, 1, 1-2.",
        "Brown, B. (2002). A second work. Journal, 2, 3-4.",
        "Clark, C. (2003). A third work. Journal, 3, 5-6.",
        "Davis, D. (2004). A fourth work. Journal, 4, 7-8.",
    ]


def test_an_entry_running_on_over_a_page_break_is_one_entry(tmp_path):
    # Elsevier's hanging indent: the page ends inside an entry, the next page's first lines
    # (under its running head) are indented continuation lines, then the next entry
    def foot(n: int) -> tuple[float, float, str]:
        return (200, 40, f"{n} J. Lane et al. / Journal of Hydrology 310 (2005) 253-265")

    first = [(72, 720, "Introduction"), *[(72, 700 - 14 * k, PROSE) for k in range(10)]]
    refs = [
        (72, 720, "References"),
        (72, 700, "Smith, J., 2001. A first study of the subject."),
        (84, 686, "J. Hydrol. 1, 1-2."),
        (72, 672, "Van Lill, W.S., 1980. The effect of afforestation with Eucalyptus"),
        (84, 658, "grandis Hill ex Maiden and Pinus"),
    ]
    after = [
        (84, 720, "patula on streamflow from experimental catchments."),
        (84, 706, "Journal of Hydrology 48, 107-118."),
        (72, 692, "Van Wyk, D.B., 1987. Some effects on streamflow. Water 13, 31-36."),
        (84, 678, "Its second line."),
    ]
    pages = [placed([*first, foot(1)]), placed([*refs, foot(2)]), placed([*after, foot(3)])]
    doc = extract_document(write(tmp_path, "over.pdf", pdf(pages)))
    assert [r.text.split(",")[0] for r in doc.references] == ["Smith", "Van Lill", "Van Wyk"]
    assert doc.references[1].text.endswith(
        "and Pinus patula on streamflow from experimental catchments. "
        "Journal of Hydrology 48, 107-118."
    )
    assert "Journal of Hydrology 310" not in doc.references[1].text


def test_a_pages_link_targets_are_no_ids_of_an_entry_running_over_them(tmp_path):
    # the page's "[link] URI" lines come after its last line: an entry running on to the next
    # page spans them, but only the entry the link is drawn over gets its DOI
    page1 = content(
        [
            "Introduction",
            *[PROSE] * 3,
            "References",
            "[1] Smith J. A first title. J Biol 2001.",
            "[2] Doe A. A second title that goes on",
        ]
    )
    page2 = content(["to the next page. J Chem 2002.", "[3] Roe B. A third title. 2003."])
    link = ("https://doi.org/10.5555/first", (72, 650, 300, 662))  # over line 5: entry [1]
    doc = extract_document(write(tmp_path, "links.pdf", pdf([page1, page2], links=[link])))
    assert [r.label for r in doc.references] == ["1", "2", "3"]
    assert [[i.value for i in r.ids] for r in doc.references] == [["10.5555/first"], [], []]


def test_a_page_of_two_line_entries_pdfium_joined_keeps_its_line_step(tmp_path):
    # ICML 2017 (Futoma et al.) p. 12: most entries are two printed lines PDFium joins at a
    # hyphen, so most gaps between lines left are the wider ones between entries; a one-line
    # entry is still set apart from the next by that wider gap
    lines = [(72, 740, "References")]
    y = 715.0
    for k, name in enumerate(["Adams", "Brown", "Clark", "Davis", "Evans", "Fox", "Green"]):
        if k in (3, 5):
            lines.append((72, y, f"{name}, A. A short work. J. {k}, 2001."))
            y -= 22
            continue
        lines.append((72, y, f"{name}, A. and Roe, B. A study of multi-"))
        lines.append((84, y - 13.6, f"output processes. J. {k}, 1-2, 2001."))
        y -= 13.6 + 22
    doc = extract_document(write(tmp_path, "step.pdf", pdf([placed(lines)])))
    starts = [r.text.split(",")[0] for r in doc.references]
    assert starts == ["Adams", "Brown", "Clark", "Davis", "Evans", "Fox", "Green"]


def test_the_first_pages_history_line_names_the_subject(tmp_path):
    # Nature Neuroscience 2011: the footnote "Received ...; accepted ...; published online ...;
    # doi:10.1038/nn.2727" is read after the first column's text; later pages' heads print it
    page1 = content(
        [
            "Ephaptic coupling of cortical neurons",
            "RESULTS",
            *[PROSE] * 6,
            "Received 6 October 2010; accepted 30 November 2010; published online 16 January "
            "2011; doi:10.1038/nn.2727",
        ]
    )
    page2 = content(["nature NEUROSCIENCE doi:10.1038/nn.2727", "ONLINE METHODS", PROSE])
    doc = extract_document(write(tmp_path, "history.pdf", pdf([page1, page2])))
    assert {(m.value, m.role) for m in doc.mentions} == {("10.1038/nn.2727", "subject")}


def test_a_jstor_cover_sheet_is_about_the_article_and_opens_no_reference_list(tmp_path):
    # every PDF downloaded from JSTOR starts with this page; its "REFERENCES" label stands
    # over a line about JSTOR's linked references, not over a list
    cover = content(
        [
            "FAO's Work in Mountains",
            "Author(s): Rosalaura Romeo, Sara Manuelli and Samantha Abear",
            "Source: Mountain Research and Development , August 2021, Vol. 41, No. 3",
            "Published by: International Mountain Society",
            "Stable URL: https://www.jstor.org/stable/10.2307/48635686",
            "REFERENCES",
            "Linked references are available on JSTOR for this article:",
            "You may need to log in to JSTOR to access the linked references.",
            "Your use of the JSTOR archive indicates your acceptance of the Terms & Conditions",
        ]
    )
    article = content(
        [
            "FAO's Work in Mountains: Building the Road to Recovery",
            "Introduction",
            "The assessment (doi:10.5555/assessment) found more hunger in mountains.",
            *[PROSE] * 3,
            "References",
            "MPS. 2021. Including Mountains in the CBD Framework. Rome: MPS.",
            "Romeo R, Grita F. 2020. Vulnerability of Mountain Peoples. Rome: FAO.",
            "Tribaldos T. 2021. Sustainable Food Systems in Mountains. Rome: MPS.",
            "UNCED. 1992. Agenda 21. New York: United Nations.",
        ]
    )
    doc = extract_document(write(tmp_path, "jstor.pdf", pdf([cover, article])))
    roles = {m.value: m.role for m in doc.mentions}
    assert roles == {"10.2307/48635686": "subject", "10.5555/assessment": "mention"}
    starts = [r.text.split(" ")[0] for r in doc.references]
    assert starts == ["MPS.", "Romeo", "Tribaldos", "UNCED."]


def test_a_doi_ending_a_line_before_an_acronym_ends_there(tmp_path):
    lines = [
        "References",
        "Romeo R. 2021. Mountain Farming Systems. Rome: FAO. https://doi.org/10.4060/cb5349en.",
        "UNCED [United Nations Conference on Environment and Development]. 1992. Agenda 21.",
    ]
    doc = extract_document(write(tmp_path, "acronym.pdf", pdf([content(lines)])))
    assert [m.value for m in doc.mentions] == ["10.4060/cb5349en"]


def test_a_page_number_run_into_a_linked_doi_is_not_part_of_it(tmp_path):
    # ASM's running foot "May 2024 Volume 9 Issue 5 10.1128/msphere.00109-24 10": PDFium reads
    # the two-digit page number without a space; the page's link names the DOI without it
    foot = "May 2024 Volume 9 Issue 5 10.1128/msphere.00109-2410"
    link = ("https://doi.org/10.1128/msphere.00109-24", (72, 650, 300, 662))
    linked = pdf([content(["Results", PROSE, foot])], links=[link])
    found = by_value(extract_document(write(tmp_path, "foot.pdf", linked)))
    assert set(found) == {"10.1128/msphere.00109-24"}
    assert found["10.1128/msphere.00109-24"].section != "link"  # the printed one, cut
    # without the page's link nothing says where the DOI ends: as printed
    alone = by_value(extract_document(write(tmp_path, "a.pdf", pdf([content(["R", foot])]))))
    assert set(alone) == {"10.1128/msphere.00109-2410"}


def test_a_heading_behind_an_ornament_is_a_heading(tmp_path):
    # ACS sets "■ REFERENCES" (here a bullet, which the test's font has): its list of "(1)"
    # entries is the reference list; the ornament stays in the extracted text
    lines = [
        "\xb7 INTRODUCTION",
        PROSE,
        "\xb7 REFERENCES",
        "(1) Parrinello, M.; Rahman, A. Polymorphic transitions. J. Appl. Phys. 1981, 52, 7182.",
        "(2) Andersen, H. C. Rattle. J. Comput. Phys. 1983, 52, 24-34. DOI: 10.5555/rattle",
    ]
    path = write(tmp_path, "acs.pdf", pdf([content(lines)]))
    doc = extract_document(path)
    assert [(r.label, r.section) for r in doc.references] == [
        ("1", "REFERENCES"),
        ("2", "REFERENCES"),
    ]
    assert [(m.value, m.role) for m in doc.mentions] == [("10.5555/rattle", "reference")]
    assert "\u2022 REFERENCES" in extracted_text(path)


def test_the_articles_doi_alone_in_the_head_of_a_page_after_a_summary_page_is_the_subject(
    tmp_path,
):
    # Cell Press: page 1 is the graphical abstract (its DOI line ends in the "ll" logo), the
    # article's head with its DOI alone on a line opens page 2, above "SUMMARY"
    page1 = content(
        [
            "Report",
            "A covalent inhibitor induces MHC class I presentation",
            "Highlights",
            "Covalent inhibitors give rise to chemically modified neoepitopes",
            "Authors",
            "Ziyang Zhang, Peter J. Rohweder, ..., Charles S. Craik",
            "Zhang et al., 2022, Cancer Cell 40, 1060-1069",
            "https://doi.org/10.1016/j.ccell.2022.07.005 ll",
        ]
    )
    page2 = content(
        [
            "Report",
            "A covalent inhibitor induces MHC class I presentation",
            "Ziyang Zhang, Peter J. Rohweder and Charles S. Craik",
            "https://doi.org/10.1016/j.ccell.2022.07.005",
            "SUMMARY",
            "The data (https://doi.org/10.5061/dryad.k6t1rj8) are deposited.",
            *[PROSE] * 3,
        ]
    )
    doc = extract_document(write(tmp_path, "cell.pdf", pdf([page1, page2])))
    roles = {m.value: m.role for m in doc.mentions}
    assert roles == {"10.1016/j.ccell.2022.07.005": "subject", "10.5061/dryad.k6t1rj8": "mention"}


def test_margin_line_numbers_are_cut_from_the_lines_they_number(tmp_path):
    # bioRxiv: PDFium reads each line's margin number first ("603 1. Ashby, M. F. ...");
    # headings, list markers and a DOI broken at a line end ("...s41477-020-" | "876 0712-8")
    # are read without them. The linked running head (the preprint's own DOI) is no entry's id.
    head = "bioRxiv preprint doi: https://doi.org/10.1101/2024.05.14.594155"
    link = ("https://doi.org/10.1101/2024.05.14.594155", (72, 716, 400, 728))
    body = [f"{n} {PROSE}" for n in range(1, 37)]
    refs = [
        "37 References",
        "38",
        "39 1. Ashby, M. F.; Gibson, L. J. The mechanical properties of natural materials.",
        "40 Proc. R. Soc. A 1995, 450, 141. https://doi.org/10.1038/s41477-020-",
        "41 0712-8.",
        "42 2. Yin, W.; Wang, Y. Biofilms: The Microbial Protective Clothing in Extreme",
        "43 Environments. Int J Mol Sci 2019, 20 (14), 3423.",
        "44 3. Nguyen, P. Q.; Joshi, N. S. Engineered Living Materials: Prospects and",
        "45 Challenges for Using Biological Systems to Direct the Assembly of Smart",
    ]
    more = [
        "46 Materials. Adv Mater 2018, 30 (19), e1704847.",
        "47 4. An, B.; Zhong, C. Engineered Living Materials For Sustainability. Chem. Rev.",
        "48 2023, 123 (5), 2349-2419.",
        *[f"{n} {k}. Roe, B. A further work. J. Biol. 2020, {n}, 1-2." for n, k in
          zip(range(49, 60), range(5, 16), strict=True)],
    ]  # fmt: skip
    pages = [
        content([head, "", *body[:18]]),
        content([head, "", *body[18:]]),
        content([head, "", *refs]),
        content([head, "", *more]),
    ]
    doc = extract_document(write(tmp_path, "biorxiv.pdf", pdf(pages, links=[link])))
    assert [r.label for r in doc.references] == [str(k) for k in range(1, 16)]
    assert doc.references[0].text.startswith("Ashby, M. F.; Gibson, L. J. The mechanical")
    assert [i.value for i in doc.references[0].ids] == ["10.1038/s41477-020-0712-8"]
    assert doc.references[2].text.endswith("Assembly of Smart Materials. Adv Mater 2018, 30 "
                                           "(19), e1704847.")  # fmt: skip
    assert all(not r.ids or r.ids[0].value != "10.1101/2024.05.14.594155" for r in doc.references)
    assert {m.role for m in doc.mentions if m.value.startswith("10.1101/")} == {"subject"}


def test_a_row_pdfium_splits_at_a_superscript_starts_where_the_row_does(tmp_path):
    # Dev Dyn 2000: "1992. ³H NMR assignment..." is read as "1992.3" and "H NMR ...", two
    # lines on one baseline; the next line is indented like the row's start, not outdented
    # from the second piece's
    lines = [
        (72, 740, "References"),
        (72, 720, "Aspberg A, Adam S. 1999. Fibulin-1 is a ligand for lectins."),
        (84, 708, "J Biol Chem 274:20444-20449."),
        (72, 696, "Baron M, Main AL, Driscoll PC, Mardon HJ, Boyd J, Campbell IA."),
        (84, 684, "1992."),
        (110, 690, "3", 6),
        (114, 684, "H NMR assignment of the cell"),
        (84, 672, "adhesion module of fibronectin. Biochemistry 31:2068-2073."),
        (72, 660, "Basbaum CB, Werb Z. 1996. Focalized proteolysis. Curr Opin"),
        (84, 648, "Cell Biol 8:731-738."),
    ]
    doc = extract_document(write(tmp_path, "row.pdf", pdf([placed(lines)])))
    assert [r.text.split(" ")[0] for r in doc.references] == ["Aspberg", "Baron", "Basbaum"]
    assert doc.references[1].text.endswith("fibronectin. Biochemistry 31:2068-2073.")


def test_highwires_closing_page_names_the_subject(tmp_path):
    # Cold Spring Harbor's RNA 2012: after the references, a page "Access the most recent
    # version at doi:..."; the first page printed the same DOI in a footnote
    page1 = content(
        [
            "Nuclear RNA decay pathways",
            "INTRODUCTION",
            "Article and publication date are at http://www.rnajournal.org/cgi/doi/",
            "10.1261/rna.034181.112.",
            *[PROSE] * 3,
            "REFERENCES",
            "Adams A. 2001. A first work. RNA 7: 1-2.",
            "Brown B. 2002. A second work. RNA 8: 3-4.",
        ]
    )
    page2 = content(["Access the most recent version at doi:10.1261/rna.034181.112"])
    doc = extract_document(write(tmp_path, "rna.pdf", pdf([page1, page2])))
    assert {m.role for m in doc.mentions} == {"subject"}
    assert [r.text.split(" ")[0] for r in doc.references] == ["Adams", "Brown"]


def test_a_repository_cover_and_an_author_manuscripts_header_name_the_subject(tmp_path):
    # eScholarship's cover page prints "DOI" over the bare DOI (below its "Authors" list);
    # a PMC author manuscript prints "Published in final edited form as:" over the citation
    cover = content(
        [
            "UC San Francisco Previously Published Works",
            "Title",
            "Synthetic cytokine circuits that drive T cells into immune-excluded tumors",
            "Authors",
            "Allen, Greg M",
            "DOI",
            "10.1126/science.aba1624",
            "Peer reviewed",
        ]
    )
    manuscript = content(
        [
            "HHS Public Access",
            "Author manuscript",
            "Published in final edited form as:",
            "Science. 2022 December 16; 378(6625): eaba1624. doi:10.5555/science.final.",
            "",
            "Materials and Methods",
            PROSE,
        ]
    )
    doc = extract_document(write(tmp_path, "am.pdf", pdf([cover, manuscript])))
    assert {(m.value, m.role) for m in doc.mentions} == {
        ("10.1126/science.aba1624", "subject"),
        ("10.5555/science.final", "subject"),
    }


def test_a_doi_alone_under_the_articles_history_dates_is_the_subject(tmp_path):
    # Science's last page: "Submitted ...", "Accepted 9 May 2022", then the DOI alone; the
    # supplement's "science.org/doi/10.1126/..." line before is the article's too
    page = content(
        [
            "Introduction",
            PROSE,
            "SUPPLEMENTARY MATERIALS",
            "science.org/doi/10.1126/science.abb3634",
            "Submitted 14 March 2020; resubmitted 1 February 2022",
            "Accepted 9 May 2022",
            "10.1126/science.abb3634",
            "A dataset is at doi:10.5061/dryad.k6t1rj8 and",
        ]
    )
    doc = extract_document(write(tmp_path, "science.pdf", pdf([page])))
    roles = {(m.value, m.role) for m in doc.mentions}
    assert roles == {
        ("10.1126/science.abb3634", "subject"),
        ("10.5061/dryad.k6t1rj8", "mention"),
    }


def test_crossmarks_link_names_the_subject(tmp_path):
    # Crossmark's "Check for updates" button links the article's own DOI (PNAS 2004 prints
    # its DOI without slashes: the button is all that names it); the page's other links keep
    # their role, and the reference list goes on over the page's link targets
    page1 = content(
        [
            "Introduction",
            PROSE,
            "References",
            "1. Smith J. A first title. J Biol 2001;1:2.",
            "2. Doe A. A second title that goes on",
        ]
    )
    page2 = content(["to the next page. J Chem 2002;3:4.", "3. Roe B. A third title. 2003."])
    links = [
        ("http://crossmark.crossref.org/dialog/?doi=10.1073%2Fpnas.0403760101&domain=pdf",
         (500, 760, 560, 780)),
        ("https://doi.org/10.5555/first", (72, 678, 300, 690)),
    ]  # fmt: skip
    doc = extract_document(write(tmp_path, "cm.pdf", pdf([page1, page2], links=links)))
    roles = {(m.value, m.role) for m in doc.mentions}
    assert ("10.1073/pnas.0403760101", "subject") in roles
    assert ("10.1073/pnas.0403760101", "mention") not in roles
    assert ("10.5555/first", "reference") in roles
    assert {m.section for m in doc.mentions} == {"link"}
    assert [r.label for r in doc.references] == ["1", "2", "3"]
    assert doc.references[1].text.endswith("goes on to the next page. J Chem 2002;3:4.")
    assert [[i.value for i in r.ids] for r in doc.references] == [["10.5555/first"], [], []]


def _hanging(entries: list[list[str]], top: float = 720) -> list[tuple]:
    """Author-year entries set with a hanging indent, from ``top`` down."""
    lines, y = [], top
    for entry in entries:
        for k, text in enumerate(entry):
            lines.append((72 if k == 0 else 90, y, text))
            y -= 14
    return lines


_DATED = [
    ["Aravin AA, Hannon GJ & Bortvin A (2009) Cytoplasmic compartmentalization", "of the fetal piRNA pathway in mice. PLOS Genet 5: e1000764"],
    ["Ding D, Liu J & Chen C (2017) PNLDC1 is essential for piRNA 3' end trimming.", "Nat Commun 8: 819"],
    ["Izumi N, Shoji K & Tomari Y (2020) Zucchini consensus motifs determine the", "mechanism of pre-piRNA production. Nature 578: 311-316"],
    ["Kirino Y & Mourelatos Z (2007) The mouse homolog of HEN1 is a potential", "methylase for Piwi-interacting RNAs. RNA 13: 1397-1401"],
]  # fmt: skip


def test_the_figure_pages_after_a_reference_list_are_no_entries(tmp_path):
    # bioRxiv: the figures (caption, panel letters, labels) come after the reference list with
    # no heading between them: the list ends where the first page opens with a caption
    refs = [(72, 720, "References"), *_hanging(_DATED[:2], 700)]
    more = _hanging(_DATED[2:])
    figure = [
        (72, 720, "Figure 1. Spn-E forms aggregates with BmAgo3."),
        *[
            (100 + 60 * (k % 4), 650 - 20 * (k // 4), label)
            for k, label in enumerate(
                ["A", "B", "FLAG (Spn-E-WT)", "Siwi", "99.5%", "Rluc", "HC", "LC"]
            )
        ],
    ]
    second = [(72, 720, "Fig. 2. Depletion of Spn-E."), (100, 650, "C"), (160, 650, "Input")]
    pages = [content(["Introduction", *[PROSE] * 10]), placed(refs), placed(more),
             placed(figure), placed(second)]  # fmt: skip
    doc = extract_document(write(tmp_path, "figures.pdf", pdf(pages)))
    assert [r.text.split(" ")[0] for r in doc.references] == ["Aravin", "Ding", "Izumi", "Kirino"]
    assert doc.references[-1].text.endswith("RNA 13: 1397-1401")


def test_a_caption_on_a_page_of_references_does_not_end_the_list(tmp_path):
    # a table floated onto a page the reference list goes on over: its references are dated
    refs = [(72, 720, "References"), *_hanging(_DATED[:2], 700)]
    more = [(72, 720, "Table 2. Strains used."), *_hanging(_DATED[2:], 690)]
    pages = [content(["Introduction", *[PROSE] * 10]), placed(refs), placed(more)]
    doc = extract_document(write(tmp_path, "table.pdf", pdf(pages)))
    assert [r.text.split(" ")[0] for r in doc.references][-2:] == ["Izumi", "Kirino"]
