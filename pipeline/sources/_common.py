"""What the three clients share: identifier checks and building raw answers and ledger entries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from pipeline.http import HttpAnswer, redact_text
from pipeline.records import Identifier, LedgerEntry, RawResponse


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
