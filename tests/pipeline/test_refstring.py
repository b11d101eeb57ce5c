"""pipeline.refstring: a reference string as matching reads it."""

from __future__ import annotations

import pytest

from pipeline.refstring import MAX_CHARS, RefString, fold, text_hash, triage


def test_fold_drops_accents_case_and_punctuation_and_keeps_other_scripts():
    assert fold("Müller, J.-P. (2003) “Ökologie”") == "muller j p 2003 okologie"
    assert fold("Иванов И.И. Теория") == "иванов и и теория"
    assert fold("山田太郎 (2001)") == "山田太郎 2001"


def test_printings_differing_only_in_case_and_punctuation_share_a_key():
    a = "Woodson SA. Metal ions and RNA folding. Curr Opin Chem Biol. 2005;9:104-109."
    b = "WOODSON SA: metal ions and RNA folding - Curr Opin Chem Biol, 2005; 9: 104–109"
    assert text_hash(a) == text_hash(b)
    assert text_hash(a) != text_hash(a.replace("2005", "2006"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Ibid.", "a back-reference (Ibid.), not a reference"),
        ("Ibid., p. 23.", "a back-reference (Ibid.), not a reference"),
        ("Op. cit.", "a back-reference (Ibid.), not a reference"),
        ("https://www.example.org/some/page.html", "only a URL"),
        ("<https://github.com/tensorflow/models>", "only a URL"),
        ("1998", "too short to identify a work"),
        ("Smith 2001", "too short to identify a work"),
    ],
)
def test_triage_names_what_is_not_a_reference(text, reason):
    assert triage(text) == reason


def test_a_paragraph_taken_for_a_reference_is_too_long():
    paragraph = "We measured the samples again. " * 200  # ~6,000 characters
    assert len(paragraph) > MAX_CHARS
    assert triage(paragraph).startswith("too long for one reference")


@pytest.mark.parametrize(
    "text",
    [
        "Darwin C. On the Origin of Species by Means of Natural Selection. London: John Murray; 1859.",
        "山田太郎, 鈴木花子. 日本における細胞療法の現状. 日本医事新報. 2019;4950:30-35.",
        "Tensorflow. TensorFlow-Slim image classification library. URL https://github.com/x/y.",
    ],
)
def test_real_references_pass_triage(text):
    assert triage(text) is None


def test_numbers_complete_abbreviated_page_ranges_and_skip_dois():
    ref = RefString("Smith J (2001) Title. J Biol 35: 1425-37. doi:10.1000/123456")
    assert sorted(ref.numbers) == sorted(["2001", "35", "1425", "1437"])
    assert ref.years == {2001}


def test_query_drops_urls_and_dois_and_stays_short():
    ref = RefString("Smith J. Title. https://x.org/a doi:10.1000/abc " + "word " * 400)
    assert "https" not in ref.query and "10.1000/abc" not in ref.query
    assert len(ref.query) <= 1000


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("(1) Berry, M. The Affluent Society Revisited 2013, 30–50.", ("2013", "30", "50")),
        ("1 G. Merdrignac, Tissue Antigens 18, 299 (1981).", ("18", "299", "1981")),
        ("1The Lancet 183, 1554 (1914).", ("183", "1554", "1914")),
        ("[12] A. Bruch, J. Couns. Psychol. 49 (2002) 449.", ("49", "2002", "449")),
        ("12. Smith J (2001) J Biol 5: 7.", ("2001", "5", "7")),
        ("2005. Smith J. Title. J Biol 5: 7.", ("2005", "5", "7")),  # a year, not a label
    ],
)
def test_the_lists_own_number_is_not_a_bibliographic_number(text, numbers):
    assert RefString(text).numbers == numbers


def test_a_title_less_journal_reference_with_three_numbers_is_worth_a_search():
    # journal, volume, page and year: no title, one word, yet it names one article
    assert triage("1Helicobacter 12, 274 (2007).") is None
    assert triage("Smith J, 2001, 5") == "too short to identify a work"
