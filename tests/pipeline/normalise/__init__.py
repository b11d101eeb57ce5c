"""Helpers shared by the normaliser tests: fixture files wrapped as RawResponse objects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.records import Identifier, RawResponse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FETCHED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CONTENT_TYPES = {".json": "application/json", ".xml": "text/xml", ".txt": "text/plain"}


def fixture_text(source: str, name: str) -> str:
    return (FIXTURES / source / name).read_text(encoding="utf-8")


def make_raw(
    source: str,
    endpoint: str,
    body: str,
    *requested: Identifier,
    status: int = 200,
    url: str = "https://example.invalid/",
    content_type: str = "application/json",
) -> RawResponse:
    return RawResponse(
        source=source,
        endpoint=endpoint,
        request_url=url,
        http_status=status,
        content_type=content_type,
        body=body,
        fetched_at=FETCHED_AT,
        requested=tuple(requested),
    )


def raw_fixture(
    source: str, endpoint: str, name: str, *requested: Identifier, status: int = 200
) -> RawResponse:
    """A RawResponse whose body is ``tests/fixtures/<source>/<name>``."""
    return make_raw(
        source,
        endpoint,
        fixture_text(source, name),
        *requested,
        status=status,
        url=f"https://example.invalid/{source}/{name}",
        content_type=CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
    )
