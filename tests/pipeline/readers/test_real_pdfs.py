"""Real PDFs of many publishers and typesetters, read as a careful reader reads them.

Each test states what a reader of the printed page sees (the article's own ids, its references,
what is no identifier) and checks the extractor sees the same. Origins: tests/fixtures/README.
Line breaks inside DOIs come in two kinds on these real pages:

- a DOI cut after its prefix slash, after a dot, or inside a ``https://doi.`` URL: joined;
- a line-end hyphen: kept when it is the DOI's own (``10.1046/j.1523-`` + ``5378.1999...``,
  ``10.1007/s10142-`` + ``011-0231-6``, PDFium's hyphenation mark in ``AID-`` + ``GPS262>``),
  while prose PDFium marked as hyphenated is dehyphenated (``selec-`` + ``tion``).
"""

from __future__ import annotations

import pytest

from pipeline.extract import extract_document
from pipeline.readers import extracted_text
from tests.pipeline.readers.conftest import DOCS


def _doc(name: str):
    doc = extract_document(str(DOCS / name))
    assert doc.problems == ()
    return doc


def _values(doc, role: str | None = None, section: str | None = ...) -> set[str]:
    return {
        m.value
        for m in doc.mentions
        if (role is None or m.role == role) and (section is ... or m.section == section)
    }


def _entry(doc, start: str):
    (found,) = [r for r in doc.references if r.text.startswith(start)]
    return found


# --------------------------------------------------------------------------------------------
# DOIs broken across lines, real pages
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "doi"),
    [
        # after the prefix slash (Cambridge; PLOS "https://doi.org/10.1104/" + "pp.113...")
        ("cambridge-ipg-s1041610213001804.pdf", "10.3109/00207459809003338"),
        ("cambridge-ipg-s1041610213001804.pdf", "10.1037//1089-2680.5.4.323"),
        ("cambridge-ipg-s1041610213001804.pdf", "10.1017/s0033291796004424"),
        ("plos-one-0197919-p1-18-21.pdf", "10.1104/pp.113.217851"),
        # after a dot inside the suffix ("10.1016/j." + "psychres...", "10.1097/JGP." + "0b01...")
        ("cambridge-ipg-s1041610213001804.pdf", "10.1016/j.bandc.2007.02.007"),
        ("cambridge-ipg-s1041610213001804.pdf", "10.1097/jgp.0b013e3182011b38"),
        ("bmj-pgmj-2009-089987.pdf", "10.1053/j.gastro.2008.07.030"),
        # inside the resolver URL ("https://doi." + "org/10.1007/s00726-...")
        ("plos-one-0197919-p1-18-21.pdf", "10.1007/s00726-005-0247-0"),
        # an old Elsevier DOI cut before its "(yy)" ("10.1016/0022-3956" + "(75)90026-6.")
        ("cambridge-ipg-s1041610213001804.pdf", "10.1016/0022-3956(75)90026-6"),
        # before a hyphen, where the page's link covers the first line only (JACoW)
        ("jacow-ipac2018-wepml008.pdf", "10.18429/jacow-hp071-wepty035"),
        # after the prefix slash, on the line after one PDFium joined at a hyphen ("meta-" +
        # "analyses"): no paragraph break between them cuts the DOI (BMJ)
        ("bmj-pgmj-2009-089987.pdf", "10.1136/bmj.327.7414.557"),
        # right after "10." ("https://doi.org/10." + "1104/pp.15.01164", PLOS ref 17)
        ("plos-one-0197919-p1-18-21.pdf", "10.1104/pp.15.01164"),
    ],
)
def test_a_doi_broken_across_lines_on_a_real_page_is_joined(name, doi):
    doc = _doc(name)
    (m,) = [m for m in doc.mentions if m.value == doi and m.section != "link"]
    assert m.role == "reference"
    printed = extracted_text(str(DOCS / name))[m.start - 16 : m.end]  # with its resolver
    assert "\n" in printed  # it was printed across a line break


