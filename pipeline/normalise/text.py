"""Shared, pure helpers for the normalisers: text cleaning, dates, identifiers, JSON shapes.

Everything here is deterministic and never raises on odd input: a value that cannot be read
becomes ``None`` (or an empty tuple), never a guess.

DOI, PMID, PMCID and OpenAlex work ids are normalised by ``pipeline.identifiers`` (the
contract's forms); ORCID, ROR, ISSN and non-work OpenAlex ids (A/I/F/T) are local.
"""

from __future__ import annotations

import calendar
import html
import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLSyntaxError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from pipeline import identifiers
from pipeline.errors import ParseError
from pipeline.records import Identifier, RawResponse

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# JSON shape helpers: API bodies are untrusted, so every access goes through one of these.
# --------------------------------------------------------------------------------------------


def load_json(raw: RawResponse) -> Any:
    """Parse ``raw.body`` as JSON or raise ParseError with a one-line reason."""
    try:
        return json.loads(raw.body)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"{raw.source} {raw.endpoint}: body is not JSON ({exc.msg} at char {exc.pos})"
        ) from None
    except (RecursionError, TypeError, ValueError) as exc:
        raise ParseError(f"{raw.source} {raw.endpoint}: body is not JSON ({exc})") from None


def require_answer(raw: RawResponse) -> None:
    """Raise ParseError unless the HTTP status is 2xx: a 429 or 5xx body is not an answer, so
    it must never turn into records or into ``not_found``. (404 is handled by the callers that
    give it a meaning.)"""
    if not 200 <= raw.http_status < 300:
        raise ParseError(f"{raw.source} {raw.endpoint}: HTTP {raw.http_status} is not an answer")


def as_dict(value: Any) -> dict:
    """The value if it is a JSON object, else ``{}`` (so ``.get`` chains never raise)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    """The value if it is a JSON array, else ``[]`` (``null`` and stray strings included)."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """A non-blank string with whitespace collapsed, or None (numbers are not strings here)."""
    if not isinstance(value, str):
        return None
    return clean(value)


def as_int(value: Any) -> int | None:
    """An int from an int or a digit string ("12"); bools, floats and junk give None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def as_bool(value: Any) -> bool | None:
    """A real JSON boolean, else None ("false" as a string is not a boolean)."""
    return value if isinstance(value, bool) else None


def first_str(values: Any) -> str | None:
    """The first non-blank string of a list (Crossref ``title[]``), or the value if a string."""
    if isinstance(values, str):
        return as_str(values)
    for value in as_list(values):
        text = as_str(value)
        if text:
            return text
    return None


def unique(values: Iterable[Any]) -> tuple:
    """Drop Nones and repeats, keeping first-seen order (deterministic, unlike a set)."""
    return tuple(dict.fromkeys(v for v in values if v is not None))


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
# Only markup that publishers really put in titles; a bare "<" in "p < 0.05" must survive.
_INLINE_TAG = re.compile(
    r"</?(?:(?:jats|mml):)?(?:i|b|u|em|strong|sup|sub|sc|scp|span|italic|bold|underline|"
    r"monospace|small|br|inline-formula|math|mi|mo|mn|mrow|msub|msup)\b[^<>]*/?>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^<>]*>")
_BLOCK_TAG = re.compile(r"</?(?:jats:)?(?:p|title|sec|list-item)\b[^<>]*>", re.IGNORECASE)
_BLOCKS = frozenset({"p", "title", "sec", "list-item"})
_TITLE_MARK = "\x00T"  # marks a JATS <title> paragraph so it can prefix the next paragraph
_JATS_WRAPPER = (
    '<root xmlns:jats="http://www.ncbi.nlm.nih.gov/JATS1" '
    'xmlns:mml="http://www.w3.org/1998/Math/MathML" '
    'xmlns:xlink="http://www.w3.org/1999/xlink">{}</root>'
)


