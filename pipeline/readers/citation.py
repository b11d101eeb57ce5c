"""A reference as one line of citation text, from the fields a record names.

``render(authors, title, container, year, volume, pages)`` ->
``"Woodson SA, Doe J (2005). Metal ions and RNA folding. Curr Opin Chem Biol 9: 104-109."``:
what reference matching reads for BibTeX, RIS, EndNote and JSON records (their raw syntax is no
citation). The shape is the common author-year one (family name and initials, the year after
the authors) that ``pipeline.refstring`` reads back field by field.
"""

from __future__ import annotations

import re

__all__ = ["render"]

_BRACES = re.compile(r"[{}]")
_DASHES = re.compile(r"\s*(?:--+|\u2013|\u2014)\s*")
MAX_AUTHORS = 20
_ENDS = (".", "?", "!")


def render(
    authors: list[str],
    title: str | None,
    container: str | None = None,
    year: str | None = None,
    volume: str | None = None,
    pages: str | None = None,
) -> str:
    """The fields as one citation line; empty fields are left out."""
    names = [n for n in (_family_first(_clean(a)) for a in authors[:MAX_AUTHORS]) if n]
    head = ", ".join(names)
    year = _clean(year or "")[:4]
    if year:
        head = f"{head} ({year})" if head else f"({year})"
    parts = [p for p in (head, _clean(title or "").rstrip(". ")) if p]
    where = _clean(container or "")
    if volume:
        where = f"{where} {_clean(volume)}".strip()
    if pages:
        pages = _DASHES.sub("-", _clean(pages))
        where = f"{where}: {pages}" if where else pages
    if where:
        parts.append(where)
    return "".join(_stop(p) for p in parts).rstrip()


def _stop(part: str) -> str:
    """The part ended by a full stop and a space, unless it ends with one (or "?", "!") already."""
    return f"{part} " if part.endswith(_ENDS) else f"{part}. "


def _family_first(name: str) -> str:
    """``'Smith, John A.'`` / ``'John A. Smith'`` -> ``'Smith JA'``; a one-word name as is."""
    if "," in name:
        family, given = (p.strip() for p in name.split(",", 1))
    else:
        words = name.split()
        if len(words) < 2:
            return name
        family, given = words[-1], " ".join(words[:-1])
    initials = "".join(_initials(w) for w in re.split(r"[\s.\-]+", given) if w)
    return f"{family} {initials}".strip()


def _initials(word: str) -> str:
    """``'John'`` -> ``'J'``; initials already written together (``'AS'``) stay as they are."""
    if word.isalpha() and word.isupper() and len(word) <= 3:
        return word
    return word[0] if word[0].isalpha() else ""


def _clean(s: str) -> str:
    return " ".join(_BRACES.sub("", s).split())