@pytest.mark.parametrize(
    ("name", "doi", "truncated"),
    [
        ("bmj-pgmj-2009-089987.pdf", "10.1046/j.1523-5378.1999.98066.x", "10.1046/j.15235378"),
        ("plos-one-0197919-p1-18-21.pdf", "10.1007/s10142-011-0231-6", "10.1007/s10142011"),
    ],
)
def test_a_line_end_hyphen_that_is_the_dois_own_is_kept(name, doi, truncated):
    found = _values(_doc(name), "reference")
    assert doi in found
    assert not any(v.startswith(truncated) for v in found)


def test_pdfiums_hyphenation_mark_inside_a_sici_doi_is_kept():
    doc = _doc("cambridge-ipg-s1041610213001804.pdf")
    sici = "10.1002/(sici)1099-1166(199601)11:1<15::aid-gps262>3.0.co;2-5"
    assert sici in _values(doc, "reference")  # printed "AID-" | "GPS262>", marked U+FFFE


def test_prose_pdfium_marked_as_hyphenated_is_dehyphenated_in_entries():
    doc = _doc("peerj-cs-118-p1-13-16.pdf")
    entry = _entry(doc, "Yang Z, Dos Reis M. 2011.")
    assert "test of positive selection. Molecular Biology" in entry.text  # printed "selec-tion"
    assert [i.value for i in entry.ids] == ["10.1093/molbev/msq303"]


def test_a_doi_the_page_links_as_printed_ends_at_its_line():
    plos = _values(_doc("plos-one-0197919-p1-18-21.pdf"))
    assert "10.1038/nprot.2011.319" in plos  # then "PMID: 21637195" on the next line
    assert not any(v.startswith("10.1038/nprot.2011.319p") for v in plos)
    peerj = _values(_doc("peerj-cs-118-p1-13-16.pdf"))
    assert not any(v.startswith("10.7717/peerj-cs.118c") for v in peerj)  # "Copyright" below


# --------------------------------------------------------------------------------------------
# The article's own ids: the subject
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "doi"),
    [
        ("cambridge-ipg-s1041610213001804.pdf", "10.1017/s1041610213001804"),  # head of page 1
        ("bmj-pgmj-2009-089987.pdf", "10.1136/pgmj.2009.089987"),  # head, and every footer
        ("hindawi-rrp-157939.pdf", "10.1155/2010/157939"),  # "doi:" line in the head
        ("peerj-cs-118-p1-13-16.pdf", "10.7717/peerj-cs.118"),  # "How to cite this article"
        ("bmc-hsr-14-1.pdf", "10.1186/1472-6963-14-1"),  # BMC's closing "Cite this article as"
        ("jacow-ipac2018-wepml008.pdf", "10.18429/jacow-ipac2018-wepml008"),  # page tops
        ("plos-one-0197919-p1-18-21.pdf", "10.1371/journal.pone.0197919"),
    ],
)
def test_the_articles_own_doi_is_the_subject_and_one_work(name, doi):
    doc = _doc(name)
    own = [m for m in doc.mentions if m.value == doi]
    assert own and {m.role for m in own} == {"subject"}
    assert len({m.group for m in own}) == 1
    assert {m.group for m in doc.mentions if m.role == "subject"} == {own[0].group}


def test_a_component_doi_joins_the_subject():
    doc = _doc("plos-one-0197919-p1-18-21.pdf")
    (supplement,) = [m for m in doc.mentions if m.value.endswith("0197919.s001")]
    (article,) = {m.group for m in doc.mentions if m.value == "10.1371/journal.pone.0197919"}
    assert (supplement.role, supplement.group) == ("subject", article)


def test_a_running_head_printed_at_the_top_is_furniture_though_read_last():
    # PDFium reads JACoW's page head (the proceedings, the ISBN and the DOI) after the page
    doc = _doc("jacow-ipac2018-wepml008.pdf")
    subject = [m for m in doc.mentions if m.role == "subject"]
    assert [m.value for m in subject] == ["10.18429/jacow-ipac2018-wepml008"] * 3  # 3 pages
    assert not any("978" in m.value or "95450" in m.value for m in doc.mentions)  # the ISBN


# --------------------------------------------------------------------------------------------
# Reference lists: one entry per printed reference, nothing else
# --------------------------------------------------------------------------------------------


