"""Outcomes that stay true when an answer, a record or a client could not be used.

A client says ``ok`` when the answer mentions the identifier; what is loaded is what the
normaliser makes of that answer. When the two part (the body could not be read, a record had no
usable key, the load refused a row, the client itself raised), the identifier must not stay
``ok`` with nothing loaded, nor be left without a ledger row: it becomes ``failed`` with the
reason, and the next run asks again. Every failure is data.

- ``unreadable_note``: the note for an answer the normaliser refused (``answer_skipped``).
- ``settle_unloaded``: a batch whose ``ok`` outcomes no loaded record backs become ``failed``.
- ``without_records``: a batch reduced to its answers and outcomes, ``ok`` now ``failed``, for a
  load that refused its records.
- ``guarded``: a client's batches, plus ``failed`` outcomes for what it never settled if it
  raises.
- ``is_data_error``: a DuckDB error about the rows of one load, not about the disk or the file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from flows.interrupt import Interrupted
from pipeline.records import (
    DataQualityNote,
    FetchBatch,
    Identifier,
    LedgerEntry,
    Normalised,
    RawResponse,
)

log = logging.getLogger("flows.settle")

SKIPPED_ACTIONS = frozenset({"record_skipped", "answer_skipped"})


def unreadable_note(raw: RawResponse, reason: str) -> DataQualityNote:
    """An answer the normaliser refused: its first 200 characters and why."""
    from pipeline.normalise.validate import raw_text

    return DataQualityNote(
        raw.source, None, "body", raw_text(raw.body[:200]), reason, "answer_skipped", raw.raw_id
    )


def _asserted(normalised: Iterable[Normalised]) -> set[Identifier]:
    """Every identifier a loaded record (ids, aliases), count, identity link or citing link
    states, or a change check answered."""
    found: set[Identifier] = set()
    for n in normalised:
        for r in n.records:
            found.update(r.ids)
            found.update(r.aliases)
        found.update(c.id for c in n.counts)
        for link in n.links:
            found.update(link.ids)
        found.update(c.cited for c in n.citations)  # a who-cites answer states the cited work
        found.update(n.modified)
    return found


def settle_unloaded(batch: FetchBatch, normalised: Sequence[Normalised]) -> FetchBatch:
    """``batch`` with its ``ok`` outcomes that nothing loaded backs turned ``failed``, when an
    answer of the batch could not be read or one of its records had to be skipped.

    Only such batches are touched: elsewhere an ``ok`` without a record of its own is normal
    (an id settled through a sibling identifier). Turning one too many into ``failed`` costs a
    request in the next run; leaving one ``ok`` would lose its record for good.
    """
    skipped = [note for n in normalised for note in n.notes if note.action in SKIPPED_ACTIONS]
    if not skipped or not any(o.status == "ok" for o in batch.outcomes):
        return batch
    found = _asserted(normalised)
    reason = _reason(skipped)
    outcomes = tuple(
        replace(o, status="failed", last_error=reason)
        if o.status == "ok" and o.identifier not in found
        else o
        for o in batch.outcomes
    )
    downgraded = sum(a is not b for a, b in zip(outcomes, batch.outcomes, strict=True))
    if downgraded:
        log.warning("%s: %d identifier(s) answered but not loadable: %s", batch.source,
                    downgraded, reason)  # fmt: skip
    return replace(batch, outcomes=outcomes)


def _reason(skipped: Sequence[DataQualityNote]) -> str:
    first = skipped[0]
    what = "answer" if first.action == "answer_skipped" else f"record ({first.field})"
    more = f" (+{len(skipped) - 1} more)" if len(skipped) > 1 else ""
    return f"{first.source}: {what} could not be loaded: {first.problem}{more}"[:500]


def without_records(batch: FetchBatch, error: BaseException) -> FetchBatch:
    """``batch`` for a load that refused its records: answers and outcomes only, every ``ok``
    now ``failed`` with the load's error (one line)."""
    line = " ".join(str(error).split())[:300] or type(error).__name__
    reason = f"{batch.source}: answer could not be loaded ({type(error).__name__}: {line})"
    outcomes = tuple(
        replace(o, status="failed", last_error=reason) if o.status == "ok" else o
        for o in batch.outcomes
    )
    return replace(batch, outcomes=outcomes)


def guarded(
    batches: Iterator[FetchBatch], ids: Sequence[Identifier], source: str
) -> Iterator[FetchBatch]:
    """The client's ``batches``; if the client raises instead (a bug, a body it could not
    read), one last batch gives every identifier it had not settled a ``failed`` outcome, so
    none is left without a ledger row and the sibling sources carry on."""
    settled: set[Identifier] = set()
    try:
        for batch in batches:
            settled.update(o.identifier for o in batch.outcomes)
            yield batch
    except Interrupted:  # a stop asked, not a client failure: the caller leaves them pending
        raise
    except Exception as exc:  # noqa: BLE001 - turned into data: the ids' ledger rows say why
        log.error("%s client failed (%s: %s); its unsettled identifiers are failed",
                  source, type(exc).__name__, exc, exc_info=True)  # fmt: skip
        rest = [i for i in dict.fromkeys(ids) if i not in settled]
        if rest:
            yield FetchBatch(source, (), tuple(_failed(source, i, exc) for i in rest))


def _failed(source: str, ident: Identifier, exc: Exception) -> LedgerEntry:
    line = " ".join(str(exc).split())[:200] or "no detail"
    return LedgerEntry(
        source, ident.scheme, ident.value, "failed", None, 0,
        f"{source}: client error ({type(exc).__name__}: {line})", datetime.now(UTC),
    )  # fmt: skip


def is_data_error(exc: BaseException) -> bool:
    """A DuckDB error about the rows of one load (a constraint, a conversion, an invalid
    value): that load can be retried without its records. Disk, memory, lock and file errors
    are not: they end the run with their own message."""
    import duckdb

    return isinstance(
        exc,
        duckdb.ConstraintException
        | duckdb.ConversionException
        | duckdb.InvalidInputException
        | duckdb.OutOfRangeException
        | duckdb.TypeMismatchException,
    )
