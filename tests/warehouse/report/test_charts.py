"""The inline SVG charts: well-formed, one mark per number, labels escaped, empty data drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from warehouse.report import charts

SVG = "{http://www.w3.org/2000/svg}"


def marks(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    return [e for e in root.iter() if e.get("class") == "mark"]


def test_a_bar_per_value_with_its_number_on_hover():
    svg = charts.bar_chart("ids", ["doi", "pmid"], [12, 3])
    found = marks(svg)
    assert len(found) == 2
    assert [m.find(SVG + "title").text for m in found] == ["doi: 12", "pmid: 3"]


def test_stacked_bars_skip_zero_segments_and_show_a_legend():
    svg = charts.stacked_bars("ledger", ["crossref", "pubmed"], {"ok": [3, 0], "failed": [1, 2]})
    assert len(marks(svg)) == 3
    assert ">ok<" in svg and ">failed<" in svg


def test_lines_have_a_point_per_value_on_a_shared_axis():
    svg = charts.line_chart("t", {"a": [("2024", 1), ("2025", 4)], "b": [("2025", 2)]})
    root = ET.fromstring(svg)
    assert len([e for e in root.iter(SVG + "circle")]) == 3
    assert len([e for e in root.iter(SVG + "polyline")]) == 2


def test_columns_per_year():
    assert len(marks(charts.column_chart("y", [2024, 2025, 2026], [1, 0, 5]))) == 3


@pytest.mark.parametrize(
    "draw",
    [lambda: charts.bar_chart("e", [], []), lambda: charts.line_chart("e", {}),
     lambda: charts.column_chart("e", [], []), lambda: charts.stacked_bars("e", [], {"ok": []})],
)  # fmt: skip
def test_no_data_still_draws_a_valid_chart(draw):
    assert marks(draw()) == []


def test_labels_from_the_data_are_escaped():
    svg = charts.line_chart("<b>", {"</svg><script>x</script>": [("2024", 1)]})
    ET.fromstring(svg)  # still one well-formed SVG
    assert "<script>" not in svg


def test_axis_labels_stay_short_for_large_numbers():
    svg = charts.column_chart("big", ["2024", "2025"], [12_000_000, 25_000_000])
    assert ">25M<" in svg and ">12.5M<" in svg
