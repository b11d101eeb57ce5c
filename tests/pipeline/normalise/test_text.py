"""Shared normaliser helpers (pipeline/normalise/text.py)."""

from __future__ import annotations

import re

import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import given
from hypothesis import strategies as st

from pipeline.normalise.text import (
    as_int,
    clean,
    earliest_date,
    element_text,
    iso_date,
    jats_to_text,
    missing,
    month_number,
    norm_doi,
    norm_issn,
    norm_orcid,
    norm_pmcid,
    norm_pmid,
    norm_ror,
    openalex_key,
    parse_iso_date,
    parse_medline_date,
    rebuild_inverted_abstract,
    strip_inline_markup,
)
from pipeline.records import Identifier

# --- text -----------------------------------------------------------------------------------


def test_clean_collapses_whitespace_and_blank_is_none():
    assert clean("  a \n\t b  ") == "a b"
    assert clean(" \n ") is None and clean(None) is None


@given(st.text(alphabet=st.sampled_from("ab \t\n\r\x0b\x0c\x1f\x85\xa0\u2003\u2028\u3000é")))
def test_clean_fast_path_gives_what_the_regex_gives(text):
    expected = re.sub(r"\s+", " ", text).strip() or None
    assert clean(text) == expected


def test_clean_collapses_unicode_spaces_and_double_spaces():
    assert clean("a\u00a0\u2003b") == "a b" and clean("a  b ") == "a b"


def test_strip_inline_markup_removes_known_tags_but_keeps_comparisons():
    assert (
        strip_inline_markup("Growth of <i>E. coli</i> at p &lt; 0.05")
        == "Growth of E. coli at p < 0.05"
    )
    assert strip_inline_markup("x < 3 and y > 2") == "x < 3 and y > 2"
    assert strip_inline_markup("H<sub>2</sub>O <scp>dna</scp>") == "H2O dna"


def test_element_text_joins_all_descendant_text():
    element = fromstring("<T>Role of <i>TP53</i> in H<sub>2</sub>O <math><mi>x</mi></math> end</T>")
    assert element_text(element) == "Role of TP53 in H2O x end"


@pytest.mark.parametrize(
    ("jats", "expected"),
    [
        ("<jats:p>One.</jats:p><jats:p>Two.</jats:p>", "One.\n\nTwo."),
        ("<jats:title>Abstract</jats:title><jats:p>Only text.</jats:p>", "Only text."),
        (
            "<jats:sec><jats:title>Aims</jats:title><jats:p>To <jats:italic>see</jats:italic>.</jats:p></jats:sec>",
            "Aims: To see.",
        ),
        ("Plain text abstract with no markup.", "Plain text abstract with no markup."),
        (
            "<jats:p>With&nbsp;an HTML entity</jats:p><jats:p>next",
            "With an HTML entity\n\nnext",
        ),
        ("<p>HTML-ish <b>bold</b> abstract</p>", "HTML-ish bold abstract"),
        (
            '<jats:p>Math <mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mi>x</mml:mi></mml:math>.</jats:p>',
            "Math x.",
        ),
        ("", None),
        (None, None),
    ],
)
def test_jats_to_text(jats, expected):
    assert jats_to_text(jats) == expected


def test_jats_with_entity_declarations_is_stripped_not_expanded():
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><jats:p>&b;</jats:p>'
    text = jats_to_text(bomb)
    assert text is None or "aaaaaaaaaa" not in text


def test_rebuild_inverted_abstract_orders_words_by_position():
    index = {"world": [1, 3], "Hello": [0], "again": [2], "bad": ["x", -1, True]}
    assert rebuild_inverted_abstract(index) == "Hello world again world"
    assert rebuild_inverted_abstract(None) is None and rebuild_inverted_abstract({}) is None


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jun", 6),
        ("june", 6),
        ("06", 6),
        ("6", 6),
        (12, 12),
        ("13", None),
        ("Spring", None),
        (None, None),
        (True, None),
    ],
)
def test_month_number(value, expected):
    assert month_number(value) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((2023,), (2023, "2023")),
        ((2023, 6), (2023, "2023-06")),
        ((2023, "Jun", "05"), (2023, "2023-06-05")),
        ((2024, 2, 29), (2024, "2024-02-29")),
        ((2023, 2, 29), (2023, "2023-02")),
        ((2023, 13, 1), (2023, "2023")),
        ((99,), (None, None)),
        ((None, 5), (None, None)),
        (("abcd",), (None, None)),
    ],
)
def test_iso_date_is_only_as_precise_as_its_valid_parts(parts, expected):
    assert iso_date(*parts) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023 Jun-Jul", (2023, "2023")),
        ("1998 Dec-1999 Jan", (1998, "1998")),
        ("2023 Jun 15-21", (2023, "2023-06")),
        ("2023 Jun", (2023, "2023-06")),
        ("2023 Jun 5", (2023, "2023-06-05")),
        ("2000 Spring", (2000, "2000")),
        ("1998-1999", (1998, "1998")),
        ("Winter 2019", (2019, "2019")),
        ("undated", (None, None)),
        (None, (None, None)),
    ],
)
def test_parse_medline_date(text, expected):
    assert parse_medline_date(text) == expected


