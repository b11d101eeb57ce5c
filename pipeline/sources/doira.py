"""doi.org's "Which RA?" lookup: the registration agency of many DOIs in one request.

Request (DOI Handbook, "Which RA? Service"): ``GET https://doi.org/doiRA/<doi>,<doi>,...``, "a
single DOI name or a list of DOI names separated by commas"; a comma inside a DOI is
percent-encoded. The answer is a JSON list, one object per DOI, in the order asked::

    [{"DOI": "10.5281/zenodo.4761960", "RA": "DataCite"},
     {"DOI": "10.7717/peerj.4375", "RA": "Crossref"},
     {"DOI": "10.9999/nope", "status": "DOI does not exist"}]

The documented error states are "Invalid DOI", "DOI does not exist" and "Unknown", in a
``status`` field in place of ``RA`` (an unknown prefix answers 200 ``[{"DOI": "10.99999",
"status": "DOI does not exist"}]``, observed 2026-07-27 in a third-party client's tests).

Batch size: no maximum is documented. A third-party measurement (2026-09-17) found the limit is
the URL's length, not a count: 200 DOIs (5.7 kB of URL) answered, 400 (11.5 kB) got a 414. We
send at most BATCH_SIZE DOIs and keep the URL under MAX_URL_CHARS, as for Crossref's lists.
Pacing: no limit is documented; RATE is modest (one request settles up to 100 DOIs).

Prefixes decided without a request (PREFIX_AGENCIES): DataCite's policy ("Prefix Transfers and
Aliasing", support.datacite.org) says a prefix belongs to one agency at a time and can move, but
"prefixes belonging to generalist repositories (e.g. Dryad, Figshare, Zenodo) cannot be
transferred to a different Registration Agency": Zenodo 10.5281, figshare 10.6084 and Dryad
10.5061 are DataCite's for good. No such evidence was found for arXiv's 10.48550 (nor any other
prefix), so those are looked up.

Only an answer (or that policy) is a verdict. A failed lookup (429, 5xx, timeout, unreachable, a body that is not
the list above) gives no verdict for its DOIs, and the caller asks the source as it would have
without this lookup; so does a DOI the answer leaves out or says "Unknown" about.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from pipeline.config import Settings
from pipeline.errors import FetchError
from pipeline.http import HttpAnswer, SourceHttp, TransientBody, check_json
from pipeline.sources._common import pack

log = logging.getLogger(__name__)

SOURCE = "doira"
BATCH_SIZE = 100
MAX_URL_CHARS = 4000  # the same proxy-safe bound as Crossref's lists; 200 DOIs took 5.7 kB
RATE = 5.0  # requests per second: undocumented, so modest (500 DOIs/s at 100 a request)
# The ``status`` values that say the DOI is not registered at all (DOI Handbook).
UNREGISTERED = frozenset({"doi does not exist", "invalid doi"})
# Prefixes whose agency never changes (module docstring: DataCite's transfer policy).
PREFIX_AGENCIES = {"10.5281": "DataCite", "10.6084": "DataCite", "10.5061": "DataCite"}


@dataclass(frozen=True)
class Lookup:
    """One lookup request: the DOIs asked, the answer (None when it failed, or when no request
    was needed: PREFIX_AGENCIES decided), and per DOI the agency (``"DataCite"``), or the
    documented status (``"DOI does not exist"``)."""

    dois: tuple[str, ...]
    answer: HttpAnswer | None
    verdicts: dict[str, str]


def check_agencies(answer: HttpAnswer) -> None:
    """A 200 must be a JSON list of objects, else TransientBody (retried, then no verdict)."""
    check_json(answer)
    body = answer.json()
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise TransientBody("a 200 agency answer that is not a list of objects")


def read_verdicts(dois: Sequence[str], body: object) -> dict[str, str]:
    """Per asked DOI (lower-case), its ``RA`` or ``status`` from an answer list; DOIs the answer
    does not name are left out. An object without ``DOI`` is matched by position when the
    answer has exactly one object per DOI asked (a third-party client saw ``[{"RA": ...}]``)."""
    if not isinstance(body, list):
        return {}
    asked = {d.lower() for d in dois}
    positional = len(body) == len(dois)
    out: dict[str, str] = {}
    for n, item in enumerate(body):
        if not isinstance(item, dict):
            continue
        named = item.get("DOI")
        doi = named.strip().lower() if isinstance(named, str) else None
        if doi is None and positional:
            doi = dois[n].lower()
        verdict = item.get("RA") or item.get("status")
        if doi in asked and isinstance(verdict, str) and verdict.strip():
            out[doi] = verdict.strip()
    return out


def is_crossref(verdict: str | None) -> bool:
    """Whether a verdict names Crossref (spelled ``Crossref``; older answers ``CrossRef``)."""
    return verdict is not None and verdict.casefold() == "crossref"


def is_other_agency(verdict: str | None) -> bool:
    """Whether a verdict names an agency other than Crossref (not a status such as
    "DOI does not exist", "Invalid DOI" or "Unknown")."""
    if verdict is None or is_crossref(verdict):
        return False
    return verdict.casefold() not in UNREGISTERED and verdict.casefold() != "unknown"


def prefix_of(doi: str) -> str:
    """``10.5281/zenodo.1`` -> ``10.5281``."""
    return doi.split("/", 1)[0]


class DoiRaClient:
    """Ask doi.org which agency registered each DOI, BATCH_SIZE DOIs per request."""

    def __init__(self, settings: Settings, *, http: SourceHttp | None = None) -> None:
        self.base = settings.doira_url
        self.http = http or SourceHttp(SOURCE, settings, rate=RATE)
        self.failed = False  # one failed lookup stops the rest: the source is asked instead

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def url(self, dois: Sequence[str]) -> str:
        """``<base><doi>,<doi>``: each DOI percent-encoded once, its ``/`` kept (a ``,`` inside
        a DOI becomes ``%2C``, as the Handbook asks)."""
        return self.base + ",".join(quote(d, safe="/") for d in dois)

    def plan_batches(self, dois: Sequence[str]) -> list[list[str]]:
        """Batches of <= BATCH_SIZE DOIs whose URL stays under MAX_URL_CHARS."""
        return pack(dois, most=BATCH_SIZE, fits=lambda trial: len(self.url(trial)) <= MAX_URL_CHARS)

    def lookups(self, dois: Sequence[str]) -> Iterator[Lookup]:
        """First one Lookup without a request for the DOIs of PREFIX_AGENCIES (if any), then
        one per request, in order; after a failure, Lookups without a request nor verdicts."""
        known = {d: PREFIX_AGENCIES[prefix_of(d)] for d in dois if prefix_of(d) in PREFIX_AGENCIES}
        if known:
            yield Lookup(tuple(known), None, known)
        for batch in self.plan_batches([d for d in dois if d not in known]):
            yield self._lookup(batch)

    def _lookup(self, dois: list[str]) -> Lookup:
        if self.failed:
            return Lookup(tuple(dois), None, {})
        try:
            answer = self.http.get(self.url(dois), check=check_agencies)
        except FetchError as exc:
            return self._give_up(dois, str(exc).splitlines()[0] if str(exc) else repr(exc))
        if answer.status != 200:
            return self._give_up(dois, f"HTTP {answer.status}")
        return Lookup(tuple(dois), answer, read_verdicts(dois, answer.json()))

    def _give_up(self, dois: list[str], why: str) -> Lookup:
        self.failed = True
        log.warning("doi.org agency lookup failed (%s); asking Crossref about every DOI", why)
        return Lookup(tuple(dois), None, {})
