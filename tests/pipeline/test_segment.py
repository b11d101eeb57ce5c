"""pipeline.segment: the reference-section text cut into entries (the first, simple rule)."""

from __future__ import annotations

from pipeline.segment import entry_text, split_entries


def _entries(text: str) -> list[str]:
    return [text[s:e] for s, e in split_entries(text)]


def test_numbered_entries_wrapped_over_lines_are_one_each():
    text = "1. Smith J. A study of\n   things. Nature. 2001.\n2. Doe A. Another. 1999.\n"
    assert _entries(text) == [
        "1. Smith J. A study of\n   things. Nature. 2001.",
        "2. Doe A. Another. 1999.",
    ]


def test_blank_lines_cut_unnumbered_entries():
    text = "Smith J (2001) A study\nof things.\n\nDoe A (1999) Another.\n"
    assert _entries(text) == ["Smith J (2001) A study\nof things.", "Doe A (1999) Another."]


def test_one_entry_a_line_without_numbers_or_blank_lines():
    assert _entries("Smith J. One.\nDoe A. Two.\n") == ["Smith J. One.", "Doe A. Two."]


def test_entry_text_collapses_whitespace_and_takes_the_number():
    assert entry_text("[12]  Smith J.\n  A study.") == ("Smith J. A study.", "12")
    assert entry_text("Smith J. A study.") == ("Smith J. A study.", None)
