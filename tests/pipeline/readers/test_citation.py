"""citation.render: a record's fields as one citation line."""

from __future__ import annotations

import pytest

from pipeline.readers.citation import render


def test_fields_are_joined_by_full_stops():
    assert (
        render(
            ["Woodson, Sarah A."],
            "Metal ions and RNA folding",
            "Curr Opin Chem Biol",
            "2005",
            "9",
            "104--109",
        )
        == "Woodson SA (2005). Metal ions and RNA folding. Curr Opin Chem Biol 9: 104-109."
    )


@pytest.mark.parametrize(
    ("title", "container", "expected"),
    [
        ("A title", "J. Chem. Phys.", "Doe J (2001). A title. J. Chem. Phys."),
        ("Is it real?", "Nature", "Doe J (2001). Is it real? Nature."),
        ("Stop!", "Proc. Natl. Acad. Sci.", "Doe J (2001). Stop! Proc. Natl. Acad. Sci."),
        ("Why?", None, "Doe J (2001). Why?"),
        ("A title.", "J. Chem. Phys. ", "Doe J (2001). A title. J. Chem. Phys."),
    ],
)
def test_a_part_ending_in_a_stop_gets_no_second_full_stop(title, container, expected):
    assert render(["Doe, John"], title, container, "2001") == expected


def test_an_author_ending_in_a_full_stop_gets_no_second_one():
    assert render(["Anon."], "A title") == "Anon. A title."


def test_no_fields_give_no_text():
    assert render([], None) == ""
