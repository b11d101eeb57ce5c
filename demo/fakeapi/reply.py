"""One HTTP answer, built by the routes and written by the server, plus small body helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
XML = "text/xml; charset=UTF-8"


@dataclass
class Reply:
    """Status, headers and body of one answer (``body`` is bytes once encoded)."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: object, *, content_type: str = JSON) -> Reply:
    """A compact JSON body, as the real APIs send it (no pretty-printing)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, content_type)


def text_reply(status: int, text: str, content_type: str = TEXT) -> Reply:
    return Reply(status, text.encode("utf-8"), content_type)


@dataclass
class Request:
    """A parsed request: ``path`` is percent-decoded once below the source prefix."""

    method: str
    source: str
    raw_path: str  # below the source prefix, still percent-encoded, e.g. "/works/10.1%2Fx"
    query: list[tuple[str, str]]  # query string, plus the form body for POST
    headers: dict[str, str]
    base: str  # "http://127.0.0.1:PORT/<source>" for Location headers
    target_length: int = 0  # len(raw path + "?" + raw query string), for URL-length limits

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a parameter (names are case-sensitive, as at the real APIs)."""
        for k, v in self.query:
            if k == name:
                return v
        return default

    def all(self, name: str) -> list[str]:
        """Every value of a repeated parameter, e.g. elink's ``id=1&id=2``."""
        return [v for k, v in self.query if k == name]


def parse_query(qs: str) -> list[tuple[str, str]]:
    """Decode a query string or form body, keeping repeated names and blank values."""
    return parse_qsl(qs, keep_blank_values=True)
