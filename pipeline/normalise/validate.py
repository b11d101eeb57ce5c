"""Field validation: every value a normaliser emits fits the column that will hold it.

APIs do send odd values: a negative or 20-digit ``cited_by_count``, a ``counts_by_year`` entry
of -3, ``ids`` as a list. The warehouse's columns and checks (``warehouse/schema.sql``: bigint
counts ``>= 0``, integer positions ``>= 1``...) would refuse such a value, and one refused value
used to abort the whole load, every run. So each normaliser hands its records to ``validated``
before returning them: a bad field becomes null (a bad entry of a list is left out) and a
``DataQualityNote`` says which record, which field, what came and what was done; the rest of the
record loads. A record whose own key or identifiers are unusable cannot load at all: it is left
out with a ``record_skipped`` note, and the flow marks the identifiers it answered ``failed``.

``shape_notes`` does the same for the JSON shapes a normaliser reads (``ids`` must be an
object, ``authorships`` an array...): the normalisers already read a value of the wrong shape as
absent; the note says so instead of losing it silently.

The bounds below mirror ``warehouse/schema.sql``; ``tests/pipeline/normalise/test_validate.py``
checks them against it, so the two cannot drift apart. Hand-written rather than pydantic: a
pydantic model rejects a whole object at its first error, while this repairs field by field, on
the hot path (every field of every record, ~3,800 works/s).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from pipeline.records import (
    SCHEMES,
    AuthorRecord,
    CitationCount,
    CitationLink,
    DataQualityNote,
    FunderRecord,
    Identifier,
    IdentityLink,
    Institution,
    Normalised,
    ReferenceRecord,
    SourceRecord,
    TopicRecord,
    UpdateRecord,
    VersionRecord,
)

INT32 = (-(2**31), 2**31 - 1)  # DuckDB integer
COUNT = (0, 2**63 - 1)  # bigint check (... >= 0): cited_by_count, counts_by_year
SMALL_COUNT = (0, 2**31 - 1)  # integer check (... >= 0): reference_count
POSITION = (1, 2**31 - 1)  # integer check (position >= 1): authorships.position
RAW_VALUE_CHARS = 200  # a note keeps this much of the value as received

_Bounds = tuple[int, int]


class _Context:
    """Where the notes of one record go, and what they name."""

    __slots__ = ("source", "key", "raw_id", "notes")

    def __init__(self, source: str, key: str | None, raw_id: str | None) -> None:
        self.source, self.key, self.raw_id = source, key, raw_id
        self.notes: list[DataQualityNote] = []

    def note(self, path: str, value: Any, problem: str, action: str) -> None:
        self.notes.append(
            DataQualityNote(
                self.source, self.key, path, raw_text(value), problem, action, self.raw_id
            )
        )


def raw_text(value: Any) -> str | None:
    """A value as received, as JSON text cut to RAW_VALUE_CHARS (None stays None)."""
    if value is None:
        return None
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, TypeError, RecursionError):  # an int past Python's digit limit...
        text = f"<{type(value).__name__}>"
    return text if len(text) <= RAW_VALUE_CHARS else text[: RAW_VALUE_CHARS - 3] + "..."


def _int_problem(value: Any, bounds: _Bounds) -> str | None:
    """Why ``value`` cannot be stored in an integer column within ``bounds`` (None: it can)."""
    if type(value) is not int:  # bool is an int subclass, and no count is a bool
        return f"not an integer ({type(value).__name__})"
    lo, hi = bounds
    if value < lo:
        return "negative" if lo == 0 and value < 0 else f"below {lo}"
    if value > hi:
        if hi == 2**63 - 1:
            return "over the int64 range"
        return "over the int32 range" if hi == 2**31 - 1 else f"over {hi}"
    return None


# -- one check per kind of field -------------------------------------------------------------
# A check takes (value, path, context) and returns the value to keep; ``_FAIL`` means "required
# and unusable": the object holding the field cannot be kept. Each check also carries ``fast``,
# the same test as a Python expression over ``{v}`` without notes; a spec compiles its checks'
# expressions into one predicate (``_compile``), so a record that is fine, nearly every record,
# costs one call instead of one per field (validating went from 45% to ~10% of normalising).

_FAIL = object()


def _fast(template: str) -> Callable:
    def mark(check: Callable) -> Callable:
        check.fast = template  # type: ignore[attr-defined]
        return check

    return mark


def _text(required: bool) -> Callable[[Any, str, _Context], Any]:
    @_fast("(type({v}) is str and {v} != '')" if required else "({v} is None or type({v}) is str)")
    def check(value: Any, path: str, ctx: _Context) -> Any:
        if type(value) is str and (value or not required):
            return value
        if value is None and not required:
            return None
        problem = "empty" if value == "" else f"not a string ({type(value).__name__})"
        if required:
            ctx.note(path, value, problem, "record_skipped")
            return _FAIL
        ctx.note(path, value, problem, "nulled")
        return None

    return check


def _integer(bounds: _Bounds, required: bool = False) -> Callable[[Any, str, _Context], Any]:
    test = f"(type({{v}}) is int and {bounds[0]} <= {{v}} <= {bounds[1]})"

    @_fast(test if required else f"({{v}} is None or {test})")
    def check(value: Any, path: str, ctx: _Context) -> Any:
        if value is None and not required:
            return None
        problem = _int_problem(value, bounds)
        if problem is None:
            return value
        ctx.note(path, value, problem, "record_skipped" if required else "nulled")
        return _FAIL if required else None

    return check


def _boolean(required: bool = False) -> Callable[[Any, str, _Context], Any]:
    @_fast("(type({v}) is bool)" if required else "({v} is None or type({v}) is bool)")
    def check(value: Any, path: str, ctx: _Context) -> Any:
        if type(value) is bool or (value is None and not required):
            return value
        ctx.note(path, value, "not a boolean", "record_skipped" if required else "nulled")
        return _FAIL if required else None

    return check


@_fast("({v} is None or (type({v}) is float and _isfinite({v})))")
def _score(value: Any, path: str, ctx: _Context) -> Any:
    if value is None or (type(value) is float and math.isfinite(value)):
        return value
    ctx.note(path, value, "not a finite number", "nulled")
    return None


def _all_str(values: tuple) -> bool:
    for v in values:
        if type(v) is not str:
            return False
    return True


@_fast("(type({v}) is tuple and (not {v} or _all_str({v})))")
def _strings(value: Any, path: str, ctx: _Context) -> Any:
    """A tuple of strings; other entries are dropped."""
    if type(value) is tuple and _all_str(value):
        return value
    if type(value) is not tuple:
        ctx.note(path, value, "not a list", "nulled")
        return ()
    kept = []
    for n, v in enumerate(value):
        if type(v) is str:
            kept.append(v)
        else:
            ctx.note(f"{path}[{n}]", v, f"not a string ({type(v).__name__})", "dropped")
    return tuple(kept)


_SCHEMES = frozenset(SCHEMES)


def _identifier(value: Any) -> str | None:
    if type(value) is not Identifier or len(value) != 2:
        return f"not an identifier ({type(value).__name__})"
    if value.scheme not in _SCHEMES:
        return f"unknown scheme {value.scheme!r}"
    if type(value.value) is not str or not value.value:
        return "empty or not a string"
    return None


def _ids_ok(values: tuple) -> bool:
    for ident in values:
        if _identifier(ident) is not None:
            return False
    return True


@_fast("(type({v}) is tuple and (not {v} or _ids_ok({v})))")
def _identifiers(value: Any, path: str, ctx: _Context) -> Any:
    """A tuple of Identifiers; bad entries are dropped."""
    if type(value) is not tuple:
        ctx.note(path, value, "not a list", "nulled")
        return ()
    kept = []
    for n, ident in enumerate(value):
        problem = _identifier(ident)
        if problem is None:
            kept.append(ident)
        else:
            ctx.note(f"{path}[{n}]", _as_plain(ident), problem, "dropped")
    return tuple(kept) if len(kept) != len(value) else value


def _pair_problem(pair: Any) -> tuple[str, Any, str] | None:
    """(field, value, problem) when a (year, count) pair cannot be stored, else None."""
    if type(pair) is not tuple or len(pair) != 2:
        return "", _as_plain(pair), "not a (year, count) pair"
    year, count = pair
    problem = _int_problem(year, INT32)
    if problem is not None:
        return ".year", year, problem
    problem = _int_problem(count, COUNT)
    return (".cited_by_count", count, problem) if problem is not None else None


def _pairs_ok(values: tuple) -> bool:
    for pair in values:
        if _pair_problem(pair) is not None:
            return False
    return True


@_fast("(type({v}) is tuple and (not {v} or _pairs_ok({v})))")
def _year_counts(value: Any, path: str, ctx: _Context) -> Any:
    """counts_by_year: (year, count) pairs; a pair whose year or count cannot be stored is
    dropped (counts_by_year.cited_by_count is not null)."""
    if type(value) is not tuple:
        ctx.note(path, value, "not a list", "nulled")
        return ()
    kept = []
    for n, pair in enumerate(value):
        bad = _pair_problem(pair)
        if bad is None:
            kept.append(pair)
        else:
            field, raw, problem = bad
            ctx.note(f"{path}[{n}]{field}", raw, problem, "dropped")
    return tuple(kept) if len(kept) != len(value) else value


class _Spec:
    """The checks of every field of one record type, and their compiled fast predicate."""

    def __init__(self, cls: type, fields: Iterable[tuple[str, Callable]]) -> None:
        self.cls = cls
        self.fields = tuple(fields)
        self.fast = _compile(self)


# The names the compiled predicates may use. eval() over expressions this module writes itself
# (never over data), as the standard library's dataclasses builds its __init__ methods.
_NAMESPACE: dict[str, Any] = {
    "_isfinite": math.isfinite, "_all_str": _all_str, "_ids_ok": _ids_ok,
    "_pairs_ok": _pairs_ok, "_Identifier": Identifier,
}  # fmt: skip


def _compile(spec: _Spec) -> Callable[[Any], bool]:
    """One predicate: True when every field of an object passes its check unchanged."""
    name = f"_cls_{spec.cls.__name__}"
    _NAMESPACE[name] = spec.cls
    tests = [check.fast.replace("{v}", f"o.{field}") for field, check in spec.fields]
    return eval(f"lambda o: type(o) is {name} and " + " and ".join(tests), _NAMESPACE)  # noqa: S307


def _nested(spec: _Spec) -> Callable[[Any, str, _Context], Any]:
    """A tuple of records checked with ``spec``; a record that cannot be kept is dropped."""
    name = f"_fast_{spec.cls.__name__}"
    _NAMESPACE[name] = spec.fast

    @_fast(f"(type({{v}}) is tuple and (not {{v}} or all(map({name}, {{v}}))))")
    def check(value: Any, path: str, ctx: _Context) -> Any:
        if type(value) is not tuple:
            ctx.note(path, value, "not a list", "nulled")
            return ()
        kept, changed = [], False
        for n, item in enumerate(value):
            fixed = _check_object(item, spec, f"{path}[{n}]", ctx, drop_action="dropped")
            changed |= fixed is not item
            if fixed is not None:
                kept.append(fixed)
        return tuple(kept) if changed else value

    return check


# -- the specs: every field of every record a normaliser emits ---------------------------------

OPT_TEXT, REQ_TEXT = _text(False), _text(True)

INSTITUTION = _Spec(
    Institution,
    ((name, OPT_TEXT) for name in ("name", "ror", "openalex_id", "country_code", "type")),
)
AUTHOR = _Spec(
    AuthorRecord,
    (
        ("position", _integer(POSITION, required=True)),
        ("raw_name", REQ_TEXT),
        *((name, OPT_TEXT) for name in ("family", "given", "initials", "orcid", "openalex_id")),
        ("is_collective", _boolean(required=True)),
        ("is_corresponding", _boolean()),
        ("affiliations", _strings),
        ("institutions", _nested(INSTITUTION)),
    ),
)
REFERENCE = _Spec(
    ReferenceRecord,
    (
        ("scheme", OPT_TEXT),
        ("value", OPT_TEXT),
        ("position", _integer(INT32)),
        ("unstructured", OPT_TEXT),
    ),
)
FUNDER = _Spec(FunderRecord, (("name", OPT_TEXT), ("funder_id", OPT_TEXT), ("award_ids", _strings)))
TOPIC = _Spec(
    TopicRecord,
    (
        ("vocabulary", REQ_TEXT),
        ("term", REQ_TEXT),
        ("term_id", OPT_TEXT),
        ("qualifiers", _strings),
        ("is_major", _boolean()),
        ("score", _score),
    ),
)


@_fast("(_identifier_ok({v}))")
def _one_identifier(value: Any, path: str, ctx: _Context) -> Any:
    problem = _identifier(value)
    if problem is None:
        return value
    ctx.note(path, _as_plain(value), problem, "record_skipped")
    return _FAIL


_NAMESPACE["_identifier_ok"] = lambda value: _identifier(value) is None


@_fast("({v} is None or _identifier_ok({v}))")
def _optional_identifier(value: Any, path: str, ctx: _Context) -> Any:
    if value is None or _identifier(value) is None:
        return value
    ctx.note(path, _as_plain(value), _identifier(value), "nulled")
    return None


# A retraction, correction... (work_updates): its kind and target are its key; an entry without
# them is dropped from the record, the rest of the record loads.
UPDATE = _Spec(
    UpdateRecord,
    (
        ("kind", REQ_TEXT),
        ("target", _one_identifier),
        ("notice", _optional_identifier),
        *((name, OPT_TEXT) for name in ("date", "label", "asserted_by", "record_id", "note")),
    ),
)
# Another version of the work (work_versions): relation and the other id are its key.
VERSION = _Spec(
    VersionRecord,
    (
        ("relation", REQ_TEXT),
        ("other", _one_identifier),
        ("version", OPT_TEXT),
        ("asserted_by", OPT_TEXT),
    ),
)
_RECORD_TEXT = (
    "raw_id", "title", "publication_date", "venue", "venue_abbrev", "issn_l", "publisher", "type",
    "volume", "issue", "pages", "abstract", "language", "oa_status", "license", "updated_date",
)  # fmt: skip
SOURCE_RECORD = _Spec(
    SourceRecord,
    (
        ("source", REQ_TEXT),
        ("source_key", REQ_TEXT),
        ("ids", _identifiers),
        *((name, OPT_TEXT) for name in _RECORD_TEXT),
        ("publication_year", _integer(INT32)),
        ("issns", _strings),
        ("is_oa", _boolean()),
        ("is_retracted", _boolean()),
        ("authors", _nested(AUTHOR)),
        ("references", _nested(REFERENCE)),
        ("reference_count", _integer(SMALL_COUNT)),
        ("funders", _nested(FUNDER)),
        ("topics", _nested(TOPIC)),
        ("publication_types", _strings),
        ("cited_by_count", _integer(COUNT)),
        ("counts_by_year", _year_counts),
        ("aliases", _identifiers),
        ("updates", _nested(UPDATE)),
        ("versions", _nested(VERSION)),
        ("change_key", OPT_TEXT),
    ),
)


CITATION_COUNT = _Spec(
    CitationCount,
    (
        ("source", REQ_TEXT),
        ("id", _one_identifier),
        ("cited_by_count", _integer(COUNT, required=True)),
        ("counts_by_year", _year_counts),
        ("updated_date", OPT_TEXT),
        ("change_key", OPT_TEXT),
    ),
)
IDENTITY_LINK = _Spec(IdentityLink, (("source", REQ_TEXT), ("ids", _identifiers)))
# One work citing another (work_citations): the cited id asked about is required; citing ids
# that cannot be stored are dropped (a link left with none is skipped: see _with_citing).
CITATION_LINK = _Spec(
    CitationLink,
    (
        ("source", REQ_TEXT),
        ("cited", _one_identifier),
        ("citing", _identifiers),
        ("position", _integer(INT32)),
        ("raw_id", OPT_TEXT),
    ),
)


def _check_object(obj: Any, spec: _Spec, path: str, ctx: _Context, *, drop_action: str) -> Any:
    """``obj`` with every field checked: the same object when all are fine, a repaired copy,
    or None when a required field is unusable (a note says so)."""
    if spec.fast(obj):
        return obj
    cls = spec.cls
    if type(obj) is not cls:
        ctx.note(path or cls.__name__, _as_plain(obj), f"not a {cls.__name__}", drop_action)
        return None
    changes: dict[str, Any] = {}
    prefix = f"{path}." if path else ""
    for name, check in spec.fields:
        value = getattr(obj, name)
        kept = check(value, prefix + name, ctx)
        if kept is _FAIL:
            if drop_action != "record_skipped":  # the note said record_skipped; retitle it
                last = ctx.notes[-1]
                ctx.notes[-1] = replace(last, action=drop_action)
            return None
        if kept is not value:
            changes[name] = kept
    return replace(obj, **changes) if changes else obj


def _as_plain(value: Any) -> Any:
    """Records and identifiers as JSON-friendly values, for a note's raw_value."""
    if isinstance(value, Identifier):
        return f"{value.scheme}:{value.value}"
    if isinstance(value, tuple):
        return [_as_plain(v) for v in value]
    return value


