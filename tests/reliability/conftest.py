"""Shared helpers for the reliability tests: a fast Settings against the loopback fake API, a
recorded (never slept) schedule, ledger and data-quality readers, and a tally of injected faults
printed at the end of the session.

Kept small on purpose: every test file of tests/reliability/ may use these, none must.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.records import Identifier

ROOT = Path(__file__).resolve().parents[2]
# A DOI no catalog of demo/fakeapi holds (checked by ``absent_doi``): every source answers it
# with its own "not found".
ABSENT_DOI = "10.5555/reliability.absent.0001"

FAULTS_INJECTED = {"count": 0}  # summed by count_faults(), printed by pytest_terminal_summary


def fast_settings(api, **overrides) -> Settings:
    """Settings aimed at ``api`` with a small retry budget and no pacing worth the name.

    3 attempts (a times=2 fault is survived, a persistent one is not), 0.6 s read timeout,
    Retry-After capped at 5 s (a longer one defers), backoff capped at 10 ms.
    """
    urls = api.base_urls
    base = Settings(
        db_path=Path(":memory:"),
        mailto="reliability@example.org",
        openalex_url=urls["openalex"],
        crossref_url=urls["crossref"],
        eutils_url=urls["eutils"],
        idconv_url=urls["idconv"],
        doira_url=urls["doira"],
        connect_timeout=2.0,
        read_timeout=0.6,
        max_attempts=3,
        max_retry_after=5.0,
        max_backoff=0.01,
        openalex_rps=1000.0,
        crossref_rps=1000.0,
        crossref_list_rps=1000.0,
        ncbi_rps=1000.0,
    )
    return replace(base, **overrides)


def fast_env(api) -> dict[str, str]:
    """The same, as environment variables, for runs through the CLI."""
    return {
        **api.env(),
        "ENRICH_MAILTO": "reliability@example.org",
        "ENRICH_TIMEOUT": "0.6",
        "ENRICH_MAX_ATTEMPTS": "3",
        "ENRICH_MAX_RETRY_AFTER": "5",
        "ENRICH_OPENALEX_RPS": "1000",
        "ENRICH_CROSSREF_RPS": "1000",
        "ENRICH_CROSSREF_LIST_RPS": "1000",
        "ENRICH_NCBI_RPS": "1000",
    }


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Every wait the HTTP layer asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("pipeline.http.sleep", recorded.append)
    return recorded


def absent_doi(catalog) -> str:
    assert catalog.by_doi(ABSENT_DOI) is None
    return ABSENT_DOI


def ledger(con, source: str | None = None) -> dict[Identifier, tuple]:
    """fetch_ledger as {Identifier: (status, http_status, attempts, last_error)}."""
    where, params = ("where source = ?", [source]) if source else ("", [])
    rows = con.execute(
        f"select scheme, value, status, http_status, attempts, last_error from fetch_ledger "
        f"{where}",
        params,
    ).fetchall()
    return {Identifier(r[0], r[1]): tuple(r[2:]) for r in rows}


def quality_failures(con) -> dict[str, int]:
    """Every data-quality check of warehouse/checks.sql that finds offending rows."""
    from warehouse.query import check_quality

    return {name: n for name, n in check_quality(con) if n}


def count_faults(api) -> int:
    """Add the faults ``api`` has served so far to the session tally; return them."""
    n = sum(s["faults"] for s in api.stats.values())
    FAULTS_INJECTED["count"] += n
    return n


def pytest_terminal_summary(terminalreporter):
    if FAULTS_INJECTED["count"]:
        terminalreporter.write_line(
            f"reliability: {FAULTS_INJECTED['count']} faults injected and served"
        )
