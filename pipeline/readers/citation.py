"""A reference as one line of citation text, from the fields a record names.

``render(authors, title, container, year, volume, pages)`` -> ``"Smith J; Doe A. Title.
Journal 12, 1-9 (2020)."``: what reference matching reads for BibTeX, RIS, EndNote and JSON
records (their raw syntax is no citation).
"""

from __future__ import annotations

import re

__all__ = ["render"]

_BRACES = re.compile(r"[{}]")


def render(
    authors: list[str],
    title: str | None,
    container: str | None = None,
    year: str | None = None,
    volume: str | None = None,
    pages: str | None = None,
) -> str:
    """The fields as one citation line; empty fields are left out."""
    parts = []
    if authors:
        parts.append("; ".join(_clean(a) for a in authors[:20]) + ".")
    if title:
        parts.append(_clean(title).rstrip(".") + ".")
    where = " ".join(p for p in (_clean(container or ""), _clean(volume or "")) if p)
    if pages:
        where = f"{where}, {_clean(pages)}" if where else _clean(pages)
    if year:
        where = f"{where} ({_clean(year)})" if where else f"({_clean(year)})"
    if where:
        parts.append(where + ".")
    return " ".join(parts)


def _clean(s: str) -> str:
    return " ".join(_BRACES.sub("", s).split())
