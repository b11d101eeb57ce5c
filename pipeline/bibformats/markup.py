"""Inline markup in titles and abstracts (``<i>``, ``<sup>``, JATS ``<jats:italic>``, ...).

Sources print some titles with markup: PubMed and Crossref ``<i>BCR::ABL1</i>``, Crossref JATS
``<jats:sub>2</jats:sub>``. Each format renders it its own way: CSL JSON keeps the tags CSL
processors understand, BibTeX turns them into LaTeX commands, RIS gets plain text. Parsed with
the standard library's HTML parser (entities decoded, unknown tags dropped with their text kept).
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

# tag (lower-cased, namespace dropped) -> the style it means
_STYLES = {
    "i": "italic", "em": "italic", "italic": "italic",
    "b": "bold", "strong": "bold", "bold": "bold",
    "sup": "sup", "sub": "sub",
    "sc": "smallcaps", "scp": "smallcaps",
}  # fmt: skip

Token = tuple[str, str]  # ("text", s) | ("open", style) | ("close", style)


class _Tokens(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[Token] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        style = _STYLES.get(tag.rsplit(":", 1)[-1])
        if style:
            self.tokens.append(("open", style))
            self.open.append(style)

    def handle_endtag(self, tag):
        style = _STYLES.get(tag.rsplit(":", 1)[-1])
        if style and style in self.open:
            while self.open:  # close what was left open inside it first
                inner = self.open.pop()
                self.tokens.append(("close", inner))
                if inner == style:
                    break

    def handle_data(self, data):
        self.tokens.append(("text", data))


def tokens(text: str) -> list[Token]:
    """``'a <i>b</i>'`` -> [("text", "a "), ("open", "italic"), ("text", "b"), ("close", "italic")];
    every opened style is closed."""
    if "<" not in text and "&" not in text:  # most titles: no markup, no entity to parse
        return [("text", text)]
    parser = _Tokens()
    parser.feed(text)
    parser.close()
    parser.tokens += [("close", s) for s in reversed(parser.open)]
    return parser.tokens


def render(
    text: str | None, *, escape: Callable[[str], str], styles: dict[str, tuple[str, str]]
) -> str | None:
    """``text`` with every run of characters escaped and every known style wrapped in
    ``styles[style]`` = (before, after); styles absent from the mapping are dropped."""
    if text is None:
        return None
    out = []
    for kind, value in tokens(text):
        if kind == "text":
            out.append(escape(" ".join(value.split("\n"))))
        elif value in styles:
            out.append(styles[value][0] if kind == "open" else styles[value][1])
    return " ".join("".join(out).split()) or None


def plain(text: str | None) -> str | None:
    """The text without markup, entities decoded, whitespace collapsed."""
    return render(text, escape=lambda s: s, styles={})
