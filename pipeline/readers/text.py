"""Plain text and Markdown: scanned as they are, in windows cut at blank lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece, text_windows

__all__ = ["read_text"]


def read_text(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of plain text: the decoded file itself, never rewritten."""
    for text, base, line in text_windows(chars):
        yield Piece(text, base, line)