# -- entry points -----------------------------------------------------------------------------


def validated(normalised: Normalised, *, source: str, raw_id: str | None) -> Normalised:
    """``normalised`` with every record, count and link checked field by field (see the module
    docstring); the notes of what was repaired or left out are added to ``normalised.notes``.

    >>> n = Normalised(records=(SourceRecord("openalex", "W1", (Identifier("openalex", "W1"),),
    ...                                      cited_by_count=-5),))
    >>> fixed = validated(n, source="openalex", raw_id="r1")
    >>> fixed.records[0].cited_by_count, fixed.notes[0].problem, fixed.notes[0].action
    (None, 'negative', 'nulled')
    """
    notes = list(normalised.notes)
    records = _checked(normalised.records, SOURCE_RECORD, source, raw_id, notes, _record_key)
    counts = _checked(normalised.counts, CITATION_COUNT, source, raw_id, notes, _count_key)
    links = _checked(normalised.links, IDENTITY_LINK, source, raw_id, notes, lambda _: None)
    records = _with_ids(records, source, raw_id, notes)
    citations = normalised.citations
    if citations:
        citations = _checked(citations, CITATION_LINK, source, raw_id, notes, _cited_key)
        citations = _with_citing(citations, source, raw_id, notes)
    modified = normalised.modified
    if modified and not _ids_ok(modified):
        ctx = _Context(source, None, raw_id)
        modified = _identifiers(modified, "modified", ctx)
        notes.extend(ctx.notes)
    if (
        len(notes) == len(normalised.notes)
        and records is normalised.records
        and counts is normalised.counts
        and links is normalised.links
        and citations is normalised.citations
        and modified is normalised.modified
    ):
        return normalised
    return replace(
        normalised,
        records=records,
        counts=counts,
        links=links,
        citations=citations,
        modified=modified,
        notes=tuple(notes),
    )


