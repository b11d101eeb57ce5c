from __future__ import annotations

from pipeline.bibformats.markup import plain, render, tokens


def test_known_tags_become_styles_and_unknown_ones_are_dropped_with_their_text_kept():
    got = tokens('A <i>b</i> <jats:sub>2</jats:sub> <span class="x">c</span> &amp; d')
    assert got == [("text", "A "), ("open", "italic"), ("text", "b"), ("close", "italic"),
                   ("text", " "), ("open", "sub"), ("text", "2"), ("close", "sub"),
                   ("text", " "), ("text", "c"), ("text", " & d")]  # fmt: skip


def test_a_style_left_open_is_closed():
    assert tokens("<b>bold <i>both")[-2:] == [("close", "italic"), ("close", "bold")]


def test_plain_text_loses_markup_and_keeps_comparisons():
    assert plain("p<0.05 in <i>E. coli</i>\n and  more") == "p<0.05 in E. coli and more"


def test_render_escapes_text_runs_only():
    styles = {"italic": ("[", "]")}
    assert render("a&b <i>c&d</i>", escape=lambda s: s.replace("&", "+"), styles=styles) == (
        "a+b [c+d]"
    )
    assert render(None, escape=str, styles={}) is None