def clean(text: str | None) -> str | None:
    """Collapse runs of whitespace to one space and strip; blank gives None."""
    if not text:
        return None
    # Fast path (most API strings): every whitespace character but the ASCII space is
    # non-printable, so a printable text without double spaces only needs its ends stripped.
    if text.isprintable() and "  " not in text:
        return text.strip() or None
    out = _WS.sub(" ", text).strip()
    return out or None


def strip_inline_markup(text: str | None) -> str | None:
    """Remove inline HTML/JATS/MathML tags from a title and unescape entities.

    >>> strip_inline_markup("Growth of <i>E. coli</i> at p &lt; 0.05")
    'Growth of E. coli at p < 0.05'
    """
    if not text:
        return None
    return clean(html.unescape(_INLINE_TAG.sub("", text)))


def element_text(element: Element | None) -> str | None:
    """All text under an element, inline children included (never stops at the first child).

    ``<ArticleTitle>Role of <i>TP53</i> in H<sub>2</sub>O</ArticleTitle>`` -> "Role of TP53 in H2O".
    """
    if element is None:
        return None
    return clean("".join(element.itertext()))


def _local(tag: Any) -> str:
    """Tag name without namespace: "{http://...JATS1}p" -> "p"."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _jats_chunks(element: Element, out: list[str]) -> None:
    """Flatten JATS into text, with a paragraph break around every block element."""
    name = _local(element.tag)
    block = name in _BLOCKS
    if block:
        out.append("\n\n" + (_TITLE_MARK if name == "title" else ""))
    out.append(element.text or "")
    for child in element:
        _jats_chunks(child, out)
        out.append(child.tail or "")
    if block:
        out.append("\n\n")


def _paragraphs(flat: str) -> str | None:
    """Join paragraphs with a blank line; "Title" + paragraph become "Title: paragraph"."""
    paras = [p for p in (clean(x) for x in flat.split("\n\n")) if p]
    out: list[str] = []
    pending: str | None = None
    for para in paras:
        if para.startswith(_TITLE_MARK):
            title = clean(para[len(_TITLE_MARK) :])
            # The usual leading <jats:title>Abstract</jats:title> is a heading, not content.
            if title and not (not out and pending is None and title.lower() == "abstract"):
                if pending:
                    out.append(pending)
                pending = title
            continue
        out.append(f"{pending}: {para}" if pending else para)
        pending = None
    if pending:
        out.append(pending)
    return "\n\n".join(out) or None


def jats_to_text(jats: str | None) -> str | None:
    """Crossref's JATS abstract as plain text, paragraphs separated by a blank line.

    Parsed as XML (defusedxml: no entity expansion). A fragment that is not well-formed XML
    (HTML entities such as ``&nbsp;``, stray tags) falls back to tag stripping, never to an error.

    >>> jats_to_text('<jats:title>Abstract</jats:title><jats:p>We <jats:italic>did</jats:italic>.</jats:p>')
    'We did.'
    """
    if not isinstance(jats, str) or not jats.strip():
        return None
    chunks: list[str] = []
    try:
        _jats_chunks(safe_et.fromstring(_JATS_WRAPPER.format(jats)), chunks)
    except (XMLSyntaxError, DefusedXmlException, ValueError, RecursionError):
        flat = _BLOCK_TAG.sub(_block_replacement, jats)
        return _paragraphs(html.unescape(_ANY_TAG.sub("", flat)))
    return _paragraphs("".join(chunks))


def _block_replacement(match: re.Match) -> str:
    tag = match.group(0)
    is_title_open = re.match(r"<(?:jats:)?title\b", tag, re.IGNORECASE) is not None
    return "\n\n" + (_TITLE_MARK if is_title_open else "")


def rebuild_inverted_abstract(index: Any) -> str | None:
    """OpenAlex ``abstract_inverted_index`` back to text, words ordered by position, with HTML
    entities decoded and inline tags removed as in titles (the index keeps words as the
    publisher's HTML had them: ``"R&amp;D"``, ``"&lt;i&gt;E."``; pyalex#102).

    >>> rebuild_inverted_abstract({"Hello": [0], "world": [1, 3], "again": [2]})
    'Hello world again world'
    >>> rebuild_inverted_abstract({"R&amp;D": [0], "&lt;i&gt;in": [1], "vivo&lt;/i&gt;": [2]})
    'R&D in vivo'
    """
    pairs: list[tuple[int, str]] = []
    for word, positions in as_dict(index).items():
        if not isinstance(word, str):
            continue
        for pos in as_list(positions):
            if isinstance(pos, int) and not isinstance(pos, bool) and pos >= 0:
                pairs.append((pos, word))
    pairs.sort()  # ties broken by word, so a malformed index still rebuilds deterministically
    text = " ".join(word for _, word in pairs)
    if "&" not in text and "<" not in text:
        return clean(text)
    # decoded first, so that escaped tags (&lt;i&gt;) are tags when the markup is stripped
    return strip_inline_markup(html.unescape(text))


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
MIN_YEAR, MAX_YEAR = 1000, 2999  # four-digit ISO years; anything else is junk, not a date


def month_number(value: Any) -> int | None:
    """Month as 1-12 from "6", "06", "Jun" or "June"; None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1 <= value <= 12 else None
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text.isascii() and text.isdigit():
        return month_number(int(text))
    return _MONTHS.get(text[:3]) if len(text) >= 3 and text[:3].isalpha() else None


def iso_date(year: Any, month: Any = None, day: Any = None) -> tuple[int | None, str | None]:
    """(year, "YYYY[-MM[-DD]]") as precise as the parts allow; an invalid part ends the date.

    >>> iso_date(2023, 2, 30)
    (2023, '2023-02')
    """
    y = as_int(year)
    if y is None or not MIN_YEAR <= y <= MAX_YEAR:
        return None, None
    m = month_number(month) if month is not None else None
    if m is None:
        return y, f"{y:04d}"
    d = as_int(day)
    if d is None or not 1 <= d <= calendar.monthrange(y, m)[1]:
        return y, f"{y:04d}-{m:02d}"
    return y, f"{y:04d}-{m:02d}-{d:02d}"


def parse_iso_date(value: Any) -> tuple[int | None, str | None]:
    """Year and date from an ISO string such as "2023-06-01" or "2023-06-01T12:00:00"."""
    if not isinstance(value, str):
        return None, None
    match = _ISO_DATE.match(value.strip())
    if not match:
        return None, None
    return iso_date(*match.groups())


_MEDLINE_DATE = re.compile(r"^(\d{4})(?:\s+([A-Za-z]+)(?:\s+(\d{1,2}))?)?")


def parse_medline_date(value: Any) -> tuple[int | None, str | None]:
    """PubMed's free-text ``MedlineDate``: the year is its first four digits, the date only as
    precise as certain. A range ending at a part drops that part.

    >>> parse_medline_date("2023 Jun-Jul"), parse_medline_date("2023 Jun 15-21")
    ((2023, '2023'), (2023, '2023-06'))
    """
    if not isinstance(value, str):
        return None, None
    text = value.strip()
    year_match = re.search(r"\d{4}", text)
    if not year_match:
        return None, None
    year, year_only = iso_date(year_match.group(0))
    match = _MEDLINE_DATE.match(text)
    if year is None or not match:
        return year, year_only
    parts = [p for p in match.groups() if p is not None]
    rest = text[match.end() :].strip()
    if rest.startswith("-"):
        parts = parts[:-1]  # "Jun-Jul": the month is a range, so only the year is certain
    elif rest:
        parts = parts[:1]
    if len(parts) > 1 and month_number(parts[1]) is None:
        parts = parts[:1]  # "2000 Spring"
    _, date = iso_date(*parts) if parts else (year, None)
    return year, date or year_only


def earliest_date(*dates: str | None) -> str | None:
    """The earliest ISO date; a date inside a coarser one ("2023-05-20" in "2023") wins."""
    best: str | None = None
    for date in dates:
        if not date or (best is not None and best.startswith(date)):
            continue
        if best is None or date.startswith(best) or date < best:
            best = date
    return best


# --------------------------------------------------------------------------------------------
# Identifiers: DOI/PMID/PMCID/W-id go through pipeline.identifiers, so a value the extractor
# found in a seed and the same value an API returns normalise identically (the crosswalk joins
# on them). These wrappers only add what API payloads need: ints (idconv's pmid) and non-strings.
# --------------------------------------------------------------------------------------------

_ORCID = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$", re.IGNORECASE)
_ROR = re.compile(r"0[a-z0-9]{8}")
_ISSN = re.compile(r"^(\d{4})-?(\d{3}[\dX])$", re.IGNORECASE)


def _as_id_text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def norm_doi(value: Any) -> str | None:
    """ "https://doi.org/10.1111/EJH.70051." -> "10.1111/ejh.70051" (None if not a DOI)."""
    text = value if isinstance(value, str) else None
    return identifiers.normalise_doi(text) if text else None


def norm_pmid(value: Any) -> str | None:
    """123, "123", "https://pubmed.ncbi.nlm.nih.gov/123" or "pmid:123" -> "123"."""
    text = _as_id_text(value)
    return identifiers.normalise_pmid(text) if text else None


def norm_pmcid(value: Any) -> str | None:
    """ "PMC123", "123" or ".../pmc/articles/PMC123/" -> "PMC123"."""
    text = _as_id_text(value)
    return identifiers.normalise_pmcid(text) if text else None


_OPENALEX_URL = "https://openalex.org/"


def openalex_key(value: Any, prefix: str = "W") -> str | None:
    """ "https://openalex.org/W2741809807" -> "W2741809807"; also A/I/F/T/S ids by ``prefix``."""
    if not isinstance(value, str):
        return None
    if value.startswith(_OPENALEX_URL):  # the usual form: one slice, no strip/split
        text = value[len(_OPENALEX_URL) :]
        if text[:1] == prefix and text[1:].isdigit() and text[1:].isascii():
            return text
    text = value.strip().rstrip("/").rsplit("/", 1)[-1]
    if (
        len(text) < 2
        or text[0].upper() != prefix
        or not (text[1:].isascii() and text[1:].isdigit())
    ):
        return None
    return prefix + text[1:]


def norm_orcid(value: Any) -> str | None:
    """ "https://orcid.org/0000-0002-1825-0097" or "0000000218250097" -> "0000-0002-1825-0097"."""
    if not isinstance(value, str):
        return None
    match = _ORCID.search(value.strip().rstrip("/"))
    return "-".join(match.groups()).upper() if match else None


def norm_ror(value: Any) -> str | None:
    """ "https://ror.org/04fa4r544" -> "04fa4r544"."""
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("/").rsplit("/", 1)[-1].lower()
    return text if _ROR.fullmatch(text) else None


def norm_issn(value: Any) -> str | None:
    """ "1234-567x" or "1234567X" -> "1234-567X"."""
    if not isinstance(value, str):
        return None
    match = _ISSN.match(value.strip())
    return f"{match.group(1)}-{match.group(2).upper()}" if match else None


_NORMALISERS = {
    "doi": norm_doi,
    "pmid": norm_pmid,
    "pmcid": norm_pmcid,
    "openalex": openalex_key,
}


def make_id(scheme: str, value: Any) -> Identifier | None:
    """A normalised Identifier, or None when the value is not valid for its scheme."""
    normaliser = _NORMALISERS.get(scheme)
    normalised = normaliser(value) if normaliser else None
    return Identifier(scheme, normalised) if normalised else None


def canonical(identifier: Identifier) -> Identifier:
    """The requested identifier in normalised form, for matching against what came back."""
    return make_id(identifier.scheme, identifier.value) or identifier


def missing(requested: Iterable[Identifier], found: Iterable[Identifier]) -> tuple[Identifier, ...]:
    """Requested identifiers that no returned record asserts (as requested, order kept)."""
    seen = {canonical(i) for i in found}
    return unique(i for i in requested if canonical(i) not in seen)
