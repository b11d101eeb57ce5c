"""The page: self-contained (no CDN, no external script or style), every title escaped, each
chart with its numbers as a table, sortable/filterable tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from warehouse.report.data import collect
from warehouse.report.html import render
from warehouse.scope import scope_all


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def page(con) -> str:
    scope_all(con)
    return render(collect(con, "all 4 works"), source="w.duckdb", generated_at=datetime.now(UTC))


def parsed(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def test_nothing_is_loaded_from_elsewhere(warehouse):
    tags = parsed(page(warehouse)).tags
    assert not [a for t, a in tags if t == "script" and a.get("src")]
    assert not [a for t, a in tags if t == "link"]
    assert not [a for t, a in tags if t in ("img", "iframe", "object", "embed")]
    external = [a.get("href") for t, a in tags if t == "a" and "://" in (a.get("href") or "")]
    assert external and all(
        h.startswith(("https://doi.org/", "https://pubmed.", "https://pmc.")) for h in external
    ), external


def test_a_hostile_title_is_text_not_markup(warehouse):
    warehouse.begin()
    warehouse.execute(
        "update works set title = '<script>alert(1)</script><img src=x onerror=alert(2)>' "
        "where doi = '10.1/d'"
    )
    try:
        html = page(warehouse)
    finally:
        warehouse.rollback()
    scripts = [a for t, a in parsed(html).tags if t == "script"]
    assert len(scripts) == 1  # the report's own
    assert "onerror=alert" not in re.sub(r"&lt;.*?&gt;", "", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_chart_has_its_numbers_in_a_table(warehouse):
    html = page(warehouse)
    figures = re.findall(r"<figure class=\"chart-block\">(.*?)</figure>", html, re.S)
    assert len(figures) == 8
    for figure in figures:
        assert "<svg" in figure and "<table" in figure or "None." in figure


def test_tables_are_sortable_and_filterable(warehouse):
    tags = parsed(page(warehouse)).tags
    tables = [a for t, a in tags if t == "table"]
    filters = {a["data-table"] for t, a in tags if t == "input"}
    assert tables and all("sortable" in a["class"] for a in tables)
    assert {a["id"] for a in tables} <= filters


def test_numbers_are_marked_for_numeric_sorting(warehouse):
    assert re.search(r'<td class="num" data-value="12">12</td>', page(warehouse))
