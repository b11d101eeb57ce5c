"""doi.org's "Which RA?" lookup: ``GET /doiRA/<doi>,<doi>,...`` (DOI Handbook).

Answers ``[{"DOI": "<as asked>", "RA": "Crossref"}, {"DOI": ..., "status": "DOI does not
exist"}]``, one object per DOI in the order asked. A catalog work's DOI answers its ``agency``
(``FakeWork.agency``, default ``Crossref``); a DOI outside the catalog answers the agency its
prefix belongs to in this fake world (``PREFIX_AGENCIES``: Zenodo, arXiv and figshare are
DataCite's), else ``DOI does not exist``. A comma inside a DOI arrives percent-encoded.
"""

from __future__ import annotations

from urllib.parse import unquote

from demo.fakeapi.catalog import Catalog
from demo.fakeapi.reply import TEXT, Reply, Request, json_reply, text_reply

# The agencies of DOIs the catalog does not hold, by prefix (the real ones for these prefixes).
PREFIX_AGENCIES = {"10.5281": "DataCite", "10.48550": "DataCite", "10.6084": "DataCite"}
ROUTE = "/doiRA/"
JSON_UTF8 = "application/json;charset=UTF-8"


class DoiRaApi:
    """The fake of ``https://doi.org/doiRA/``."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def handle(self, req: Request) -> Reply:
        if not req.raw_path.startswith(ROUTE) or req.raw_path == ROUTE:
            return text_reply(404, "Not Found", TEXT)
        # split on the literal commas first: a comma inside a DOI is %2C until decoded
        asked = [unquote(d) for d in req.raw_path[len(ROUTE) :].split(",") if d]
        return json_reply(200, [self._one(doi) for doi in asked], content_type=JSON_UTF8)

    def _one(self, doi: str) -> dict[str, str]:
        if not doi.startswith("10.") or "/" not in doi:
            return {"DOI": doi, "status": "Invalid DOI"}
        work = self.catalog.by_doi(doi)
        if work is not None:
            return {"DOI": doi, "RA": work.agency}
        agency = PREFIX_AGENCIES.get(doi.split("/", 1)[0])
        return (
            {"DOI": doi, "RA": agency} if agency else {"DOI": doi, "status": "DOI does not exist"}
        )

    def rate_limited(self, req: Request, **_: object) -> Reply:
        """doi.org's limit is undocumented: a plain 429."""
        return text_reply(429, "Too Many Requests", TEXT)
