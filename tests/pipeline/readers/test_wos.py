"""Web of Science tagged exports: each record an entry with its own ids; cited works apart."""

from __future__ import annotations

from pipeline.extract import extract_document
from pipeline.readers.sniff import detect_kind
from tests.pipeline.readers.conftest import DOCS


def _groups(doc) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for m in doc.mentions:
        out.setdefault(m.group, []).append(m.value)
    return out


def test_a_web_of_science_export_is_known_by_its_header_whatever_its_name():
    assert detect_kind("x.txt", "\ufeffFN Clarivate Analytics Web of Science\nVR 1.0\n") == "wos"
    assert detect_kind("x.isi", "FN ISI Export Format\r\nVR 1.0\r\n") == "wos"
    assert detect_kind("x.txt", "FN is a tag of some other format\nVR 1.0\n") == "text"


def test_a_record_is_one_entry_whose_ids_are_its_doi_and_pmid_not_the_works_it_cites():
    doc = extract_document(str(DOCS / "wos-metaknowledge-onepaper.txt"))
    (entry,) = doc.references
    assert [(i.scheme, i.value) for i in entry.ids] == [
        ("doi", "10.1111/tops.12013"),
        ("pmid", "23460466"),
    ]
    assert entry.line == 3 and entry.text.startswith(
        "Marghetis T, Nunez R (2013). The Motion Behind the Symbols: A Vital Role for Dynamism"
    )
    groups = _groups(doc)
    assert ["10.1111/tops.12013", "23460466"] in groups.values()
    cited = [g for g in groups.values() if g != ["10.1111/tops.12013", "23460466"]]
    assert len(cited) == 19 and all(len(g) == 1 for g in cited)  # one work a CR line
    assert ["10.1111/1467-9280.00163"] in cited
    pm = next(m for m in doc.mentions if m.value == "23460466")  # "PM 23460466": no label
    text = (DOCS / "wos-metaknowledge-onepaper.txt").read_text(encoding="utf-8-sig")
    assert (pm.line, text[pm.start : pm.end]) == (86, "23460466")


def test_records_taken_from_medline_give_their_pmid_and_each_author():
    doc = extract_document(str(DOCS / "isi-jabref-medline.isi"))
    assert list(_groups(doc).values()) == [["16842170"], ["16735938"]]
    assert [[i.value for i in r.ids] for r in doc.references] == [["16842170"], ["16735938"]]
    assert doc.references[1].text.startswith("Joffe H, Hall JE, Gruber S, Sarmiento IA")
