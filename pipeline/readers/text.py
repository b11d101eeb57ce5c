"""Plain text and Markdown: scanned as they are, in windows cut at blank lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece, cut_text, windows

__all__ = ["read_text"]


def read_text(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of plain text: the decoded file itself, never rewritten."""
    for window, prefix, offset, line in windows(chars, cut_text):
        yield Piece(prefix + window, offset - len(prefix), line - prefix.count("\n"))
