"""Raw API answers -> typed records: pure, deterministic, never refetching.

``normalise(raw)`` is the one entry point the flows and the warehouse rebuild call; it dispatches
on ``raw.source`` (and, inside each module, on ``raw.endpoint``)::

    normalise(RawResponse(source="crossref", endpoint="works", body='{"status": "ok", ...}', ...))
    -> Normalised(records=(SourceRecord(source="crossref", source_key="10.1111/ejh.70051", ...),))

A body that is not what it claims raises ``pipeline.errors.ParseError`` with a one-line message;
nothing else escapes (see ``normalise``). Missing fields are tolerated and become None/empty.
Every field emitted fits the warehouse column that stores it: each source normaliser hands its
records to ``validate.validated``, which nulls an odd value (a negative count, an int past
int64...) and says so in ``Normalised.notes`` (loaded as ``data_quality_notes``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pipeline.errors import ParseError
from pipeline.normalise.crossref import normalise_crossref
from pipeline.normalise.openalex import normalise_openalex
from pipeline.normalise.pubmed import normalise_pubmed
from pipeline.records import Normalised, RawResponse

__all__ = ["normalise", "normalise_crossref", "normalise_openalex", "normalise_pubmed"]

log = logging.getLogger(__name__)

_BY_SOURCE: dict[str, Callable[[RawResponse], Normalised]] = {
    "openalex": normalise_openalex,
    "crossref": normalise_crossref,
    "pubmed": normalise_pubmed,
}


def normalise(raw: RawResponse) -> Normalised:
    """Normalise one stored answer; raises only ParseError.

    Each source normaliser checks the HTTP status first: a 404 from OpenAlex or Crossref yields
    ``Normalised(not_found=raw.requested)``; any other non-2xx answer (429, 5xx: the fetcher
    should never hand those over) is a ParseError, so a rate-limit answer can never be recorded
    as ``not_found``.

    Unexpected exceptions from a normaliser are logged with their traceback and re-raised as
    ParseError: the caller records one bad body and goes on with the rest of the run. The fuzz
    tests call the per-source functions directly, so such bugs still fail the tests.
    """
    normaliser = _BY_SOURCE.get(raw.source)
    if normaliser is None:
        raise ParseError(f"no normaliser for source {raw.source!r}")
    try:
        return normaliser(raw)
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: only ParseError leaves normalise()
        log.exception("normaliser bug on %s %s raw %s", raw.source, raw.endpoint, raw.raw_id)
        raise ParseError(
            f"{raw.source} {raw.endpoint}: could not normalise ({type(exc).__name__})"
        ) from exc