def _checked(items, spec, source, raw_id, notes, key_of) -> tuple:
    kept, changed = [], False
    for item in items:
        ctx = _Context(source, key_of(item), raw_id)
        fixed = _check_object(item, spec, "", ctx, drop_action="record_skipped")
        notes.extend(ctx.notes)
        changed |= fixed is not item
        if fixed is not None:
            kept.append(fixed)
    return tuple(kept) if changed else items


def _with_ids(records: tuple, source: str, raw_id: str | None, notes: list) -> tuple:
    """A record asserting no identifier at all cannot join any work: it is skipped."""
    if all(r.ids or r.aliases for r in records):
        return records
    kept = []
    for r in records:
        if r.ids or r.aliases:
            kept.append(r)
        else:
            notes.append(
                DataQualityNote(
                    source,
                    r.source_key,
                    "ids",
                    "[]",
                    "no usable identifier",
                    "record_skipped",
                    raw_id,
                )  # fmt: skip
            )
    return tuple(kept)


def _with_citing(citations: tuple, source: str, raw_id: str | None, notes: list) -> tuple:
    """A citing link whose citing work has no usable identifier names no work: it is skipped."""
    if all(c.citing for c in citations):
        return citations
    for c in citations:
        if not c.citing:
            notes.append(
                DataQualityNote(
                    source,
                    _cited_key(c),
                    "citing",
                    "[]",
                    "no usable identifier of the citing work",
                    "record_skipped",
                    raw_id,
                )  # fmt: skip
            )
    return tuple(c for c in citations if c.citing)


