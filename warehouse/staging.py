"""Bulk staging: rows built in Python become one relation DuckDB can ``INSERT ... SELECT`` from.

Row-by-row ``executemany`` manages ~1.6k rows/s here; handing DuckDB whole columns is 50-100x
faster. With pyarrow installed the columns become an Arrow table registered on the connection
(zero-copy scan); without it they travel as typed list parameters that DuckDB ``unnest``s into a
temporary table (slower, still bulk). Either way the caller sees one relation named ``name``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from itertools import chain
from operator import itemgetter

import duckdb

try:  # optional: the fast path
    import pyarrow as pa
except ImportError:  # pragma: no cover - exercised by forcing USE_ARROW off in tests
    pa = None

USE_ARROW = pa is not None
# A Python str holds surrogates only unpaired (json.loads joins valid pairs), so each is lone.
_SURROGATE = re.compile("[\ud800-\udfff]")

Spec = Sequence[tuple[str, str]]  # (column name, DuckDB type)


def _arrow_type(duck_type: str):
    types = {
        "varchar": pa.string(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "boolean": pa.bool_(),
        "double": pa.float64(),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "varchar[]": pa.list_(pa.string()),
    }
    return types[duck_type]


def text_safe(value: str) -> str:
    """``value`` as encodable UTF-8: a lone surrogate (JSON's ``"\\ud800"`` escape decodes to one)
    becomes U+FFFD instead of failing the whole batch's load (neither DuckDB nor Arrow can store
    it). ASCII strings, the common case, are returned untouched without an encode."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)
    return value


def _safe_cell(value):
    if isinstance(value, str):
        return text_safe(value)
    if isinstance(value, list):
        return [text_safe(v) if isinstance(v, str) else v for v in value]
    return value


def _storable(column: tuple, duck_type: str) -> bool:
    """Whether every text in ``column`` is storable as is, checked with one join and one C-level
    test for the whole column (the per-cell check cost more than the insert it guarded)."""
    if duck_type not in ("varchar", "varchar[]"):
        return True
    try:
        cells = filter(None, column)
        joined = "".join(chain.from_iterable(cells) if duck_type == "varchar[]" else cells)
    except TypeError:  # a non-text cell: let the per-cell path (and DuckDB) judge it
        return False
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def columns_of(rows: Sequence[tuple], spec: Spec) -> list[Sequence]:
    """Transpose row tuples into columns (``len(spec)`` columns even when there are no rows),
    text made storable (see ``text_safe``): a column is copied cell by cell only when it holds
    something to repair."""
    if not rows:
        return [[] for _ in spec]
    columns = list(zip(*rows, strict=True))
    return [
        col if _storable(col, typ) else [_safe_cell(v) for v in col]
        for col, (_, typ) in zip(columns, spec, strict=True)
    ]


def arrow_table(rows: Sequence[tuple], spec: Spec):
    """``rows`` (tuples in ``spec`` order) as an Arrow table of ``spec``'s column types, text
    made storable: the Python-side cost of staging (``bench ingest`` times it as "stage").

    Arrow is handed the columns as they are: it refuses a lone surrogate itself (it encodes
    every text to UTF-8 anyway), and only then are the columns repaired (``columns_of``), so
    the common case pays no check of its own (that check was a fifth of staging)."""
    schema = pa.schema([(col, _arrow_type(typ)) for col, typ in spec])
    try:
        return pa.table(_transposed(rows, len(spec)), schema=schema)
    except UnicodeEncodeError:
        return pa.table(columns_of(rows, spec), schema=schema)


def _transposed(rows: Sequence[tuple], width: int) -> list[list]:
    """``rows`` as ``width`` columns; every row must have ``width`` cells."""
    if rows and set(map(len, rows)) != {width}:
        raise ValueError(f"staged rows must have the {width} cells of their spec")
    # a C-level pass per column: zip(*rows) builds an iterator per row and costs twice as much
    return [list(map(itemgetter(n), rows)) for n in range(width)]


@contextmanager
def staged(
    con: duckdb.DuckDBPyConnection, name: str, *, spec: Spec, rows: Sequence[tuple]
) -> Iterator[str]:
    """Expose ``rows`` (tuples in ``spec`` order) as relation ``name`` for the ``with`` block."""
    if USE_ARROW:
        con.register(name, arrow_table(rows, spec))
        with _cleanup(lambda: con.unregister(name)):
            yield name
        return
    cols = columns_of(rows, spec)
    # The names and types come from this package's specs, never from data; values are parameters.
    select = ", ".join(f'unnest(${i + 1}::{typ}[]) as "{col}"' for i, (col, typ) in enumerate(spec))
    con.execute(f"create or replace temp table {name} as select {select}", [list(c) for c in cols])
    with _cleanup(lambda: con.execute(f"drop table if exists {name}")):
        yield name


@contextmanager
def _cleanup(undo) -> Iterator[None]:
    """Run ``undo`` after the block. When the block failed, a failing ``undo`` (inside the
    transaction the failure aborted: "Current transaction is aborted") must not replace the
    block's own error, e.g. DuckDB's out-of-memory, which is the one worth reporting."""
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            undo()
        raise
    undo()