def test_a_hanging_indent_author_year_list_is_one_entry_per_reference():
    doc = _doc("cambridge-ipg-s1041610213001804.pdf")
    assert len(doc.references) == 26
    folstein = _entry(doc, "Folstein, M. F.")  # the author list fills the first line
    assert "(1975). Mini-mental state" in folstein.text
    assert [i.value for i in folstein.ids] == ["10.1016/0022-3956(75)90026-6"]
    assert "Van Mechelen, W. (1999)" in _entry(doc, "Twisk, J. W. R.").text
    nilsson = _entry(doc, "Nilsson, L-G., Adolfsson")  # first on a page after a running head
    assert nilsson.text.endswith("doi:10.1080/13825580490511026.")
    refs = [m for m in doc.mentions if m.role == "reference"]
    assert len(refs) == 22 and {m.section for m in refs} == {"References"}


def test_lines_pdfium_joined_at_a_hyphen_do_not_break_their_entry():
    # PDFium gives "...POTION: an end-" + "to-end pipeline ..." as one line; the next printed
    # line is one line below the joined line's last, not a wider gap (PeerJ, PLOS)
    hongo = _entry(_doc("peerj-cs-118-p1-13-16.pdf"), "Hongo JA, De Castro GM")
    assert [i.value for i in hongo.ids] == ["10.1186/s12864-015-1765-0"]
    shao = _entry(_doc("plos-one-0197919-p1-18-21.pdf"), "Hong-Bo S, Xiao-Yan C")
    assert {i.value for i in shao.ids} == {"10.1016/j.colsurfb.2006.08.008", "16979325"}
    yang = _entry(_doc("peerj-cs-118-p1-13-16.pdf"), "Yang Z, Dos Reis M.")  # joined, then
    assert "Yates A" not in yang.text  # the next entry: outdented below the joined line's last


def test_an_acl_author_year_list_is_one_entry_per_reference():
    # ACL's style: full names, then "2020." starting the wrapped line; consecutive years at line
    # starts are no numbered list (EACL 2023, pages 10-11)
    doc = _doc("acl-eacl-2023-121-p10-11.pdf")
    assert not any(r.text[:4].isdigit() and r.text[4] == "." for r in doc.references)
    gao = _entry(doc, "Asli Celikyilmaz, Elizabeth Clark, and Jianfeng Gao. 2020. Evaluation")
    assert [i.value for i in gao.ids] == ["2006.14799"]
    bhandari = _entry(doc, "Manik Bhandari")  # its first two printed lines joined by PDFium
    assert "summarization. In Proceedings of the 2020 Conference" in bhandari.text
    starts = [r.text.split(",")[0] for r in doc.references]
    assert len(doc.references) == 20 and starts[:3] == [
        "Nader Akoury",
        "Manik Bhandari",
        "Ondˇrej Bojar",
    ]


def test_an_entry_continued_at_a_columns_top_goes_on_with_the_entry_before():
    # EACL 2023 p. 10: DeYoung et al. ends the left column at "pages 7494–"; the right column
    # opens with "7513, Online and Punta Cana, Dominican Republic." and "Association for ...",
    # both indented like the continuation lines they are (the next entry starts further left)
    doc = _doc("acl-eacl-2023-121-p10-11.pdf")
    deyoung = _entry(doc, "Jay DeYoung")
    assert "pages 7494– 7513, Online and Punta Cana" in deyoung.text
    assert not any(r.text.startswith("7513") for r in doc.references)


def test_a_joined_line_whose_last_line_mixes_fonts_does_not_end_its_entry():
    # NAACL 2018 p. 8: PDFium joins "...Lijun Hou. 2013. Clin-" and "ical review: Efficacy of
    # antimicrobial-impregnated" (title words in another font); the next printed line
    # "catheters in external ventricular drainage..." is indented like that last line
    doc = _doc("acl-n18-3011-p8.pdf")
    wang = _entry(doc, "Xiang Wang, Yan Dong")
    assert wang.text.endswith("catheters in external ventricular drainage - a systematic "
                              "review and meta-analysis. In Critical care.")  # fmt: skip
    assert not any(r.text.startswith("catheters") for r in doc.references)
    assert len(doc.references) == 27