def _cited_key(link: Any) -> str | None:
    ident = getattr(link, "cited", None)
    return str(ident) if isinstance(ident, Identifier) else None


def _record_key(record: Any) -> str | None:
    key = getattr(record, "source_key", None)
    return key if type(key) is str else None


def _count_key(count: Any) -> str | None:
    ident = getattr(count, "id", None)
    return str(ident) if isinstance(ident, Identifier) else None


# JSON shapes as a normaliser reads them (``shape_notes``). "integer" also admits a string of
# digits, which the normalisers read as a number (``as_int``).
_SHAPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, str) and v.strip().isascii() and v.strip().isdigit())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}
# The exact Python types json.loads gives for each shape: a value of one of them passes without
# a call (the common case); anything else gets the full test above.
_SHAPE_TYPES = {
    "object": {dict}, "array": {list}, "string": {str}, "boolean": {bool}, "integer": {int},
    "number": {int, float},
}  # fmt: skip
_ARTICLE = {"object": "an object", "array": "an array", "integer": "an integer"}

Shapes = tuple[tuple[str, frozenset, tuple[str, ...]], ...]


def shapes(expected: Mapping[str, str | tuple[str, ...]]) -> Shapes:
    """The expected JSON shape of each field (``{"ids": "object", "title": ("array",
    "string")}``), prepared for ``shape_notes``."""
    out = []
    for name, kinds in expected.items():
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        out.append((name, frozenset(t for k in kinds for t in _SHAPE_TYPES[k]), kinds))
    return tuple(out)


