"""flows.publish: the report at the end of a run is a nicety; it never fails the run."""

from __future__ import annotations

import logging

from flows.publish import publish_report
from flows.steps import Writer


def test_the_report_is_written_through_the_runs_own_connection(tmp_path, monkeypatch):
    published = []
    monkeypatch.setattr("flows.publish._artifacts", published.append)
    writer = Writer(tmp_path / "w.duckdb")
    try:
        got = publish_report(writer, tmp_path / "out" / "r.html")
    finally:
        writer.close()
    assert got == str(tmp_path / "out" / "r.html")
    assert (tmp_path / "out" / "r.html").stat().st_size > 1000
    assert [s.path for s in published] == [tmp_path / "out" / "r.html"]


def test_a_report_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr("flows.publish._artifacts", lambda summary: None)
    (tmp_path / "taken").mkdir()
    writer = Writer(tmp_path / "w.duckdb")
    try:
        with caplog.at_level(logging.WARNING, logger="flows.publish"):
            assert publish_report(writer, tmp_path / "taken") is None
    finally:
        writer.close()
    assert "could not write the report" in caplog.text
