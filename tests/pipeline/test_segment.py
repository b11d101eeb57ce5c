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


def test_a_line_starting_with_a_doi_or_link_ends_the_entry_before_it():
    # First Monday's reference paragraphs: "...pp. 39-49.<br>doi: https://doi.org/..., accessed
    # 5 September 2020." (a year and eight words, after a closed line: once a "whole reference")
    first = (
        "Barry D. Adam, Richard Elliott, Patrice Corriveau, and Ken English, 2014. "
        "\u201cImpacts of criminalization on the everyday lives of people living with HIV in "
        "Canada,\u201d Sexuality Research and Social Policy, volume 11, number 1, pp. 39\u201349."
        "\ndoi:  https://doi.org/10.1007/s13178-013-0131-8 https://doi.org/10.1007/s13178-013-0131-8"
        " , accessed 5 September 2020."
    )
    second = (
        "Philip E. Agre, 1997. \u201cToward a critical technical practice: Lessons learned in "
        "trying to reform AI,\u201d In: Geof Bowker (editor). Bridging the great divide. Mahwah, "
        "N.J.: Erlbaum, pp. 131\u2013157.\nRetrieved from https://example.org/agre.html on "
        "12 March 2019, page 1 of 2."
    )
    third = "Anonymous, 2000. \u201cName brands,\u201d Columbia Law Review, volume 100, pp. 1-9."
    assert _entries(f"{first}\n{second}\n{third}\n") == [first, second, third]


def test_entry_text_collapses_whitespace_and_takes_the_number():
    assert entry_text("[12]  Smith J.\n  A study.") == ("Smith J. A study.", "12")
    assert entry_text("Smith J. A study.") == ("Smith J. A study.", None)


# -- real reference sections, as pdftotext extracted them (tests/fixtures/README, "segment") ------

import pathlib  # noqa: E402

import pytest  # noqa: E402

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "segment"


def _section(name: str) -> tuple[str, list[tuple[str, str | None]]]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return text, [entry_text(text[s:e]) for s, e in split_entries(text)]


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("arxiv-1706.09498-numbered.txt", 35),  # page numbers and form feeds between pages
        ("arxiv-2301.05883-two-column.txt", 33),  # narrow columns: most entries wrap
        ("arxiv-2502.21088-marker-lines.txt", 40),  # "[1]" alone, then a blank line, then the entry
        ("jacow-wepml008-numbered-furniture.txt", 5),  # figure captions and a footer in between
    ],
)
def test_numbered_pdf_sections_give_one_entry_per_number_in_order(name, count):
    _, entries = _section(name)
    assert [label for _, label in entries] == [str(n) for n in range(1, count + 1)]


def test_a_year_at_a_line_start_does_not_cut_a_numbered_entry():
    # "[9] ... 2015. ISSN 0920-5691.\n" wraps; the section also has lines starting "2016." and
    # "2012." that a "1." rule would take for list numbers
    _, entries = _section("arxiv-1706.09498-numbered.txt")
    assert entries[12][0].endswith("pages 1097–1105, 2012.")


# ACL's author-year style as PDF extraction gives it (EACL 2023 "LongEval", CC BY 4.0): the year
# starts the wrapped line, and three entries in a row have years 2020, 2022, 2021.
ACL = (
    "Asli Celikyilmaz, Elizabeth Clark, and Jianfeng Gao.\n"
    "2020. Evaluation of text generation: A survey. arXiv\npreprint arXiv:2006.14799.\n"
    "Mingda Chen, Zewei Chu, Sam Wiseman, and Kevin\n"
    "Gimpel. 2022. SummScreen: A dataset for abstractive screenplay summarization. In\n"
    "Proceedings of the 60th Annual Meeting of the Association for Computational Linguistics.\n"
    "Elizabeth Clark, Tal August, Sofia Serrano, Nikita\n"
    "Haduong, Suchin Gururangan, and Noah A. Smith.\n"
    "2021. All that's 'human' is not gold: Evaluating\nhuman evaluation of generated text.\n"
)


def test_years_starting_wrapped_lines_are_no_numbered_list_nor_new_entries():
    starts = [e.split(",")[0] for e in _entries(ACL)]
    assert starts == ["Asli Celikyilmaz", "Mingda Chen", "Elizabeth Clark"]


def test_page_numbers_and_captions_are_not_part_of_entries():
    _, entries = _section("arxiv-1706.09498-numbered.txt")
    assert entries[1][0].endswith("From HOV / HOT NIR Images. 5474, 2009.")  # "8" dropped
    _, entries = _section("jacow-wepml008-numbered-furniture.txt")
    assert entries[0][0].endswith("Sep. 2013, THP077.")  # "Figure 6: ..." is not in it
    assert not any("Figure" in text or "Accelerator Technology" in text for text, _ in entries)


def test_a_marker_alone_on_its_line_keeps_the_paragraph_after_it():
    _, entries = _section("arxiv-2502.21088-marker-lines.txt")
    assert entries[0] == (
        "S. D. Drell and T.-M. Yan, Massive Lepton-Pair Production in Hadron-Hadron Collisions "
        "at High Energies, Phys. Rev. Lett. 25 (1970) 316.",
        "1",
    )


