"""Typed records: the properties the stages rely on."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

from pipeline.records import RawResponse

AT = datetime(2026, 11, 21, tzinfo=UTC)


def raw(body: str = "{}", url: str = "https://api.openalex.org/works/W1") -> RawResponse:
    return RawResponse("openalex", "works", url, 200, "application/json", body, AT)


def test_raw_id_is_the_hash_of_what_identifies_an_answer():
    r = raw()
    parts = ("openalex", "works", r.request_url, "200", "{}")
    expected = hashlib.sha256(b"".join(p.encode() + b"\x00" for p in parts)).hexdigest()[:24]
    assert r.raw_id == expected


def test_raw_id_ignores_when_it_was_fetched_and_follows_the_body():
    assert raw().raw_id == dataclasses.replace(raw(), fetched_at=datetime.now(UTC)).raw_id
    assert raw("{}").raw_id != raw('{"a": 1}').raw_id
    assert dataclasses.replace(raw("{}"), body="[]").raw_id == raw("[]").raw_id
