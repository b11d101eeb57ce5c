"""MEDLINE / PubMed ``.nbib`` tagged records: ``PMID- 123``, continuation lines indented six
spaces, a blank line between records, CRLF or LF.

Each record is its own subject: ``PMID``, ``PMC`` and ``LID``/``AID`` lines (``[doi]``) are its
ids. ``[pii]`` lines, ``MID`` (NIH manuscript), ``JID`` (NLM journal id), ``IS``/``ISSN``
and ``OID`` lines are never scanned (decoys); the PMIDs in comment lines (``CIN``, ``CON``,
``EIN``, ``RIN``...) are mentions of other works.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pipeline.readers.base import MARK, Builder, Piece, cut_text, tagged_lines, windows

__all__ = ["read_medline"]

# "PMID- 123" as PubMed writes it; "PMID-123" as some tools re-export it.
_TAG = re.compile(r"(?P<tag>[A-Z]{2,4}) *-(?: |(?=\S))")
_SUBJECT = frozenset({"PMID", "PMC"})
_SKIP = frozenset({"MID", "JID", "IS", "OID", "ISBN"})


def read_medline(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of MEDLINE records (windows cut at blank lines, so records stay whole)."""
    for window, prefix, offset, line in windows(chars, cut_text):
        b = Builder()
        b.synth(prefix)
        tag = ""
        for text, t, at, no in tagged_lines(window, _TAG, offset, line):
            if t is not None:
                tag = t.group("tag")
                if tag == "PMID":
                    b.synth("\n\n" + MARK + "record\n\n" + MARK + "mention\n")
            # An LID/AID line is one of the record's own ids ("10.1/x [doi]", "S0140... [pii]"
            # or, as some tools write it, "doi:10.1/x"); a pii is never scanned.
            own = tag in _SUBJECT or tag in ("LID", "AID")
            if tag in _SKIP or "[pii]" in text:
                b.synth("\n" if text.endswith("\n") else "")
            elif own:
                b.synth("\n" + MARK + "subject\n")
                b.real(text, at, no)
                b.synth("\n" + MARK + "mention\n")
            else:
                b.real(text, at, no)
        yield b.take()
