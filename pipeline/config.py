"""Settings: the only reader of ``os.environ`` (and of ``.env``) in the project. Passed down
explicitly.

Contract variables (docs/contract.md): ENRICH_HOME, ENRICH_DB, ENRICH_MAILTO, NCBI_API_KEY,
OPENALEX_API_KEY, ENRICH_OPENALEX_URL, ENRICH_CROSSREF_URL, ENRICH_EUTILS_URL, ENRICH_IDCONV_URL,
ENRICH_DOIRA_URL.
Tuning variables (ours, documented in the README): ENRICH_TIMEOUT, ENRICH_MAX_ATTEMPTS,
ENRICH_MAX_RETRY_AFTER, ENRICH_OPENALEX_RPS, ENRICH_CROSSREF_RPS, ENRICH_CROSSREF_LIST_RPS,
ENRICH_CROSSREF_CONCURRENCY, ENRICH_NCBI_RPS, ENRICH_DUCKDB_MEMORY_MB, ENRICH_REQUEST_DEADLINE,
ENRICH_CITING_CAP, ENRICH_RUN_CRON, ENRICH_REFRESH_CRON, ENRICH_REPORT.

Every variable may also come from a ``.env`` file in the working folder (python-dotenv syntax);
a variable set in the environment wins over the file. ``ENRICH_HOME`` anchors the default paths
(the warehouse, the seed folder), so they do not depend on the folder ``enrich`` runs from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.readers.limits import ReadLimits

_LIMITS = ReadLimits()  # the defaults

VERSION = "0.1.0"
TOOL = "enrich"

DEFAULT_DB = "warehouse/warehouse.duckdb"  # under ENRICH_HOME
DEFAULT_SEEDS = "seeds"  # under ENRICH_HOME
DEFAULT_RUN_CRON = "0 2 * * 0"  # enrich serve: the full run, Sundays 02:00 UTC
DEFAULT_REFRESH_CRON = "0 3 * * *"  # enrich serve: the citation refresh, daily 03:00 UTC
# The project's own folder (a source checkout: its pyproject.toml is there). Installed from a
# wheel, this is site-packages, which has no pyproject.toml.
PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_OPENALEX_URL = "https://api.openalex.org"
DEFAULT_CROSSREF_URL = "https://api.crossref.org"
DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
DEFAULT_IDCONV_URL = "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"
# doi.org's "Which RA?" lookup (DOI Handbook): comma-separated DOIs are appended
DEFAULT_DOIRA_URL = "https://doi.org/doiRA/"

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
# The most one request may take, from before it connects to the last byte of its body (read
# timeouts bound each wait for a byte, never the whole answer; see pipeline.http.Deadline).
# The largest real answers (a 100-work OpenAlex page, a 200-record efetch set) take a few
# seconds; 120 s leaves room for a slow link, and a trickling server costs at most that.
REQUEST_DEADLINE = 120.0
# Who cites a work: at most this many citing works per work and source (a seed's own subject
# work: all of them). Each becomes an identifier in the crosswalk, and OpenAlex lists them 100
# per request, so the cap bounds both the warehouse's growth and a refresh's requests.
CITING_CAP = 200


@dataclass(frozen=True)
class Settings:
    """Run-time configuration. Secrets are excluded from ``repr`` so they never reach a log."""

    home: Path = PROJECT_DIR
    db_path: Path = PROJECT_DIR / DEFAULT_DB
    mailto: str | None = None
    ncbi_api_key: str | None = field(default=None, repr=False)
    openalex_api_key: str | None = field(default=None, repr=False)
    openalex_url: str = DEFAULT_OPENALEX_URL
    crossref_url: str = DEFAULT_CROSSREF_URL
    eutils_url: str = DEFAULT_EUTILS_URL
    idconv_url: str = DEFAULT_IDCONV_URL
    doira_url: str = DEFAULT_DOIRA_URL
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    request_deadline: float = REQUEST_DEADLINE  # connect + headers + body, redirects included
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
    read_limits: ReadLimits = ReadLimits()
    run_cron: str = DEFAULT_RUN_CRON
    refresh_cron: str = DEFAULT_REFRESH_CRON
    report_path: Path | None = None  # HTML report written at the end of every run and refresh

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, cwd: Path | None = None, **overrides: object
    ) -> Settings:
        """Build settings from the environment: ``os.environ`` over the working folder's
        ``.env`` (see :func:`environment`), unless ``env`` is given.

        Raises ConfigError with a one-line message for a malformed value.
        """
        env = environment(cwd) if env is None else env
        home = enrich_home(env, cwd=cwd)
        s = cls(
            home=home,
            db_path=_path(env.get("ENRICH_DB"), cwd) or home / DEFAULT_DB,
            mailto=env.get("ENRICH_MAILTO") or None,
            ncbi_api_key=env.get("NCBI_API_KEY") or None,
            openalex_api_key=env.get("OPENALEX_API_KEY") or None,
            openalex_url=_url(env, "ENRICH_OPENALEX_URL", DEFAULT_OPENALEX_URL),
            crossref_url=_url(env, "ENRICH_CROSSREF_URL", DEFAULT_CROSSREF_URL),
            eutils_url=_url(env, "ENRICH_EUTILS_URL", DEFAULT_EUTILS_URL),
            idconv_url=_url(env, "ENRICH_IDCONV_URL", DEFAULT_IDCONV_URL),
            doira_url=_url(env, "ENRICH_DOIRA_URL", DEFAULT_DOIRA_URL),
            read_timeout=_num(env, "ENRICH_TIMEOUT", 30.0),
            request_deadline=_num(env, "ENRICH_REQUEST_DEADLINE", REQUEST_DEADLINE),
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
            read_limits=ReadLimits(
                pdf_max_pages=int(_num(env, "ENRICH_PDF_MAX_PAGES", _LIMITS.pdf_max_pages)),
                pdf_max_seconds=_num(env, "ENRICH_PDF_MAX_SECONDS", _LIMITS.pdf_max_seconds),
                pdf_max_memory_mb=int(
                    _num(env, "ENRICH_PDF_MAX_MEMORY_MB", _LIMITS.pdf_max_memory_mb)
                ),
                json_max_mb=int(_num(env, "ENRICH_JSON_MAX_MB", _LIMITS.json_max_mb)),
                yaml_max_mb=int(_num(env, "ENRICH_YAML_MAX_MB", _LIMITS.yaml_max_mb)),
            ),
            run_cron=env.get("ENRICH_RUN_CRON") or DEFAULT_RUN_CRON,
            refresh_cron=env.get("ENRICH_REFRESH_CRON") or DEFAULT_REFRESH_CRON,
            report_path=Path(env["ENRICH_REPORT"])
            if (env.get("ENRICH_REPORT") or "").strip()
            else None,
        )
        return replace(s, **overrides) if overrides else s

    @property
    def seeds_path(self) -> Path:
        """The seed folder ``enrich run`` reads when given no paths: ``$ENRICH_HOME/seeds``."""
        return self.home / DEFAULT_SEEDS

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


def environment(cwd: Path | None = None) -> dict[str, str]:
    """``os.environ`` over the variables of ``<cwd>/.env`` (the environment wins).

    python-dotenv reads the file (quotes, ``export``, comments, ``${VAR}`` expansion), so the
    syntax is the one Docker Compose and most tools accept. An unreadable file is a ConfigError.
    """
    path = (cwd or Path.cwd()) / ".env"
    from_file: dict[str, str] = {}
    if path.is_file():
        from dotenv import dotenv_values

        try:
            values = dotenv_values(path, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read ({exc})") from None
        from_file = {k: v for k, v in values.items() if v is not None}
    return {**from_file, **os.environ}


def enrich_home(env: Mapping[str, str], *, cwd: Path | None = None) -> Path:
    """``ENRICH_HOME`` if set; else the project folder when ``enrich`` runs from inside its
    source checkout; else ``$XDG_DATA_HOME/enrich`` (``~/.local/share/enrich``)."""
    given = _path(env.get("ENRICH_HOME"), cwd)
    if given is not None:
        return given
    here = (cwd or Path.cwd()).resolve()
    if (PROJECT_DIR / "pyproject.toml").is_file() and here.is_relative_to(PROJECT_DIR):
        return PROJECT_DIR
    data = _path(env.get("XDG_DATA_HOME"), cwd) or Path.home() / ".local" / "share"
    return data / "enrich"


def _path(value: str | None, cwd: Path | None) -> Path | None:
    """A path from a variable: ``~`` expanded, relative to ``cwd``; None when unset or empty."""
    if not value or not value.strip():
        return None
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else (cwd or Path.cwd()) / path


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
