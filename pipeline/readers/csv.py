"""CSV and TSV: one paragraph per row, one line per cell; a cell of an identifier column
(``doi``, ``pmid``...) gets a synthetic label, so a bare number there counts as that scheme.

A column of cited references (Scopus' "References", Web of Science's "CR": the works a record
cites, "; " between them) comes after the row's other cells, each cited work a paragraph of its
own: its ids are neither the row's nor another cited work's."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from pipeline.identifiers import find_identifiers
from pipeline.readers import base
from pipeline.readers.base import LABELS, Builder, Piece, windows
from pipeline.readers.sniff import CITED_COLUMNS, column_key, id_column

__all__ = ["MAX_CELLS", "read_csv", "read_tsv"]


# A row ends at "\r\n", "\n" or a lone "\r" (classic Mac exports). A field is quoted only when the
# whole quoted form stands between delimiters; otherwise (an inch mark in ``5" screen``, an
# unterminated quote) it is unquoted text up to the next delimiter or line end.
_EOL = r"\r\n?|\n"
_CITED_SEP = re.compile(r";[ \t]+")  # between two cited works of a references cell
_CITED = "cited"  # the column key of a references column
_WOS_TAG = re.compile(r"[A-Z][A-Z0-9]")
_WOS_COLUMNS = {"DI": "doi", "PM": "pmid", "CR": _CITED}
# A numbered header cell ("Funding Text 1" in Scopus' CSV): a row with more cells than the
# header repeats that column (Funding Text 2, 3...) right after it, the named columns follow.
_NUMBERED = re.compile(r"\s1\s*\Z")


def _blank(delimiter: str) -> str:
    """Blanks allowed around a quoted field: never the delimiter (a TSV's tab)."""
    return "[ ]" if delimiter == "\t" else r"[ \t]"


def _csv_field(delimiter: str) -> re.Pattern[str]:
    d, blank = re.escape(delimiter), _blank(delimiter)
    return re.compile(
        rf'{blank}*"(?P<q>(?:[^"]|"")*)"{blank}*(?P<e>{d}|{_EOL}|\Z)'
        rf"|(?P<u>[^{d}\r\n]*)(?P<f>{d}|{_EOL}|\Z)"
    )


def _csv_rows(delimiter: str) -> re.Pattern[str]:
    """Whole rows as the field pattern reads them (atomic fields: the same first choice), so
    one C-level match finds the end of the last complete row of a buffer. A field that opens a
    quote still running at the end of the buffer is not read as unquoted text: its row is left
    for the next window, where the quote may close."""
    d, blank = re.escape(delimiter), _blank(delimiter)
    quoted = rf'{blank}*"(?:[^"]|"")*+"{blank}*(?={d}|[\r\n]|\Z)'
    still_open = rf'{blank}*"(?:[^"]|"")*+"?\Z'
    field = rf"(?>{quoted}|(?!{still_open})[^{d}\r\n]*+)"
    return re.compile(rf"(?:(?:{field}{d})*{field}(?:{_EOL}))*")


MAX_CELLS = 4096  # cells of one row held at a time (a file of one endless line: bounded)


def read_csv(chars: Iterable[str], delimiter: str = ",") -> Iterator[Piece]:
    """One paragraph per row, one line per cell; typed cells get a synthetic label."""
    pattern, b = _csv_field(delimiter), Builder()
    columns: list[str | None] | None = None
    row: list[tuple[str, int, int]] = []  # (value, file offset, line)
    first = 0  # column of row[0]: a row longer than MAX_CELLS is emitted in parts
    in_header = False  # the rest of a header row longer than MAX_CELLS is still to come

    repeat: int | None = None  # the header's last numbered column ("Funding Text 1")
    notice_seen = False  # a one-cell line before the header was read

    def end_row(complete: bool = True) -> None:
        nonlocal columns, first, in_header, repeat, notice_seen
        keys = _header_keys([v for v, _, _ in row]) if columns is None or in_header else []
        if keys:
            at = len(columns or ())
            numbered = [at + i for i, (v, _, _) in enumerate(row) if _NUMBERED.search(v)]
            repeat = numbered[-1] if numbered else repeat
        if columns is None and not _names_ids(keys) and not notice_seen and _one_cell(row):
            notice_seen, repeat = True, None  # a title line above the header (Dimensions:
            _emit_row(b, row, [], 0)  # "About the data: Exported on ..."): the next may be it
        elif columns is None:
            columns = keys  # the first row (its first MAX_CELLS cells decide) is a header...
            in_header = _names_ids(keys) and not complete
            if not _names_ids(keys):  # ...only if it names an identifier column; else it is data
                repeat = None
                _emit_row(b, row, columns, 0)
        elif in_header:
            columns.extend(keys)
            in_header = not complete
        elif complete and not first and repeat is not None and len(row) > len(columns):
            _emit_row(b, row, _repeated(columns, repeat, len(row) - len(columns)), 0)
        else:
            _emit_row(b, row, columns, first)
        first = 0 if complete else first + len(row)
        row.clear()

    blocks = windows(chars, _csv_cutter(delimiter))
    following = next(blocks, None)
    while following is not None:
        window, _prefix, offset, line = following
        following = next(blocks, None)  # only the file's last window ends a row at its end
        last = 0
        for m in pattern.finditer(window):
            if m.start() == len(window) and (not row or following is not None):
                break  # the empty match at the end of the window
            quoted = m.group("q") is not None
            value, at = (m.group("q"), m.start("q")) if quoted else (m.group("u"), m.start("u"))
            line += window.count("\n", last, at)
            last = at
            row.append((value, offset + at, line))
            if (m.group("e") if quoted else m.group("f")) == delimiter or (
                m.end() == len(window) and following is not None and not m.group().endswith("\n")
            ):
                if len(row) >= MAX_CELLS:
                    end_row(complete=False)
                continue
            end_row()
            if m.end() == len(window):
                break
        line += window.count("\n", last)
        if b.size:
            yield b.take()
    if row:  # the last row ended with a delimiter and no line break
        end_row()
        if b.size:
            yield b.take()


def _header_keys(names: list[str]) -> list[str | None]:
    """The key of each header cell; Web of Science's tab-delimited export names its columns by
    field tag ("PT", "AU", ... "DI", "PM", "UT"): DI is the DOI, PM the PMID, CR the cited works
    (D2, a book's DOI, and UT, WoS's accession number, are no ids of the record)."""
    tags = [n.strip().strip('"').lstrip("\ufeff") for n in names]
    if "PT" in tags and "UT" in tags and all(_WOS_TAG.fullmatch(t) for t in tags if t):
        return [_WOS_COLUMNS.get(t) for t in tags]
    return [_column(n) for n in names]


def _column(name: str) -> str | None:
    """A header cell's key: an identifier scheme, ``_CITED`` or None."""
    return _CITED if column_key(name) in CITED_COLUMNS else id_column(name)


def _repeated(columns: list[str | None], repeat: int, extra: int) -> list[str | None]:
    """The columns of a row ``extra`` cells longer than the header: the numbered column at
    ``repeat`` repeated (its repeats unnamed), the later names shifted right."""
    return [*columns[: repeat + 1], *[None] * extra, *columns[repeat + 1 :]]


def _one_cell(row: list[tuple[str, int, int]]) -> bool:
    """A row of one non-empty cell: a title line, not a header."""
    return sum(1 for v, _, _ in row if v.strip()) == 1


def _names_ids(keys: list[str | None]) -> bool:
    """A first row is a header when it names an identifier column."""
    return any(k is not None and k != _CITED for k in keys)


def _emit_row(
    b: Builder, row: list[tuple[str, int, int]], columns: list[str | None], first: int
) -> None:
    if not first:
        b.synth("\n\n")
    cited = []
    for i, (value, src, line) in enumerate(row, first):
        if not value.strip():
            continue  # an empty cell must not make a blank line, which would split the row
        scheme = columns[i] if i < len(columns) else None
        if scheme == _CITED:
            cited.append((value, src, line))
            continue
        # A bare value gets its column's label; a cell that names its identifier itself (a DOI
        # or "PMID: 1" in a pmid column) is scanned as written, so 10.1000/x is not PMID 10.
        if scheme is not None and (value.isdigit() or not find_identifiers(value)):
            b.synth(LABELS[scheme])
        b.real(value, src, line)
        b.synth("\n")
    for value, src, line in cited:
        _emit_cited(b, value, src, line)


def _emit_cited(b: Builder, value: str, src: int, line: int) -> None:
    """A references cell: each cited work a paragraph, so no two share a group."""
    start = 0
    for sep in [*_CITED_SEP.finditer(value), None]:
        end = sep.start() if sep is not None else len(value)
        if value[start:end].strip():
            b.synth("\n\n")
            b.real(value[start:end], src + start, line + value.count("\n", 0, start))
            b.synth("\n")
        if sep is not None:
            start = sep.end()


def _csv_cutter(delimiter: str) -> Callable[[str], tuple[int, str]]:
    rows = _csv_rows(delimiter)

    def cut(buf: str) -> tuple[int, str]:
        """After the last complete row, never inside a quoted cell that may go on. Linear in
        the buffer. A "row" longer than 4 pieces is not one: cut at a line break, else after a
        delimiter, anyway."""
        at = rows.match(buf).end()
        if at > 0 or len(buf) < 4 * base.PIECE_SIZE:
            return at, ""
        i = max(buf.rfind("\n"), buf.rfind("\r"), buf.rfind(delimiter))
        return (i + 1 if i > 0 else len(buf)), ""

    return cut


def read_tsv(chars: Iterable[str]) -> Iterator[Piece]:
    return read_csv(chars, "\t")
