"""Text made safe to print on a terminal: the one helper every human-readable output uses.

A file name, a title or an error line from a server can hold a newline (a fake second line),
an escape sequence (``ESC ]0;...`` retitles the window, ``ESC [2J`` clears the screen) or a bidi
override (``U+202E`` shows ``txt.exe`` as ``exe.txt``). ``printable`` shows each such character
as an escape instead, the way ``ls -b`` does: ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``. A byte
that was not valid UTF-8 in a file name (Python keeps it as a lone surrogate, U+DC80-U+DCFF, which
would make ``print`` raise) is shown as that byte, ``\\xe9``. Everything else, accents and CJK
included, is left alone. Backslashes are left alone too: no output of ours parses them back.

Machine formats (``--format json``/``csv``) have their own quoting and do not use this.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Unicode's bidirectional formatting characters (UAX #9): embeddings, overrides, isolates, marks.
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]:  # C0, DEL, C1 controls
        table[code] = _NAMED.get(chr(code), f"\\x{code:02x}")
    for code in [0x2028, 0x2029, *_BIDI]:  # line/paragraph separators, bidi controls
        table[code] = f"\\u{code:04x}"
    for code in range(0xD800, 0xE000):  # lone surrogates; DC80-DCFF are undecodable bytes
        table[code] = f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
    return table


_ESCAPES = _table()


def printable(text: object) -> str:
    """``text`` (made a string) with control, separator and bidi characters escaped.

    >>> printable("seeds/evil\\n\\x1b[31mname\\u202e.txt")
    'seeds/evil\\\\n\\\\x1b[31mname\\\\u202e.txt'
    """
    text = text if isinstance(text, str) else str(text)
    if text.isascii() and text.isprintable():  # the common case: nothing to escape
        return text
    return text.translate(_ESCAPES)
