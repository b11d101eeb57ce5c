"""Tiny PDFs written by hand, for the cases no public file shows in a few kilobytes: a line
break inside a DOI, a page without text, 5,000 pages, a decompression bomb. Helvetica text,
one ``Tj`` per line, optional URI link annotations."""

from __future__ import annotations

import zlib


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def content(lines: list[str]) -> bytes:
    ops = ["BT /F1 11 Tf 14 TL 72 720 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def placed(lines: list[tuple]) -> bytes:
    """A content stream drawing each ``(x, y, text)`` at its own place (columns, indents),
    ``(x, y, text, size)`` in another font size than 11 (a superscript)."""
    ops = []
    for x, y, text, *size in lines:
        ops.append(f"BT /F1 {size[0] if size else 11:g} Tf {x:g} {y:g} Td ({_escape(text)}) Tj ET")
    return "\n".join(ops).encode("latin-1")


def pdf(pages: list[bytes], *, links: list = (), pages_share: int = 0) -> bytes:
    """A PDF of ``pages`` content streams (or ``pages_share`` pages all drawing pages[0]).
    A link is a URI (its rectangle over the second line, 72 700 300 712) or (URI, rectangle):
    ``content``'s line ``k`` has its baseline at 720 - 14 k, its letters about 8 points high."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled below
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    annots = [
        add(
            b"<< /Type /Annot /Subtype /Link /Rect [%s] /Border [0 0 0] " % _rect(link)
            + b"/A << /S /URI /URI ("
            + (link if isinstance(link, str) else link[0]).encode()
            + b") >> >>"
        )
        for link in links
    ]
    streams = [add(b"<< /Length %d >>\nstream\n" % len(c) + c + b"\nendstream") for c in pages]
    kids = []
    count = pages_share or len(pages)
    for i in range(count):
        stream = streams[0] if pages_share else streams[i]
        annot = b" /Annots [" + b" ".join(b"%d 0 R" % a for a in annots) + b"]" if annots else b""
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >>%s >>" % (tree, stream, font, annot)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        count,
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)


def _rect(link) -> bytes:
    box = (72, 700, 300, 712) if isinstance(link, str) else link[1]
    return " ".join(str(v) for v in box).encode()


def bomb(megabytes: int) -> bytes:
    """A page whose content stream inflates to ``megabytes`` MB of spaces."""
    raw = b" " * (megabytes << 20)
    packed = zlib.compress(raw, 9)
    stream = b"<< /Length %d /Filter /FlateDecode >>" % len(packed)
    body = pdf([b"BT ET"])
    # swap the plain stream for the packed one
    plain = b"<< /Length 5 >>\nstream\nBT ET\nendstream"
    assert plain in body
    head, tail = body.split(plain)
    fixed = head + stream + b"\nstream\n" + packed + b"\nendstream" + tail
    return _rexref(fixed)


def _rexref(data: bytes) -> bytes:
    """Recompute the xref offsets after a body changed size."""
    head = data[: data.index(b"xref\n")]
    import re

    offsets = [m.start() for m in re.finditer(rb"(?m)^\d+ 0 obj\n", head)]
    n = len(offsets)
    out = bytearray(head)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (n + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (n + 1, xref)
    return bytes(out)
