"""Settings from the environment: defaults, tuning variables, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import (
    DEFAULT_OPENALEX_URL,
    DUCKDB_MEMORY_MB,
    NCBI_RPS_KEYED,
    NCBI_RPS_KEYLESS,
    Settings,
)
from pipeline.errors import ConfigError


def test_an_empty_environment_gives_the_real_apis_and_the_default_caps():
    s = Settings.from_env({})
    assert s.openalex_url == DEFAULT_OPENALEX_URL
    assert s.duckdb_memory_mb == DUCKDB_MEMORY_MB
    assert s.effective_ncbi_rps == NCBI_RPS_KEYLESS


def test_tuning_variables_are_read_as_numbers():
    s = Settings.from_env({"ENRICH_DUCKDB_MEMORY_MB": "1024", "ENRICH_OPENALEX_RPS": "20"})
    assert (s.duckdb_memory_mb, s.openalex_rps) == (1024, 20.0)


def test_an_ncbi_key_raises_the_pacing_and_stays_out_of_repr():
    s = Settings.from_env({"NCBI_API_KEY": "k3y-s3cret"})
    assert s.effective_ncbi_rps == NCBI_RPS_KEYED
    assert "k3y-s3cret" not in repr(s)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ENRICH_DUCKDB_MEMORY_MB", "lots", "is not a number"),
        ("ENRICH_DUCKDB_MEMORY_MB", "0", "greater than zero"),
        ("ENRICH_OPENALEX_URL", "ftp://x", "not an http(s) URL"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(name, value, says):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value})
    assert name in str(err.value) and says in str(err.value) and "\n" not in str(err.value)


def test_the_db_path_comes_from_enrich_db_unless_overridden():
    assert Settings.from_env({"ENRICH_DB": "x.duckdb"}).db_path == Path.cwd() / "x.duckdb"
    assert Settings.from_env({"ENRICH_DB": "x.duckdb"}, db_path=Path("y")).db_path == Path("y")


def test_enrich_report_names_the_report_file_and_is_off_when_unset_or_blank():
    assert Settings.from_env({"ENRICH_REPORT": "out/r.html"}).report_path == Path("out/r.html")
    assert Settings.from_env({}).report_path is None
    assert Settings.from_env({"ENRICH_REPORT": "  "}).report_path is None
