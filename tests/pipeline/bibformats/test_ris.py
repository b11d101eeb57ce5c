"""RIS export, read back by rispy (the parser Python tools use for Zotero/EndNote RIS), and
compared with real RIS files for tags and line shape."""

from __future__ import annotations

import io
import re
from pathlib import Path

import rispy

from pipeline.bibformats import BibWork, write_ris

from .conftest import SICI

FIXTURES = Path(__file__).parents[2] / "fixtures" / "export"


def ris(*works: BibWork) -> str:
    out = io.StringIO()
    assert write_ris(works, out) == len(works)
    return out.getvalue()


def test_rispy_reads_every_record_back(article, bare):
    records = rispy.loads(ris(article, bare, article))
    assert len(records) == 3
    first = records[0]
    assert first["type_of_reference"] == "JOUR"
    assert first["authors"] == ["Møller, Søren", "Jiménez-Núñez, José Ángel",
                                "van Beethoven, Ludwig", "CAR T Cell Consortium"]  # fmt: skip
    assert (first["doi"], first["accession_number"], first["custom2"]) == (
        SICI, "33434063", "PMC9293158",
    )  # fmt: skip
    assert (first["start_page"], first["end_page"], first["date"]) == ("1437", "1452", "2021/03/04")
    assert first["secondary_title"] == "Journal of Clinical Oncology"


def test_every_value_is_one_line_of_plain_text(article):
    text = ris(article)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in text.splitlines() if line)
    assert "TI  - Dasatinib & BCR::ABL1: 100%" in text
    assert "AB  - BACKGROUND: line one line two with 2 & 5%." in text


def test_records_look_like_real_ris_files(article):
    # the same line shape as real exports: 'TY  - ' first, 'ER  - ' last, UTF-8 text
    real = (FIXTURES / "rispy_example_full.ris").read_text().splitlines()
    real_tags = {line[:2] for line in real if re.match(r"[A-Z][A-Z0-9]  - ", line)}
    lines = ris(article).splitlines()
    assert lines[0] == "TY  - JOUR" and lines[-1].rstrip() == "ER  -"
    assert {"TY", "VL", "IS", "SP", "PB", "SN", "UR", "ER"} <= real_tags
    assert {line[:2] for line in lines} - real_tags <= {
        "AU", "TI", "T2", "PY", "DA", "EP", "DO", "AN", "C2", "AB", "LA",
    }  # fmt: skip


def test_a_real_utf8_ris_file_and_ours_read_the_same_way(article):
    real = rispy.loads((FIXTURES / "rispy_example_utf_chars.ris").read_text(encoding="utf-8-sig"))
    assert real[0]["authors"][0] == "Dobrokhotova, Yu E."
    assert rispy.loads(ris(article))[0]["authors"][0] == "Møller, Søren"
