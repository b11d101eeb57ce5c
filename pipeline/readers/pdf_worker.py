"""The PDF parsing that runs in a worker process: pypdfium2 in, plain data out.

PDFium is C code reading hostile bytes: a decompression bomb, a page tree of 5,000 pages or a
crash must cost the worker, never the run. So it runs in its own process (``pipeline.readers.pdf``
starts it), with its address space capped, and returns only plain lists.

Why pypdfium2: on the real test PDFs of GROBID and py-pdf/sample-files (21 files, 120 pages,
3.8 MB), it read 3.29 MB/s against poppler's ``pdftotext`` 1.82, pypdf 0.19 and pdfminer.six
slower still, with the same characters; its licence (Apache-2.0/BSD) is permissive, and it
gives link annotations and character boxes, which identifier joining and roles need.
"""

from __future__ import annotations

import bisect
import ctypes
import json
import resource
import sys

__all__ = ["Encrypted", "read_pages", "set_memory_limit"]


class Encrypted(Exception):
    """The PDF needs a password (the empty one was tried)."""


def set_memory_limit(megabytes: int) -> None:
    """Cap this process's address space (the worker's initializer)."""
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def read_pages(path: str, max_pages: int) -> dict:
    """``{"pages": total, "read": [page, ...]}``; a page is ``{"lines": [(text, x, y, size,
    last, last_x)], "links": [(uri, line, first, end line, end)]}`` in PDFium's reading order (``x``,
    ``y``: the first character's left and top, in points; ``size``: its height; ``last``: the last
    character's top, lower than ``y`` when PDFium gave two printed lines as one, joined at a
    hyphen; a link's ``line``/``first`` to ``end line``/``end``: the printed characters its
    rectangle covers, as lines and offsets in them, -1 when none is known)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Encrypted(str(exc)) from None
        raise
    try:
        total = len(pdf)
        return {"pages": total, "read": [_page(pdf, i) for i in range(min(total, max_pages))]}
    finally:
        pdf.close()


def _page(pdf, index: int) -> dict:
    page = pdf[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        lines, starts = [], []
        at = 0
        for raw in text.split("\r\n"):
            starts.append(at)
            lines.append(_line(textpage, raw, at))
            at += len(raw) + 2
        return {"lines": lines, "links": _links(pdf, page, textpage, text, starts)}
    finally:
        textpage.close()
        page.close()


def _line(textpage, raw: str, at: int) -> tuple[str, float, float, float, float, float]:
    first = next((i for i, ch in enumerate(raw) if not ch.isspace()), None)
    if first is None:
        return raw, 0.0, 0.0, 0.0, 0.0, 0.0
    last = len(raw.rstrip()) - 1
    try:
        left, bottom, right, top = textpage.get_charbox(at + first)
        # the tops of the font's boxes ("loose"): "S" and "s" starting two lines of one font
        # stand as far apart as the lines do, whatever their glyphs' heights
        line_top = textpage.get_charbox(at + first, loose=True)[3]
        end_top, end_left = line_top, left
        if "\ufffe" in raw:  # PDFium's mark of a line-end hyphen: it may have joined two lines
            end_top = textpage.get_charbox(at + last, loose=True)[3]
            if line_top - end_top > (top - bottom) / 2:  # two printed lines: the last starts
                end_left = _last_line_left(textpage, raw, at, first, last, end_top, top - bottom)
    except Exception:  # a box PDFium cannot give: layout falls back to the text alone
        return raw, 0.0, 0.0, 0.0, 0.0, 0.0
    box = round(left, 1), round(line_top, 1), round(top - bottom, 1)
    return raw, *box, round(end_top, 1), round(end_left, 1)


def _last_line_left(
    textpage, raw: str, at: int, first: int, last: int, end_top: float, height: float
) -> float:
    """The left of the first character printed on the last of the lines PDFium joined (spaces,
    whose boxes PDFium may place anywhere, are passed over). A character stands on the line
    above when its font box's top is more than half a glyph ``height`` higher: another font
    on the same line (an italic title, a bold label) tops its box a point or two apart."""
    start = last
    for i in range(last - 1, first - 1, -1):
        if raw[i].isspace() or raw[i] == "\ufffe":
            continue
        if textpage.get_charbox(at + i, loose=True)[3] - end_top > height / 2:
            break
        start = i
    return textpage.get_charbox(at + start)[0]


def _links(pdf, page, textpage, text: str, starts: list[int]) -> list[tuple]:
    """URI actions of the page's link annotations, each with the printed characters its
    rectangle covers (``_covered``)."""
    import pypdfium2.raw as raw

    out: list[tuple] = []
    for i in range(raw.FPDFPage_GetAnnotCount(page)):
        annot = raw.FPDFPage_GetAnnot(page, i)
        try:
            if raw.FPDFAnnot_GetSubtype(annot) != raw.FPDF_ANNOT_LINK:
                continue
            link = raw.FPDFAnnot_GetLink(annot)
            action = raw.FPDFLink_GetAction(link) if link else None
            if not action or raw.FPDFAction_GetType(action) != raw.PDFACTION_URI:
                continue
            size = raw.FPDFAction_GetURIPath(pdf, action, None, 0)
            if size <= 1 or size > 8192:
                continue
            buf = ctypes.create_string_buffer(size)
            raw.FPDFAction_GetURIPath(pdf, action, buf, size)
            uri = buf.value.decode("latin-1").strip()
            try:
                covered = _covered(raw, annot, textpage, text, starts)
            except Exception:  # a box PDFium cannot give: the link is attached to no entry
                covered = (-1, -1, -1, -1)
            out.append((uri, *covered))
        finally:
            raw.FPDFPage_CloseAnnot(annot)
    return out


def _covered(raw, annot, textpage, text: str, starts: list[int]) -> tuple[int, int, int, int]:
    """(line, first, end line, end): where the printed characters the annotation's rectangle
    covers start and end (a line of the page and an offset in it), the rectangle's centre
    character's line and -1s when no character is inside, all -1 without a centre character."""
    rect = raw.FS_RECTF()
    if not raw.FPDFAnnot_GetRect(annot, rect):
        return -1, -1, -1, -1
    box = (
        min(rect.left, rect.right),
        min(rect.bottom, rect.top),
        max(rect.left, rect.right),
        max(rect.bottom, rect.top),
    )
    middle = (box[1] + box[3]) / 2
    index = -1
    for x in ((box[0] + box[2]) / 2, box[0] + 2, box[2] - 2):  # the centre may be a gap
        index = textpage.get_index(x, middle, 5, 5)
        if index is not None and index >= 0:
            break
    if index is None or index < 0:
        return -1, -1, -1, -1
    line = bisect.bisect_right(starts, index) - 1
    hits = _inside(textpage, text, starts, box, index, line)
    if not hits:
        return line, -1, -1, -1
    first, last = min(hits), max(hits)
    first_line, last_line = (bisect.bisect_right(starts, k) - 1 for k in (first, last))
    return first_line, first - starts[first_line], last_line, last + 1 - starts[last_line]


