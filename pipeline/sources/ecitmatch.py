"""PubMed's citation matcher (ECitMatch) for journal references Crossref left unmatched.

Request (NBK25499 "ECitMatch"): ``GET ecitmatch.cgi?db=pubmed&retmode=xml&bdata=<lines>``, one
line per citation, ``journal|year|volume|first page|author|key|``, lines joined by ``\\r``
(sent as ``%0D``). The answer is plain text whatever ``retmode`` says, one line per citation,
its fields echoed and the result appended::

    proc natl acad sci u s a|1991|88|3248|mann bj|r0|2014248
    science|1987|235|182|palmenberg ac|r1|NOT_FOUND;INVALID_JOURNAL
    bioinformatics|2015|31||||r2|AMBIGUOUS (783 citations)

ECitMatch matches on the fields given and is known to return a wrong PMID without a word (a
journal and first page shared by two volumes, an author misspelt): its PMID is only a
candidate. The PubMed record (efetch) is read and validated against the whole string like any
Crossref candidate (``pipeline.matching``).

Pacing, ``tool``/``email``/``api_key`` and retries are the E-utilities': one NCBI limiter for the
process (``pipeline.sources.pubmed``), 3 requests/s without a key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.config import TOOL, Settings
from pipeline.errors import FetchError, ParseError
from pipeline.http import SourceHttp
from pipeline.normalise.pubmed import normalise_pubmed
from pipeline.records import Candidate, Identifier, RawResponse, SourceRecord
from pipeline.refstring import RefString
from pipeline.sources.pubmed import PubMedClient, check_efetch

log = logging.getLogger(__name__)

ECITMATCH = "ecitmatch.cgi"
BATCH = 20  # citations per request: ~2 kB of query, well inside a GET
_SEP = "\r"


@dataclass(frozen=True, slots=True)
class Citation:
    """The fields ECitMatch matches on, read from a reference string."""

    journal: str
    year: str
    volume: str
    page: str
    author: str = ""

    def line(self, key: str) -> str:
        """``journal|year|volume|page|author|key|``: ``|`` and line breaks cannot be sent."""
        parts = (self.journal, self.year, self.volume, self.page, self.author, key)
        return "|".join(re.sub(r"[|\r\n]+", " ", p).strip() for p in parts) + "|"


class EcitFault(Exception):
    """ECitMatch or the PubMed record fetch failed after retries (``status`` failed/pending)."""

    def __init__(self, message: str, *, status: str, requests: int) -> None:
        super().__init__(message)
        self.status = status
        self.requests = requests


# ------------------------------------------------------------------------------------------
# Reading the fields from a string
# ------------------------------------------------------------------------------------------

_PAGE = r"(?P<page>[A-Za-z]?\d{1,6})"
_VOL = r"(?P<volume>\d{1,5})(?:\s*\([^)]{1,12}\))?"
_TAILS = (
    # Vancouver / PubMed: "Eur Respir J. 1995;8:1030-8", "Curr Opin Chem Biol. 2005;9: 104"
    re.compile(r"\s(?P<year>\d{4})[a-z]?(?:\s+[A-Z][a-z]{2,8}(?:\s+\d{1,2})?)?\s*;\s*" + _VOL + r"\s*:\s*" + _PAGE),
    # PLOS: "PLoS Genet 8: e1002984", "Curr Opin Immunol 8: 878-885"
    re.compile(r"\s" + _VOL + r"\s*:\s*" + _PAGE),
    # APA: "Physical Review B, 47(15), 9967-9970"
    re.compile(r",\s*" + _VOL + r",\s*(?:pp?\.\s*)?" + _PAGE),
    # AIP / IEEE-like: "Physical Review B 47, 9967 (1993)"
    re.compile(r"\s" + _VOL + r",\s*(?:pp?\.\s*)?" + _PAGE + r"\s*\((?P<year>\d{4})\)"),
    # Elsevier: "Physical Review B 47 (1993) 9967"
    re.compile(r"\s" + _VOL + r"\s*\((?P<year>\d{4})\)\s*" + _PAGE),
    # ACS: "Physical Review B 1993, 47, 9967"
    re.compile(r"\s(?P<year>\d{4}),\s*" + _VOL + r",\s*" + _PAGE),
)  # fmt: skip
_BOUNDARY = re.compile(r"(?:[.?!]|[”\"'])\s+(?=\S)")
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
_LEADING_AUTHOR = re.compile(r"^\W*(?:\[\d+\]|\(\d+\)|\d+\.?)?\s*(?P<family>[^\W\d_][\w'’\-]+)")


def citation_fields(ref: RefString) -> Citation | None:
    """The journal, year, volume and first page of a journal reference, or None.

    ``'Woodson SA. Metal ions ... Curr Opin Chem Biol. 2005;9: 104–109.'`` ->
    ``Citation('Curr Opin Chem Biol', '2005', '9', '104', 'Woodson')``.
    """
    text = " ".join(ref.text.split())
    for tail in _TAILS:
        for m in tail.finditer(text):
            journal = _journal_before(text, m.start())
            year = m.groupdict().get("year") or _nearest_year(text)
            if journal and year:
                author = _LEADING_AUTHOR.match(text)
                return Citation(
                    journal=journal,
                    year=year,
                    volume=m.group("volume"),
                    page=m.group("page"),
                    author=author.group("family") if author else "",
                )
    return None


def _journal_before(text: str, end: int) -> str | None:
    """The journal name ending at ``end``: the text after the last sentence boundary, extended
    backwards over abbreviations ("Phys. Rev. B")."""
    head = text[:end].rstrip(" .,;")
    cuts = [m.end() for m in _BOUNDARY.finditer(head)]
    start = cuts[-1] if cuts else 0
    i = len(cuts) - 1
    while i >= 1 and (len(head[cuts[i - 1] : cuts[i]].strip()) <= 6):
        i -= 1  # "Phys. Rev. B": each piece is an abbreviation, not a sentence
        start = cuts[i]
    name = head[start:].strip(" ,;:()“”\"'")
    if ", " in name:  # "M.J. Shea and R.N. Compton, Physical Review B": authors, then journal
        name = name.rsplit(", ", 1)[1]
    name = re.sub(r"\(\d{4}\)", "", name).strip()
    words = name.split()
    if not words or len(words) > 12 or not any(c.isalpha() for c in name):
        return None
    return " ".join(w.strip(".,") for w in words)


def _nearest_year(text: str) -> str | None:
    years = _YEAR.findall(text)
    return years[-1] if years else None


# ------------------------------------------------------------------------------------------
# The client
# ------------------------------------------------------------------------------------------


class EcitMatch:
    """ECitMatch requests and the PubMed records of the PMIDs they name."""

    def __init__(self, settings: Settings, *, http: SourceHttp | None = None) -> None:
        self.settings = settings
        self.http = http or PubMedClient._make_http(settings)
        self._eutils = settings.eutils_url.rstrip("/") + "/"

    def pmids(self, citations: Sequence[Citation]) -> list[str | None]:
        """The PMID ECitMatch names for each citation (None: not found, ambiguous). Raises
        EcitFault when a request fails."""
        out: list[str | None] = []
        for at in range(0, len(citations), BATCH):
            chunk = citations[at : at + BATCH]
            keys = [f"r{at + i}" for i in range(len(chunk))]
            bdata = _SEP.join(c.line(k) for c, k in zip(chunk, keys, strict=True))
            text = self._get(ECITMATCH, [("db", "pubmed"), ("retmode", "xml"), ("bdata", bdata)])
            found = parse_answer(text)
            out += [found.get(k) for k in keys]
        return out

    def records(self, pmids: Sequence[str]) -> dict[str, Candidate]:
        """PubMed records of ``pmids`` as candidates, by PMID. Raises EcitFault."""
        wanted = list(dict.fromkeys(p for p in pmids if p))
        if not wanted:
            return {}
        text = self._get(
            "efetch.fcgi",
            [("db", "pubmed"), ("retmode", "xml"), ("id", ",".join(wanted))],
            check=check_efetch,
        )
        raw = RawResponse(
            source="pubmed",
            endpoint="efetch",
            request_url="",
            http_status=200,
            content_type="text/xml",
            body=text,
            fetched_at=datetime.now(UTC),
            requested=tuple(Identifier("pmid", p) for p in wanted),
        )
        try:
            records = normalise_pubmed(raw).records
        except ParseError as exc:
            raise EcitFault(f"efetch: {exc}", status="failed", requests=0) from None
        out = {}
        for rec in records:
            cand = candidate_from_record(rec)
            if cand.pmid:
                out[cand.pmid] = cand
        return out

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def _get(self, endpoint: str, params: list[tuple[str, str]], check=None) -> str:
        identity = [("tool", TOOL)] + (
            [("email", self.settings.mailto)] if self.settings.mailto else []
        )
        secret = {"api_key": self.settings.ncbi_api_key} if self.settings.ncbi_api_key else None
        try:
            answer = self.http.get(
                self._eutils + endpoint, params + identity, check=check, secret_params=secret
            )
        except FetchError as exc:
            raise EcitFault(str(exc).splitlines()[0], status=exc.status, requests=0) from None
        if answer.status != 200:
            raise EcitFault(f"{endpoint}: HTTP {answer.status}", status="failed", requests=0)
        return answer.text


def parse_answer(text: str) -> dict[str, str | None]:
    """``{key: pmid or None}`` from an ECitMatch answer (see the module docstring)."""
    out: dict[str, str | None] = {}
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) < 2:
            continue
        result = fields[-1].strip()
        key = next((f for f in reversed(fields[:-1]) if re.fullmatch(r"r\d+", f.strip())), None)
        if key is not None:
            out[key.strip()] = result if result.isdigit() else None
    return out


def candidate_from_record(rec: SourceRecord) -> Candidate:
    """A PubMed SourceRecord as a Candidate (its DOI, if PubMed lists one, comes along)."""
    ids = {i.scheme: i.value for i in rec.ids}
    return Candidate(
        source="pubmed",
        doi=ids.get("doi"),
        pmid=ids.get("pmid") or rec.source_key,
        title=rec.title,
        authors=tuple(a.family or a.raw_name for a in rec.authors if a.family or a.raw_name),
        years=(rec.publication_year,) if rec.publication_year else (),
        containers=tuple(c for c in (rec.venue, rec.venue_abbrev) if c),
        volume=rec.volume,
        issue=rec.issue,
        page=rec.pages,
        type="journal-article",
    )
