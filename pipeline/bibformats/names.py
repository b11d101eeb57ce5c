"""Splitting an author's name into family / given / particle parts for the export formats.

The warehouse keeps a source's split when it gave one (Crossref ``family``/``given``, PubMed
``LastName``/``ForeName``); OpenAlex gives only a display name (``Rory A. Fisher``). Those are
split by BibTeX's own rules through pybtex (the reference implementation of them in Python):
the last word is the family name, lower-case words before it are the particle
(``Ludwig van Beethoven``), and ``Family, Given`` is read as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybtex.database import Person

from pipeline.bibformats.work import BibAuthor


@dataclass(frozen=True)
class Name:
    """A name split for citation: ``family`` is empty only for a collective (``literal``)."""

    family: str = ""
    given: str = ""
    particle: str = ""
    suffix: str = ""
    literal: str = ""

    @property
    def family_with_particle(self) -> str:
        return f"{self.particle} {self.family}".strip()


def split_name(author: BibAuthor) -> Name:
    """The parts of one author's name (a collective name stays whole, as ``literal``)."""
    raw = " ".join(author.raw_name.split())
    if author.is_collective:
        return Name(literal=raw or (author.family or ""))
    if author.family:
        return Name(family=author.family.strip(), given=(author.given or "").strip())
    if not raw:
        return Name()
    try:
        person = Person(raw)
    except Exception:  # pybtex refuses some strings (too many commas): keep the name whole
        return Name(literal=raw)
    family = " ".join(person.last_names)
    if not family:
        return Name(literal=raw)
    return Name(
        family=family,
        given=" ".join(person.first_names + person.middle_names),
        particle=" ".join(person.prelast_names),
        suffix=" ".join(person.lineage_names),
    )
