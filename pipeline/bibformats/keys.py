"""Citation keys: ``<family>_<first title word>_<year>`` as Zotero makes them, unique per file.

Keys are ASCII letters, digits and ``_`` only: BibTeX, biber, pandoc (``@key``) and JabRef all
accept those unquoted. Non-ASCII letters are transliterated (text-unidecode: ``Møller`` ->
``moller``); a collision gets ``a``, ``b``, ... appended.
"""

from __future__ import annotations

import re
from string import ascii_lowercase

from text_unidecode import unidecode

from pipeline.bibformats.markup import plain
from pipeline.bibformats.names import split_name
from pipeline.bibformats.work import BibWork

# Short function words Zotero's key generator skips for the title word.
_SKIP = {"a", "an", "the", "of", "on", "in", "and", "for", "to", "de", "la", "le", "der", "die",
         "das", "el", "los", "les", "un", "une"}  # fmt: skip


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", unidecode(text).lower())


class CitationKeys:
    """Hands out one unique key per work, in the order asked."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def key(self, work: BibWork) -> str:
        """A key for ``work``, never one handed out before by this instance."""
        base = self._base(work)
        key, n = base, 0
        while key in self._used:
            key = base + self._suffix(n)
            n += 1
        self._used.add(key)
        return key

    @staticmethod
    def _suffix(n: int) -> str:
        letters = ""
        n += 1
        while n:
            n, r = divmod(n - 1, 26)
            letters = ascii_lowercase[r] + letters
        return letters

    @staticmethod
    def _base(work: BibWork) -> str:
        family = ""
        if work.authors:
            name = split_name(work.authors[0])
            family = _ascii_word(
                name.family or (name.literal.split(" ")[0] if name.literal else "")
            )
        words = (_ascii_word(w) for w in (plain(work.title) or "").split())
        word = next((w for w in words if w and w not in _SKIP), "")
        year = str(work.publication_year) if work.publication_year else ""
        parts = [p for p in (family, word, year) if p]
        if len(parts) < 2:
            return "work_" + _ascii_word(work.work_id.removeprefix("w_"))
        return "_".join(parts)
