"""pipeline.terminal.printable: what a terminal would obey is shown, not obeyed."""

from __future__ import annotations

import pytest

from pipeline.terminal import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("two\nlines", "two\\nlines"),
        ("tab\there\r", "tab\\there\\r"),
        ("\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07"),  # clear screen, retitle
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("gnp.\u202etxt", "gnp.\\u202etxt"),  # right-to-left override
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
    ],
)
def test_controls_separators_and_bidi_overrides_are_shown_escaped(text, shown):
    assert printable(text) == shown


@pytest.mark.parametrize(
    "text", ["seeds/002_3ea597cfb241f368.txt", "Müller–Lyon (été) 日本語 😀", "C:\\x", ""]
)
def test_ordinary_text_is_left_alone(text):
    assert printable(text) == text


def test_a_file_name_byte_that_was_not_utf8_is_shown_as_that_byte():
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")
    assert printable(name) == "caf\\xe9.txt"
    printable(name).encode("utf-8")  # and it can be printed


def test_anything_is_made_text_first():
    assert printable(Exception("bad\nthing")) == "bad\\nthing"
