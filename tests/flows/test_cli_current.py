"""The command line of keeping works current: `enrich run --expand citing`, the refresh's
summary lines, and ENRICH_CITING_CAP."""

from __future__ import annotations

import io

import pytest

from flows import cli
from flows.report import current_lines, print_refresh_summary
from pipeline.config import Settings
from pipeline.errors import ConfigError


def test_run_accepts_expand_citing_and_nothing_else(capsys):
    assert cli.build_parser().parse_args(["run", "--expand", "citing"]).expand == ["citing"]
    assert cli.build_parser().parse_args(["run"]).expand == []
    assert cli.main(["run", "--expand", "references"]) == 2
    assert "invalid choice: 'references'" in capsys.readouterr().err


def tally(**kw) -> dict:
    return {"asked": 0, "ok": 0, "failed": 0, "pending": 0, "requests": 0} | kw


def test_the_refresh_summary_says_what_changed_and_what_is_left_for_next_time():
    summary = {
        "stale_after": "7 days, 0:00:00",
        "current": {
            "openalex": {"changed": 3, "check": tally(), "refetch": tally(asked=3, ok=3),
                         "citing": tally(asked=11, ok=11, requests=6)},
            "crossref": {"changed": 2, "check": tally(), "refetch": tally(asked=2, ok=1, failed=1),
                         "citing": tally()},
            "pubmed": {"changed": 0, "check": tally(asked=12, ok=12, requests=1),
                       "refetch": tally(), "citing": tally()},
        },
    }  # fmt: skip
    lines = current_lines(summary)
    assert lines == [
        "openalex 3 changed since fetched, 3 re-fetched; asked who cites 11 works (6 requests)",
        "crossref 2 changed since fetched, 1 re-fetched; 1 left for the next refresh",
    ]
    out = io.StringIO()
    print_refresh_summary(summary, stream=out)
    assert all(f"enrich: {line}" in out.getvalue() for line in lines)


@pytest.mark.parametrize(("value", "cap"), [("0", 0), ("50", 50), (" 7 ", 7)])
def test_citing_cap_is_a_whole_number_and_zero_turns_it_off(value, cap):
    assert Settings.from_env({"ENRICH_CITING_CAP": value}).citing_cap == cap


@pytest.mark.parametrize("value", ["-1", "1.5", "lots"])
def test_a_bad_citing_cap_is_a_one_line_config_error(value):
    with pytest.raises(ConfigError, match="ENRICH_CITING_CAP"):
        Settings.from_env({"ENRICH_CITING_CAP": value})