def test_parse_iso_date_reads_timestamps_and_rejects_junk():
    assert parse_iso_date("2026-10-02T07:14:35.781201") == (2026, "2026-10-02")
    assert parse_iso_date("02/10/2026") == (None, None)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (("2024-02", "2023-11-27"), "2023-11-27"),
        (("2023-06", "2023-07-01"), "2023-06"),
        (("2023", "2023-05-20"), "2023-05-20"),
        (("2023-05-20", "2023"), "2023-05-20"),
        ((None, "2020"), "2020"),
        ((None, None), None),
    ],
)
def test_earliest_date_prefers_the_earlier_and_the_more_precise_inside_it(dates, expected):
    assert earliest_date(*dates) == expected


def test_as_int_accepts_ints_and_digit_strings_only():
    assert [as_int(v) for v in (3, "12", " 7 ", True, 1.5, "1e3", None)] == [
        3,
        12,
        7,
        None,
        None,
        None,
        None,
    ]


# --- identifiers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://doi.org/10.7717/PEERJ.4375", "10.7717/peerj.4375"),
        ("doi:10.1000/xyz.", "10.1000/xyz"),
        (
            "http://dx.doi.org/10.1002/(SICI)1099-0771(199706)10:2%3C107::AID-BDM292%3E3.0.CO;2-Y",
            "10.1002/(sici)1099-0771(199706)10:2<107::aid-bdm292>3.0.co;2-y",
        ),
        ("10.13039/501100000265", "10.13039/501100000265"),
        ("not a doi", None),
        (None, None),
    ],
)
def test_norm_doi(value, expected):
    assert norm_doi(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (29456894, "29456894"),
        ("https://pubmed.ncbi.nlm.nih.gov/29456894", "29456894"),
        ("pmid:123", "123"),
        ("0", None),
        ("12a", None),
        (True, None),
    ],
)
def test_norm_pmid(value, expected):
    assert norm_pmid(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.ncbi.nlm.nih.gov/pmc/articles/5815332", "PMC5815332"),
        ("pmc3531190", "PMC3531190"),
        ("PMC", None),
        ("x", None),
    ],
)
def test_norm_pmcid(value, expected):
    assert norm_pmcid(value) == expected


def test_openalex_keys_orcid_ror_and_issn():
    assert openalex_key("https://openalex.org/w2741809807") == "W2741809807"
    assert openalex_key("https://openalex.org/A5048491430", "A") == "A5048491430"
    assert openalex_key("https://openalex.org/A5048491430") is None  # an author is not a work
    assert openalex_key("https://openalex.org/W12/") == "W12"
    assert openalex_key("https://openalex.org/W12x") is None
    assert openalex_key("https://openalex.org/W\u0663") is None  # a non-ASCII digit
    assert openalex_key("https://openalex.org/") is None
    assert (
        openalex_key(" W7 ") == "W7" and openalex_key("https://api.openalex.org/works/W9") == "W9"
    )
    assert norm_orcid("http://orcid.org/0000-0002-1825-009x") == "0000-0002-1825-009X"
    assert norm_orcid("0000000218250097") == "0000-0002-1825-0097"
    assert norm_ror("https://ror.org/02z5a1f63") == "02z5a1f63" and norm_ror("nope") is None
    assert norm_issn("1474-547x") == "1474-547X" and norm_issn("14745") is None


def test_missing_matches_on_normalised_values_and_keeps_the_requested_form():
    asked = (Identifier("doi", "10.1000/ABC"), Identifier("doi", "10.1000/gone"))
    assert missing(asked, [Identifier("doi", "10.1000/abc")]) == (
        Identifier("doi", "10.1000/gone"),
    )
