"""``enrich rebuild --from-raw OLD --db NEW``: a new warehouse from a damaged one's raw answers.

Raw answers are the source of truth: every table is derived from them (``enrich rebuild``), so
what is still readable of them (``warehouse.salvage``) is loaded into a new file as if fetched
again, without any HTTP: each answer under the run that fetched it, normalised, its records,
links and counts loaded, and the identifiers its records answer marked ``ok`` in the ledger
(those the next run need not ask again). Seed documents are not raw answers: ``enrich run
SEEDS --db NEW`` adds them back, fetching only what the rebuilt ledger does not settle.

The damaged file is only read, never written. NEW must not exist yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from flows.steps import REBUILD_MEMORY_MB, Writer
from pipeline.errors import InputError, ParseError
from pipeline.records import LedgerEntry, Normalised, RawResponse

log = logging.getLogger("flows.recover")

BATCH = 200  # answers loaded per transaction


def rebuild_from_raw(
    old: str | Path, new: str | Path, *, memory_mb: int = 0, citing_cap: int | None = None
) -> dict:
    """Rebuild ``new`` from the readable raw answers of ``old``; returns what was read, lost
    and loaded (citing links: at most ``citing_cap`` per cited work and source, as in a run).
    Raises InputError when ``new`` exists or ``old`` does not."""
    from warehouse.db import WarehouseDamaged, connect
    from warehouse.load import copy_runs, finish_run, load_recovered, start_run
    from warehouse.salvage import Salvage, readable_raws, readable_runs

    old, new = Path(old), Path(new)
    if not old.exists():
        raise InputError(f"{old}: no such warehouse to rebuild from")
    if new.exists():
        raise InputError(f"{new} exists; --db must name a new file (nothing was written)")
    try:
        source_con = connect(old, read_only=True, check=False)
    except WarehouseDamaged as exc:  # its header or catalog: DuckDB cannot open it at all
        raise InputError(
            f"{old} is damaged past reading ({exc.detail}); nothing can be rebuilt from it: "
            "restore a backup"
        ) from None
    writer = Writer(new, memory_mb=max(REBUILD_MEMORY_MB, memory_mb))
    salvage = Salvage()
    totals = {"records": 0, "links": 0, "counts": 0, "notes": 0, "settled": 0}
    try:
        run_id = writer(start_run, "rebuild_from_raw", {"from": str(old)})
        writer(copy_runs, readable_runs(source_con, salvage))
        for source, group in _batches(readable_raws(source_con, salvage)):
            normalised = [_normalise(raw) for raw, _ in group]
            outcomes = settled(group, normalised)
            done = writer(load_recovered, group, normalised, outcomes, run_id=run_id,
                          source=source, citing_cap=citing_cap)  # fmt: skip
            for key in ("records", "links", "counts", "notes"):
                totals[key] += done[key]
            totals["settled"] += len(outcomes)
        summary = {
            "from": str(old),
            "answers": salvage.answers,
            "answers_lost": salvage.answers_lost,
            "rows_lost": salvage.rows_lost,
            **totals,
        }
        status = "completed" if not salvage.answers_lost and not salvage.rows_lost else "partial"
        writer(finish_run, run_id, status, summary)
        return summary
    finally:
        writer.close()
        source_con.close()


def _batches(
    raws: Iterable[tuple[RawResponse, str | None]],
) -> Iterator[tuple[str, list[tuple[RawResponse, str | None]]]]:
    """Consecutive answers of one source, at most BATCH at a time, in the order stored."""
    group: list[tuple[RawResponse, str | None]] = []
    for item in raws:
        if group and (item[0].source != group[0][0].source or len(group) >= BATCH):
            yield group[0][0].source, group
            group = []
        group.append(item)
    if group:
        yield group[0][0].source, group


def _normalise(raw: RawResponse) -> Normalised:
    from flows.settle import unreadable_note
    from pipeline.normalise import normalise

    try:
        return normalise(raw)
    except ParseError as exc:
        return Normalised(notes=(unreadable_note(raw, str(exc)),))


def settled(
    group: Sequence[tuple[RawResponse, str | None]], normalised: Sequence[Normalised]
) -> list[LedgerEntry]:
    """``ok`` for each identifier an answer was asked about and one of its own records states:
    the next run need not ask again. Nothing else is settled from answers alone (a ``not_found``
    or an identifier answered through another, say): the next run asks those again."""
    outcomes: dict[tuple, LedgerEntry] = {}
    for (raw, _), n in zip(group, normalised, strict=True):
        stated = {i for r in n.records for i in (*r.ids, *r.aliases)}
        for ident in raw.requested:
            if ident in stated:
                at = raw.fetched_at or datetime.now(UTC)
                outcomes[(raw.source, ident)] = LedgerEntry(
                    raw.source, ident.scheme, ident.value, "ok", raw.http_status, 0, None,
                    at if at.tzinfo else at.replace(tzinfo=UTC),
                )  # fmt: skip
    return list(outcomes.values())
