"""Run summaries as people read them."""

from __future__ import annotations

import io

from flows.report import print_run_summary, run_markdown

SUMMARY = {
    "run_id": "r1",
    "documents": 2,
    "mentions": 30,
    "identifiers": 25,
    "works_in_documents": 12,
    "seconds": 3.2,
    "wall_seconds": 12.5,
    "prefect_seconds": 9.3,
    "sources": {
        "openalex": {
            "asked": 12,
            "ok": 11,
            "not_found": 1,
            "failed": 0,
            "pending": 0,
            "requests": 2,
            "seconds": 1.0,
            "errors": [],
        },
        "pubmed": {
            "asked": 12,
            "ok": 0,
            "not_found": 0,
            "failed": 0,
            "pending": 12,
            "requests": 1,
            "seconds": 0.1,
            "errors": ["pubmed: name resolution failed"],
        },
    },
    "unreachable": ["pubmed"],
}


def test_markdown_artifact_has_a_row_per_source():
    md = run_markdown(SUMMARY)
    assert "| openalex | 12 | 11 | 1 | 0 | 0 | 0 | 2 |" in md  # a summary without not_in_source
    assert "| pubmed | 12 | 0 | 0 | 0 | 0 | 12 | 1 |" in md


def test_markdown_and_terminal_show_not_in_source():
    crossref = {**SUMMARY["sources"]["openalex"], "ok": 9, "not_in_source": 2}
    summary = {**SUMMARY, "sources": {"crossref": crossref}, "unreachable": []}
    assert "| crossref | 12 | 9 | 1 | 2 | 0 | 0 | 2 |" in run_markdown(summary)
    out = io.StringIO()
    print_run_summary(summary, stream=out)
    assert "9 ok, 1 not found, 2 not in source" in out.getvalue()


def test_terminal_summary_names_unreachable_sources_once():
    out = io.StringIO()
    print_run_summary(SUMMARY, stream=out)
    text = out.getvalue()
    assert text.count("could not reach pubmed") == 1
    assert "11 ok, 1 not found" in text
    assert "Prefect 9.3 s" in text


def test_refresh_summary_counts_observations_and_says_what_stays_stale():
    from flows.report import print_refresh_summary

    out = io.StringIO()
    summary = dict(SUMMARY, stale_after="7 days, 0:00:00", observations=11)
    print_refresh_summary(summary, stream=out)
    text = out.getvalue()
    assert "11 observations appended" in text
    assert "stay stale" in text and text.count("could not reach") == 1