def _inside(textpage, text: str, starts: list[int], box, index: int, line: int) -> list[int]:
    """Characters of the page whose boxes' centres lie inside ``box`` (left, bottom, right,
    top): on ``line``, outwards from ``index`` until one is outside; when the box is taller
    than a line (one rectangle over a link's two printed lines), also the lines around it."""
    left, bottom, right, top = box

    def inside(k: int) -> bool | None:  # None: a blank, whose box says nothing
        if k >= len(text) or text[k].isspace():
            return None
        x0, y0, x1, y1 = textpage.get_charbox(k)
        x, y = (x0 + x1) / 2, (y0 + y1) / 2
        return left - 1 <= x <= right + 1 and bottom - 1 <= y <= top + 1

    def bounds(n: int) -> range:
        return range(starts[n], starts[n + 1] - 2 if n + 1 < len(starts) else len(text))

    hits = []
    span = bounds(line)
    for step in (range(index, span.start - 1, -1), range(index + 1, span.stop)):
        for k in step:
            hit = inside(k)
            if hit is False:
                break
            if hit:
                hits.append(k)
    _, y0, _, y1 = textpage.get_charbox(index, loose=True)
    if top - bottom > 1.6 * (y1 - y0):
        near = range(max(line - 2, 0), min(line + 3, len(starts)))
        hits += [k for n in near if n != line for k in bounds(n) if inside(k)]
    return hits


def main() -> None:
    """Answer one JSON request a line: ``{"path", "max_pages"}`` -> ``{"result"}`` or
    ``{"error": "encrypted" | "memory" | "damaged", "reason"}``."""
    set_memory_limit(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"result": read_pages(request["path"], request["max_pages"])}
        except Encrypted:
            answer = {"error": "encrypted"}
        except MemoryError:
            answer = {"error": "memory"}
        except Exception as exc:  # PdfiumError and the like: a damaged file
            answer = {"error": "damaged", "reason": str(exc) or type(exc).__name__}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