@pytest.mark.parametrize(
    ("name", "count", "first", "last"),
    [
        (
            "arxiv-2502.18907-author-year.txt",
            94,
            "Adamopoulos G., Robertson J., Morrison N. A., Godet C., 2004, J. Appl. Phys., 96, 6348",
            "van Dishoeck E. F., 2019, Proc. Int. Astron. Union, 15, 3",
        ),
        (
            "arxiv-1707.04066-author-year.txt",
            26,
            "Boslough, M., Brown, P., & Harris, A. W. 2015, in Aerospace Conference, 2015 IEEE, 1-12",
            "Werner, S. C., Harris, A. W., Neukum, G., & Ivanov, B. A. 2002, Icarus, 156, 287",
        ),
    ],
)
def test_flush_author_year_lists_cut_at_each_author_list(name, count, first, last):
    _, entries = _section(name)
    texts = [text for text, _ in entries]
    assert len(texts) == count
    assert texts[0] == first and texts[-1] == last


def test_author_year_entry_whose_last_line_is_only_a_page_keeps_it():
    # "Brown, P., ... 2013, Nature, 503,\n238": 238 is the page, not a page number
    _, entries = _section("arxiv-1707.04066-author-year.txt")
    assert entries[1][0] == "Brown, P., Assink, J. D., Astiz, L., et al. 2013, Nature, 503, 238"


def test_a_running_head_and_a_figure_caption_do_not_become_entries():
    _, entries = _section("arxiv-1707.04066-author-year.txt")
    assert not any(
        t.startswith(("DECam", "Trilling et al.\n")) or t == "Trilling et al." for t, _ in entries
    )
    _, entries = _section("arxiv-2502.18907-author-year.txt")
    assert not any(t.startswith("Figure 10") for t, _ in entries)


def test_entries_with_blank_lines_between_some_of_them_still_cut_by_author():
    # 1707.04066 has a blank line (a column break) between "Mainzer ... 2014" and "Mommert"
    _, entries = _section("arxiv-1707.04066-author-year.txt")
    texts = [t for t, _ in entries]
    assert "Mainzer et al. 2014, ApJ, 792, 30" in texts
    assert texts[texts.index("Mainzer et al. 2014, ApJ, 792, 30") + 1].startswith("Mommert, M.")


def test_hanging_indent_starts_entries_at_the_outdented_lines():
    text = (
        "Smith, J. (2001). A study of things\n"
        "    that wrap. Nature, 5, 1-10.\n"
        "World Health Organization. (2014). Global status\n"
        "    report on alcohol and health. Geneva.\n"
    )
    assert [entry_text(e)[0] for e in _entries(text)] == [
        "Smith, J. (2001). A study of things that wrap. Nature, 5, 1-10.",
        "World Health Organization. (2014). Global status report on alcohol and health. Geneva.",
    ]


def test_bulleted_markdown_list_is_one_entry_per_bullet():
    text = "- Smith J. A study of\n  things. 2001.\n- Doe A. Another. 1999.\n"
    assert [entry_text(e)[0] for e in _entries(text)] == [
        "Smith J. A study of things. 2001.",
        "Doe A. Another. 1999.",
    ]


def test_entry_text_joins_words_hyphenated_at_a_line_end():
    assert entry_text("[3] A. Author, Gauge theo-\nries of weak interactions, 1971.") == (
        "A. Author, Gauge theories of weak interactions, 1971.",
        "3",
    )


def test_a_file_of_one_reference_a_line_in_mixed_styles_is_one_entry_a_line():
    # real strings (CrossRef/reference-matching-evaluation), one per line, no blank lines
    lines = [
        "Gottlieb, J.;Leyser, Y. 1981. Friendship between Mentally Retarded and Nonretarded "
        "Children. In: S. Asher and J. Gottman (eds.),The Development of Children's Friendships.",
        "1 M.J. Shea and R.N. Compton, Physical Review B 47, 9967 (1993) and its erratum later.",
        "Index. (1970). Polysaccharides, 223–228, in the proceedings of the symposium volume.",
        "World Health Organization. (2014). Global status report on alcohol and health. Geneva.",
    ]
    assert [entry_text(e)[0] for e in _entries("\n".join(lines) + "\n")] == lines


def test_repeated_lines_are_counted_only_when_a_short_line_is_asked_about(monkeypatch):
    import pipeline.segment as segment

    text = "Header\n1. A entry.\nHeader\n2. B entry.\nHeader\n" + "x" * 61 + "\n"
    counted = []
    real = segment._repeated_lines
    monkeypatch.setattr(segment, "_repeated_lines", lambda t: counted.append(t) or real(t))
    repeated = segment._Repeated(text)
    assert "x" * 61 not in repeated and not counted  # longer than any running head: no count
    assert "Header" in repeated and "1. A entry." not in repeated
    assert counted == [text]  # counted once


def test_a_number_run_into_the_first_authors_name_is_a_list_marker():
    # PDF extraction drops the space after two-digit numbers ("10.Hayta, E. N.;"), also before
    # a double or a two-word surname; "10.1016/..." (a DOI line) is no marker
    text = (
        "9. Molinari, S.; Tesoriero, R. F. Bottom-up Approaches. Matter 2021, 4, 3095.\n"
        "10.Hayta, E. N.; Ertelt, M. J. Bacterial Materials. Adv Funct Mater 2021, 31.\n"
        "10.1016/j.matt.2021.08.001\n"
        "11.Orozco-Hidalgo, M. T.; Charrier, M. Engineered Growth. ACS Synth Biol 2021.\n"
        "12.López Barreiro, D.; Folch-Fortuny, A. Sequence Control. Matter 2023, 6, 1.\n"
    )
    labels = [entry_text(text[s:e])[1] for s, e in split_entries(text)]
    assert labels == ["9", "10", "11", "12"]
    assert entry_text(text[slice(*split_entries(text)[1])])[0].startswith("Hayta, E. N.;")
