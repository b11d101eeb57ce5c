"""Settings: the only reader of ``os.environ`` in the project. Passed down explicitly.

Contract variables (docs/contract.md): ENRICH_DB, ENRICH_MAILTO, NCBI_API_KEY,
OPENALEX_API_KEY, ENRICH_OPENALEX_URL, ENRICH_CROSSREF_URL, ENRICH_EUTILS_URL, ENRICH_IDCONV_URL.
Tuning variables (ours, documented in the README): ENRICH_TIMEOUT, ENRICH_MAX_ATTEMPTS,
ENRICH_MAX_RETRY_AFTER, ENRICH_OPENALEX_RPS, ENRICH_CROSSREF_RPS, ENRICH_CROSSREF_LIST_RPS,
ENRICH_CROSSREF_CONCURRENCY, ENRICH_NCBI_RPS, ENRICH_DUCKDB_MEMORY_MB, ENRICH_CITING_CAP.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.errors import ConfigError

VERSION = "0.1.0"
TOOL = "enrich"

DEFAULT_DB = "warehouse/warehouse.duckdb"
DEFAULT_OPENALEX_URL = "https://api.openalex.org"
DEFAULT_CROSSREF_URL = "https://api.crossref.org"
DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
DEFAULT_IDCONV_URL = "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"

# Pacing defaults (requests per second), each overridable. Sources: ../shared/docs/api-notes.md.
OPENALEX_RPS = 10.0  # documented maximum is 100 req/s for everyone; we stay at a tenth of it
CROSSREF_RPS = 10.0  # polite pool, singleton /works/{doi} (since 2025-12-01)
CROSSREF_LIST_RPS = 3.0  # polite pool, list queries /works?filter=
CROSSREF_CONCURRENCY = 3  # polite pool; adapted from x-concurrency-limit once answered
NCBI_RPS_KEYLESS = 3.0  # E-utilities and the PMC converter, per IP
NCBI_RPS_KEYED = 10.0  # with NCBI_API_KEY
# DuckDB's memory cap (MB) for a run's warehouse connection. A cap, not a reservation: DuckDB
# caches blocks up to it and spills beyond. bench memory, 100,000 ids (schema v4): 256 -> peak
# 839 MB, exit 0; 512 -> 1,021 MB. Raise it for warehouses of millions of works, whose indexes
# DuckDB keeps in memory.
DUCKDB_MEMORY_MB = 256
# Who cites a work: at most this many citing works per work and source (a seed's own subject
# work: all of them). Each becomes an identifier in the crosswalk, and OpenAlex lists them 100
# per request, so the cap bounds both the warehouse's growth and a refresh's requests.
CITING_CAP = 200


@dataclass(frozen=True)
class Settings:
    """Run-time configuration. Secrets are excluded from ``repr`` so they never reach a log."""

    db_path: Path = Path(DEFAULT_DB)
    mailto: str | None = None
    ncbi_api_key: str | None = field(default=None, repr=False)
    openalex_api_key: str | None = field(default=None, repr=False)
    openalex_url: str = DEFAULT_OPENALEX_URL
    crossref_url: str = DEFAULT_CROSSREF_URL
    eutils_url: str = DEFAULT_EUTILS_URL
    idconv_url: str = DEFAULT_IDCONV_URL
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 5  # per request, first try included
    max_retry_after: float = 60.0  # a longer Retry-After defers the identifiers as `pending`
    max_backoff: float = 30.0
    openalex_rps: float = OPENALEX_RPS
    crossref_rps: float = CROSSREF_RPS
    crossref_list_rps: float = CROSSREF_LIST_RPS
    crossref_concurrency: int = CROSSREF_CONCURRENCY
    ncbi_rps: float | None = None  # None: 3 keyless, 10 with a key
    duckdb_memory_mb: int = DUCKDB_MEMORY_MB
    citing_cap: int = CITING_CAP  # 0: who cites is not asked nor stored

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from the environment (``os.environ`` unless ``env`` is given).

        Raises ConfigError with a one-line message for a malformed value.
        """
        env = os.environ if env is None else env
        s = cls(
            db_path=Path(env.get("ENRICH_DB") or DEFAULT_DB),
            mailto=env.get("ENRICH_MAILTO") or None,
            ncbi_api_key=env.get("NCBI_API_KEY") or None,
            openalex_api_key=env.get("OPENALEX_API_KEY") or None,
            openalex_url=_url(env, "ENRICH_OPENALEX_URL", DEFAULT_OPENALEX_URL),
            crossref_url=_url(env, "ENRICH_CROSSREF_URL", DEFAULT_CROSSREF_URL),
            eutils_url=_url(env, "ENRICH_EUTILS_URL", DEFAULT_EUTILS_URL),
            idconv_url=_url(env, "ENRICH_IDCONV_URL", DEFAULT_IDCONV_URL),
            read_timeout=_num(env, "ENRICH_TIMEOUT", 30.0),
            max_attempts=int(_num(env, "ENRICH_MAX_ATTEMPTS", 5)),
            max_retry_after=_num(env, "ENRICH_MAX_RETRY_AFTER", 60.0),
            openalex_rps=_num(env, "ENRICH_OPENALEX_RPS", OPENALEX_RPS),
            crossref_rps=_num(env, "ENRICH_CROSSREF_RPS", CROSSREF_RPS),
            crossref_list_rps=_num(env, "ENRICH_CROSSREF_LIST_RPS", CROSSREF_LIST_RPS),
            crossref_concurrency=int(
                _num(env, "ENRICH_CROSSREF_CONCURRENCY", CROSSREF_CONCURRENCY)
            ),
            ncbi_rps=_num(env, "ENRICH_NCBI_RPS", None),
            duckdb_memory_mb=int(_num(env, "ENRICH_DUCKDB_MEMORY_MB", DUCKDB_MEMORY_MB)),
            citing_cap=_count(env, "ENRICH_CITING_CAP", CITING_CAP),
        )
        return replace(s, **overrides) if overrides else s

    @property
    def effective_ncbi_rps(self) -> float:
        """NCBI pacing: explicit override, else 10 req/s with a key and 3 without."""
        if self.ncbi_rps is not None:
            return self.ncbi_rps
        return NCBI_RPS_KEYED if self.ncbi_api_key else NCBI_RPS_KEYLESS

    @property
    def user_agent(self) -> str:
        """``enrich/0.1.0 (https://github.com/enrich; mailto:x@y)`` as Crossref recommends."""
        contact = f"; mailto:{self.mailto}" if self.mailto else ""
        return f"{TOOL}/{VERSION} (https://github.com/enrich-project/enrich{contact})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value in force, for redaction."""
        return tuple(s for s in (self.ncbi_api_key, self.openalex_api_key) if s)


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip()
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={value!r} is not an http(s) URL")
    return value


def _num(env: Mapping[str, str], name: str, default):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than zero")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number >= 0 (0 is meaningful: off)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} must be zero or more")
    return value