def shape_notes(
    obj: Mapping[str, Any],
    expected: Shapes,
    *,
    source: str,
    key: str | None,
    raw_id: str | None,
) -> list[DataQualityNote]:
    """Notes for every field of ``obj`` present, not null, and not of its ``expected`` shape
    (see ``shapes``); the normalisers read such a value as absent.

    >>> [n.problem for n in shape_notes({"ids": ["x"]}, shapes({"ids": "object"}),
    ...                                  source="openalex", key="W1", raw_id=None)]
    ['an array where an object belongs']
    """
    notes = []
    for name, types, kinds in expected:
        value = obj.get(name)
        if value is None or type(value) in types or any(_SHAPES[k](value) for k in kinds):
            continue
        wanted = " or ".join(_ARTICLE.get(k, f"a {k}") for k in kinds)
        problem = f"{_json_kind(value)} where {wanted} belongs"
        notes.append(
            DataQualityNote(source, key, name, raw_text(value), problem, "ignored", raw_id)
        )
    return notes


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else f"a {type(value).__name__}"


def skipped_note(
    source: str, field: str, value: Any, problem: str, *, raw_id: str | None
) -> DataQualityNote:
    """The note for a record a normaliser could not read at all (no usable key)."""
    return DataQualityNote(source, None, field, raw_text(value), problem, "record_skipped", raw_id)


def notes_of(items: Iterable[Normalised]) -> list[DataQualityNote]:
    """Every note of ``items``, in order."""
    return [note for n in items for note in n.notes]