def test_an_acl_entrys_doi_linked_from_its_title_is_its_id():
    # ACL prints no DOI: the title links it (EACL 2023, pages 10-11); a title over two lines,
    # even two columns, is one entry's; the anthology URL and Europe PMC links are no ids
    doc = _doc("acl-eacl-2023-121-p10-11.pdf")
    ids = {r.text.split(",")[0]: [i.value for i in r.ids] for r in doc.references}
    assert ids["Nader Akoury"] == ["10.18653/v1/2020.emnlp-main.525"]  # "STO-" + "RIUM: A..."
    assert ids["Mingda Chen"] == ["10.18653/v1/2022.acl-long.589"]
    multi_news = _entry(doc, "Alexander Fabbri, Irene Li")  # the next entry is his QAFactEval
    assert [i.value for i in multi_news.ids] == ["10.18653/v1/p19-1102"]
    qafacteval = _entry(doc, "Alexander Fabbri, Chien-Sheng Wu")
    assert [i.value for i in qafacteval.ids] == ["10.18653/v1/2022.naacl-main.187"]
    acl = [[i for i in r.ids if i.value.startswith("10.18653/")] for r in doc.references]
    assert sum(1 for found in acl if found) == 12 and max(len(found) for found in acl) == 1
    assert sum(1 for r in doc.references if r.ids) == 15  # 3 printed an arXiv id


def test_numbered_entries_gain_the_ids_only_their_links_name():
    # JCAP's "[SPIRES]" and journal references link DOIs; reference [2] prints three works
    doc = _doc("jcap-0807.3577.pdf")
    ehlers = _entry(doc, "Ehlers J, Geren P and Sachs R K")
    assert [i.value for i in ehlers.ids] == ["10.1063/1.1664720"]
    hinshaw = _entry(doc, "Hinshaw G et al")
    assert {i.value for i in hinshaw.ids} >= {"0803.0732", "10.1103/physrevd.74.123507"}


def test_a_tables_reference_column_is_no_reference_heading():
    doc = _doc("bmj-pgmj-2009-089987.pdf")
    assert [r.label for r in doc.references] == [str(n) for n in range(1, 41)]
    assert not any("Year of publication" in r.text for r in doc.references)
    pmids = {i.value for r in doc.references for i in r.ids if i.scheme == "pmid"}
    assert {"17693180", "7823387", "10382128"} <= pmids  # "(PMID: 17693180)", "(PMid:7823387)"


def test_link_targets_and_page_furniture_inside_a_list_are_no_entries():
    doc = _doc("plos-one-0197919-p1-18-21.pdf")
    assert [r.label for r in doc.references] == [str(n) for n in range(1, 60)]
    assert not any(r.text.startswith("http") for r in doc.references)
    assert not any("PLOS ONE |" in r.text for r in doc.references)  # the page footer
    entry = _entry(doc, "Krugman T, Peleg Z.")
    assert {i.value for i in entry.ids} == {"10.1007/s10142-011-0231-6", "21656015"}


def test_an_appendix_and_an_author_list_end_the_reference_list():
    acm = _doc("acm-data-placement.pdf")
    assert acm.references and not any(
        "SLIDING-WINDOW" in r.text or "NP-HARDNESS" in r.text for r in acm.references
    )
    atlas = _doc("atlas-cms-1503.07589-p13-17.pdf")  # pages 13 and 17: refs, then authors
    assert [r.label for r in atlas.references] == [str(n) for n in range(1, 16)]
    assert not any("Aad" in r.text for r in atlas.references)


@pytest.mark.parametrize(
    ("name", "first", "count"),
    [
        ("ieee-tcsvt-1997-disk-storage.pdf", "E. Chang and A. Zakhor", 17),
        ("hindawi-rrp-157939.pdf", "E. Braunwald", 17),
        ("bmc-hsr-14-1.pdf", "Ovretveit J, Serouri A", 31),
    ],
)
def test_numbered_lists_of_other_publishers(name, first, count):
    doc = _doc(name)
    assert [r.label for r in doc.references] == [str(n) for n in range(1, count + 1)]
    assert doc.references[0].text.startswith(first)


def test_decoys_on_real_pages_stay_out():
    # IEEE 1997: "VOL. 7, NO. 5", "S 1051-8215(97)05883-7" (a PII) and "1051–8215/97$10.00"
    # (an ISSN and a price) print no identifier; its references print none either
    assert _doc("ieee-tcsvt-1997-disk-storage.pdf").mentions == ()
