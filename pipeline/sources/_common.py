"""What the three clients share: identifier checks and building raw answers and ledger entries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from pipeline.http import HttpAnswer, redact_text
from pipeline.records import Identifier, LedgerEntry, RawResponse

# A DOI spelled only with these characters is found by a ``doi:`` filter (OpenAlex ``|``-ORed,
# Crossref repeated) when the source has it, so a complete list answer without it settles it.
# Parentheses are in: openalexR#310 shows ``10.1016/S0168-1605(01)00734-6`` found by an OpenAlex
# OR filter, and Crossref's filter syntax reserves only ``,`` and ``:`` (rest-api-doc "Multiple
# filters"). Everything else is left to a singleton
# re-ask when missing: ``:`` and ``;`` (SICI DOIs, ``...35:4<469::aid-jbm6>3.0.co;2-h``) may
# clash with the filter syntax (``attr:value``, api-notes 1.4 and 4.2: "fall back to singleton
# lookups when a batch filter chokes"), ``<>[]#%&+`` need percent-encoding that rcrossref#254 and
# pyalex#41 show going wrong in filters, and a non-ASCII or quote character in a filter value
# found nothing where the works exist (openalex-api-tutorials#9: ``two's`` with U+2019).
PLAIN_DOI = re.compile(r"10\.[0-9.]+/[a-z0-9._/()-]+")


def plain_doi(value: str) -> bool:
    """Whether a normalised (lower-case) DOI has only PLAIN_DOI characters: ``doi:`` list filters
    find it when the source has it, so a complete list answer without it settles its absence."""
    return PLAIN_DOI.fullmatch(value) is not None


T = TypeVar("T")


def pack(items: Iterable[T], *, most: int, fits: Callable[[list[T]], bool]) -> list[list[T]]:
    """Items in order, in greedy batches of at most ``most`` whose ``fits(batch)`` holds (a
    request URL under its bound); an item that fits with no other starts a batch of its own."""
    batches: list[list[T]] = []
    for item in items:
        if batches and len(batches[-1]) < most:
            trial = [*batches[-1], item]
            if fits(trial):
                batches[-1] = trial
                continue
        batches.append([item])
    return batches


def now_utc() -> datetime:
    """The time stamped on raw answers and ledger outcomes (UTC, aware)."""
    return datetime.now(UTC)


def unique_identifiers(ids: Sequence[Identifier], schemes: frozenset[str], source: str):
    """Deduplicated identifiers in input order; ValueError for a scheme ``source`` cannot ask."""
    bad = sorted({i.scheme for i in ids if i.scheme not in schemes})
    if bad:
        raise ValueError(f"{source} cannot look up {', '.join(bad)} identifiers")
    return list(dict.fromkeys(Identifier(i.scheme, i.value) for i in ids))


def raw_response(
    source: str,
    endpoint: str,
    answer: HttpAnswer,
    requested: Iterable[Identifier],
    *,
    url: str | None = None,
) -> RawResponse:
    """An answer kept as received; ``url`` overrides the answer's (already redacted) URL."""
    return RawResponse(
        source=source,
        endpoint=endpoint,
        request_url=answer.url if url is None else url,
        http_status=answer.status,
        content_type=answer.content_type,
        body=answer.text,
        fetched_at=now_utc(),
        requested=tuple(requested),
    )


def ledger_entry(
    source: str,
    ident: Identifier,
    status: str,
    *,
    http_status: int | None,
    attempts: int,
    error: str | None = None,
    secrets: Sequence[str] = (),
) -> LedgerEntry:
    """One outcome for one identifier; the error line is redacted of ``secrets``."""
    return LedgerEntry(
        source=source,
        scheme=ident.scheme,
        value=ident.value,
        status=status,
        http_status=http_status,
        attempts=attempts,
        last_error=redact_text(error, secrets) if error else None,
        last_attempt_at=now_utc(),
    )
