"""A well-formedness and safety check that runs beside the XML readers, on the same blocks.

The readers themselves use a lenient, non-validating tokenizer (``html.parser``) that never
expands an entity and never fetches anything. Beside it, expat (the parser defusedxml wraps)
reads the same characters once, in C, to say what a careful reader should know: that the file
declares entities (not expanded: their references stay as written) or is not well-formed XML
(read leniently up to the end). Expat stops at the first entity declaration, before any entity
could be expanded; it never loads an external DTD or entity (no handler is installed for them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from xml.parsers import expat

__all__ = ["checked"]


class _Declared(Exception):
    pass


def _refuse(*_args) -> None:
    raise _Declared


def checked(blocks: Iterable[str], problems: list[str]) -> Iterator[str]:
    """The same blocks, passed through; at most one problem line is added to ``problems``."""
    parser = expat.ParserCreate()
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    done = False
    for block in blocks:
        if not done:
            done = _feed(parser, block, False, problems)
        yield block
    if not done:
        _feed(parser, "", True, problems)


def _feed(parser, block: str, final: bool, problems: list[str]) -> bool:
    """Feed one block; True once the check has ended (a problem found)."""
    try:
        parser.Parse(block, final)
    except _Declared:
        problems.append("XML declares entities; read without expanding them")
        return True
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code)
        problems.append(f"malformed XML ({reason} at line {exc.lineno}); read leniently")
        return True
    return False
