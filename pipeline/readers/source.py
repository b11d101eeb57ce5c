"""Bytes of one seed file: opened once, hashed and counted while read, decoded to text.

Every reader gets its file through one :class:`RawFile`: text formats as decoded characters
(``chars``), binary formats (PDF, DOCX) as the open binary file (``binary``), hashed whole first.
Nothing else opens a seed file.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from typing import BinaryIO

from pipeline.readers import base

__all__ = ["BinaryFile", "NotUtf8", "RawFile", "looks_binary"]


class BinaryFile(Exception):
    """The file is not text (NUL bytes or a known binary signature)."""


class NotUtf8(Exception):
    """The bytes are not valid UTF-8 (or UTF-16/32); the caller decodes again with a fallback.

    ``encoding`` names the Unicode encoding the file was read as ("utf-8", "utf-16-le", …).
    """

    def __init__(self, message: str, encoding: str = "utf-8") -> None:
        super().__init__(message)
        self.encoding = encoding


_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _fallback_handler(encoding: str) -> str:
    """The name of a decoding error handler that reads each undecodable byte run as
    ``encoding`` (bytes it does not define become U+FFFD).

    A file that is UTF-8 but for a stray Windows byte keeps its UTF-8 characters (and so its
    offsets), and a file that is all cp1252 reads exactly as cp1252.
    """
    name = f"enrich-fallback-{encoding}"
    try:
        codecs.lookup_error(name)
    except LookupError:

        def handler(exc: UnicodeError) -> tuple[str, int]:
            if not isinstance(exc, UnicodeDecodeError):
                raise exc
            bad = exc.object[exc.start : exc.end]
            return bytes(bad).decode(encoding, errors="replace"), exc.end

        codecs.register_error(name, handler)
    return name


def _utf16_without_bom(sample: bytes) -> str | None:
    """Name "utf-16-le" or "utf-16-be" when ``sample`` looks like BOM-less UTF-16 text (mostly Latin:
    a NUL in every other byte, none in the others), else None."""
    n = len(sample) - len(sample) % 2
    if n < 4:
        return None
    even, odd = sample[0:n:2].count(0), sample[1:n:2].count(0)
    for nuls, others, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if others == 0 and nuls * 10 >= n // 2 * 3:  # 30 % of the characters or more
            try:
                codecs.getincrementaldecoder(name)().decode(sample[:n], False)
            except UnicodeDecodeError:
                return None
            return name
    return None


class RawFile:
    """A file read once in blocks: counts and hashes the bytes while decoding them.

    The encoding is UTF-8 (a BOM dropped), or UTF-16/UTF-32 by their BOM, or BOM-less UTF-16
    recognised by its NUL bytes. ``encoding`` None decodes strictly and raises :class:`NotUtf8`
    on the first undecodable byte; an ``encoding`` such as ``cp1252`` reads each undecodable byte
    run of a UTF-8 file as that encoding (in a UTF-16/32 file it becomes U+FFFD). With
    ``fallback`` set, decoding starts strict and switches to that encoding at the first
    undecodable byte, in the same pass (what came before was valid, so nothing is read twice);
    ``replaced`` then says so. ``unicode`` names the encoding used.
    """

    def __init__(self, path: str, encoding: str | None = None, *, fallback: str | None = None):
        self.path = path
        self.encoding = encoding
        self.fallback = fallback
        self.replaced = False
        self.unicode = "utf-8"
        self.sha256 = hashlib.sha256()
        self.bytes = 0
        self._fh: BinaryIO | None = None
        self._head: bytes | None = None
        self._started = False  # the head has been counted
        self._hashed = False  # every byte has been counted (binary())

    # -- the file ------------------------------------------------------------------------------

    def head(self) -> bytes:
        """The first block of bytes (opens the file; not yet counted). Raises OSError."""
        if self._head is None:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed by close() or at the end
            self._head = self._fh.read(base.BLOCK_SIZE)
        return self._head

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _blocks(self) -> Iterator[bytes]:
        """The bytes not read yet, each counted and hashed once."""
        block = self.head() if not self._started else self._read()
        self._started = True
        while block:
            self.sha256.update(block)
            self.bytes += len(block)
            yield block
            block = self._read()
        self.close()

    def _read(self) -> bytes:
        return self._fh.read(base.BLOCK_SIZE) if self._fh else b""

    def finish(self) -> None:
        """Hash and count whatever has not been read yet (a refused file is still identified)."""
        if self._hashed:
            return
        try:
            for _ in self._blocks():
                pass
        except OSError:
            self.close()

    def binary(self) -> BinaryIO:
        """The whole file hashed, then the open file rewound for a binary reader (PDF, DOCX)."""
        self.head()
        fh = self._fh
        assert fh is not None
        block = self._head if not self._started else fh.read(base.BLOCK_SIZE)
        self._started = True
        while block:
            self.sha256.update(block)
            self.bytes += len(block)
            block = fh.read(base.BLOCK_SIZE)
        fh.seek(0)
        self._hashed = True
        return fh

    # -- text ----------------------------------------------------------------------------------

    def chars(self) -> Iterator[str]:
        """The decoded text, block by block. Raises BinaryFile, NotUtf8, OSError.

        A lone carriage return (classic Mac OS line ends, as some BibTeX and RIS files still
        have) is given as a line feed: one character for one, so every offset is the same, and
        the readers see the lines the file has. CRLF stays as it is.
        """
        decoder = None
        held = ""  # a CR ending a block: its LF may open the next one
        for block in self._blocks():
            if decoder is None:
                decoder, block = self._decoder(block)
            text, held = _lone_cr(held + self._decode(decoder, block, final=False))
            yield text
        if decoder is None:  # an empty file
            return
        yield _lone_cr(held + self._decode(decoder, b"", final=True), final=True)[0]

    def _decoder(self, first: bytes) -> tuple[codecs.IncrementalDecoder, bytes]:
        name = next((n for bom, n in _BOMS if first.startswith(bom)), None)
        if name is None:
            if looks_binary(first):
                raise BinaryFile("binary file (NUL bytes or a binary signature); not read")
            if b"\x00" in first[: base.SNIFF_SIZE]:
                name = _utf16_without_bom(first[: base.SNIFF_SIZE])
                if name is None:
                    raise BinaryFile("binary file (NUL bytes or a binary signature); not read")
        self.unicode = name or "utf-8"
        if name is None and first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8) :]  # not counted in offsets
        if not self.encoding:
            return codecs.getincrementaldecoder(name or "utf-8")(), first
        return codecs.getincrementaldecoder(name or "utf-8")(errors=self._lenient()), first

    def _lenient(self) -> str:
        """UTF-16/32 with broken code units: replaced, there is no byte to reread as another
        encoding. UTF-8: each undecodable byte run read as the fallback encoding."""
        if self.unicode != "utf-8":
            return "replace"
        return _fallback_handler(self.encoding or self.fallback or "cp1252")

    def _decode(self, decoder: codecs.IncrementalDecoder, block: bytes, *, final: bool) -> str:
        try:
            return decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            if self.fallback is None:
                raise NotUtf8(str(exc), self.unicode) from None
            # The decoder keeps its buffered bytes when it raises: decode the same block again,
            # leniently, from the same state.
            self.replaced = True
            decoder.errors = self._lenient()
            return decoder.decode(block, final)


_LONE_CR = re.compile(r"\r(?!\n)")


def _lone_cr(text: str, *, final: bool = False) -> tuple[str, str]:
    """``text`` with its lone CRs as LFs, and the CR ending it held back unless ``final``."""
    if "\r" not in text:
        return text, ""
    held = ""
    if not final and text.endswith("\r"):
        text, held = text[:-1], "\r"
    return _LONE_CR.sub("\n", text), held


_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")


def looks_binary(head: bytes) -> bool:
    """A known binary signature at the start (PNG, PDF, GIF, JPEG, zip, gzip)."""
    return head.startswith(_BINARY_MAGIC)
