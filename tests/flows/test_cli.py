"""The command line's own behaviour: parsing, usage errors, exit codes (no Prefect here)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from flows import cli


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration_accepts_units_and_combinations(text, expected):
    assert cli.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "7x", "d7", "1 day", "-1d", "7d junk"])
def test_parse_duration_refuses_malformed_text(text):
    with pytest.raises(cli.UsageError, match="duration"):
        cli.parse_duration(text)


def test_parse_sources_keeps_order_and_drops_repeats():
    assert cli.parse_sources("pubmed, openalex,pubmed") == ["pubmed", "openalex"]


@pytest.mark.parametrize("text", ["", "scopus", "openalex,wos"])
def test_parse_sources_refuses_unknown_names(text):
    with pytest.raises(cli.UsageError):
        cli.parse_sources(text)


def test_every_verb_has_help(capsys):
    parser = cli.build_parser()
    verbs = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse keeps them here
    assert {"run", "extract", "refresh", "sql", "status", "serve", "export", "rebuild"} <= set(
        verbs
    )
    for name, sub in verbs.items():
        assert sub.description, f"{name} has no description"


def test_unknown_verb_exits_2_with_one_line(capsys):
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "frobnicate" in err


def test_extract_missing_path_exits_2_naming_it(capsys, tmp_path):
    missing = tmp_path / "nope.txt"
    assert cli.main(["extract", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and err.count("\n") == 1


def test_run_missing_path_exits_2_before_any_work(capsys, tmp_path):
    assert cli.main(["run", str(tmp_path / "absent"), "--db", str(tmp_path / "w.duckdb")]) == 2
    assert "absent" in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()


def test_bad_configuration_exits_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ENRICH_OPENALEX_URL", "ftp://nowhere")
    assert cli.main(["run", str(tmp_path), "--db", str(tmp_path / "w.duckdb")]) == 2
    assert "ENRICH_OPENALEX_URL" in capsys.readouterr().err


def test_refresh_bad_duration_exits_2(capsys, tmp_path):
    assert cli.main(["refresh", "--stale-after", "soon", "--db", str(tmp_path / "w.duckdb")]) == 2


def test_sql_without_a_warehouse_exits_2_with_a_hint(capsys, tmp_path):
    assert cli.main(["sql", "select 1", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "enrich run" in capsys.readouterr().err


def test_extract_prints_contract_json_for_the_seeds(capsys):
    assert cli.main(["extract", "seeds/", "--format", "json"]) == 0
    mentions = json.loads(capsys.readouterr().out)
    assert mentions, "the seeds mention identifiers"
    keys = ["scheme", "value", "document", "start", "end", "line", "section", "group", "role"]
    assert all(list(m) == keys for m in mentions)


def test_a_file_that_is_not_a_warehouse_exits_2_in_one_line(capsys, tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("these are my notes, not a database\n" * 100)
    assert cli.main(["sql", "select 1", "--db", str(bogus)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bogus) in err and "Traceback" not in err


def test_bad_sql_exits_2_in_one_line(capsys, tmp_path):
    from warehouse.db import connect

    db = tmp_path / "w.duckdb"
    connect(db).close()
    capsys.readouterr()  # setup's own log lines
    assert cli.main(["sql", "selec 1", "--db", str(db)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_broken_symlink_is_named_as_such(capsys, tmp_path):
    link = tmp_path / "loop"
    link.symlink_to(link)
    assert cli.main(["extract", str(link)]) == 2
    assert "symbolic link" in capsys.readouterr().err


def test_extract_skips_non_documents_found_in_folders_but_not_named_ones(capsys, tmp_path):
    (tmp_path / "a.txt").write_text("PMID: 27172445\n")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    (tmp_path / "w.duckdb").write_bytes(b"DUCK" + bytes(50))
    (tmp_path / "w.duckdb.wal").write_bytes(bytes(50))
    (tmp_path / "CVS").mkdir()
    (tmp_path / "CVS" / "Entries").write_text("doi:10.9999/cvs\n")
    assert cli.main(["extract", str(tmp_path)]) == 0  # the PNG is skipped, with its line
    captured = capsys.readouterr()
    assert [m["value"] for m in json.loads(captured.out)] == ["27172445"]
    assert captured.err.splitlines() == [f"enrich: {tmp_path / 'b.png'}: " + BINARY]
    assert cli.main(["extract", str(tmp_path / "b.png")]) == 2  # named: an input error


BINARY = "binary file (NUL bytes or a binary signature); not read"


def test_extract_format_text_prints_what_offsets_point_into(capsys, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Caf\u00e9 PMID: 27172445\n")
    assert cli.main(["extract", str(path), "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert cli.main(["extract", str(path)]) == 0
    (m,) = json.loads(capsys.readouterr().out)
    assert text[m["start"] : m["end"]] == "27172445"


def test_every_verb_help_ends_with_examples_and_every_argument_has_help():
    parser = cli.build_parser()
    verbs = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse keeps them here
    for name, sub in verbs.items():
        text = sub.format_help().rstrip()
        assert "examples:" in text and text.splitlines()[-1].strip().startswith("enrich"), name
        for action in sub._actions:  # noqa: SLF001
            assert action.help, f"enrich {name}: {action.dest} has no help text"


def test_run_from_another_folder_uses_enrich_home_for_its_defaults(monkeypatch, tmp_path):
    from pipeline.config import Settings

    home = tmp_path / "home"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENRICH_HOME", str(home))
    s = Settings.from_env()
    assert s.db_path == home / "warehouse" / "warehouse.duckdb"
    assert s.seeds_path == home / "seeds"


def test_dotenv_in_the_working_folder_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    from pipeline.config import Settings

    (tmp_path / ".env").write_text('ENRICH_MAILTO="dot@example.org"\nENRICH_TIMEOUT=12\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENRICH_MAILTO", raising=False)
    monkeypatch.setenv("ENRICH_TIMEOUT", "7")
    s = Settings.from_env()
    assert s.mailto == "dot@example.org" and s.read_timeout == 7.0


def test_default_home_outside_the_project_is_the_users_data_folder(monkeypatch, tmp_path):
    from pipeline.config import enrich_home

    monkeypatch.chdir(tmp_path)
    assert enrich_home({"XDG_DATA_HOME": str(tmp_path / "data")}) == tmp_path / "data" / "enrich"
    monkeypatch.chdir(cli.__file__.rsplit("/flows/", 1)[0])
    from pipeline.config import PROJECT_DIR

    assert enrich_home({}) == PROJECT_DIR


# -- terminal safety: names and values are shown escaped, never obeyed --------------------------

HOSTILE = "evil\n\x1b[2J\x1b]0;owned\x07\u202etxt.md"  # newline, clear screen, retitle, RTL
CONTROLS = ("\n\x1b", "\x1b", "\x07", "\u202e")


def _lines_safe(text: str) -> None:
    assert not any(c in text for c in CONTROLS[1:]), repr(text)


def test_extract_table_and_messages_show_hostile_file_names_escaped(capsys, tmp_path):
    (tmp_path / HOSTILE).write_text("See doi:10.1111/ejh.70051 and PMID: 36455991.\n")
    (tmp_path / "binary\x1b[31m.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    # the binary file, found in a folder, is skipped with its line (exit 2 only when named)
    assert cli.main(["extract", str(tmp_path), "--format", "table"]) == 0
    out, err = capsys.readouterr()
    _lines_safe(out)
    _lines_safe(err)
    rows = [line for line in out.splitlines() if "10.1111/ejh.70051" in line or "36455991" in line]
    assert len(rows) == 2 and all(
        "evil\\n\\x1b[2J\\x1b]0;owned\\x07\\u202etxt.md" in r for r in rows
    )
    assert "binary\\x1b[31m.png" in err and err.count("\n") == 1  # one line for the binary file


def test_a_missing_path_with_escape_sequences_is_named_escaped(capsys, tmp_path):
    assert cli.main(["extract", str(tmp_path / "gone\x1b]0;owned\x07\n.txt")]) == 2
    err = capsys.readouterr().err
    _lines_safe(err)
    assert err.count("\n") == 1 and "gone\\x1b]0;owned\\x07\\n.txt" in err


def test_a_file_name_that_is_not_utf8_prints_in_every_format(capsys, tmp_path):
    import os

    name = os.fsdecode(b"caf\xe9.txt")
    (tmp_path / name).write_text("doi:10.1111/ejh.70051\n")
    assert cli.main(["extract", str(tmp_path / name), "--format", "table"]) == 0
    assert "caf\\xe9.txt" in capsys.readouterr().out
    assert cli.main(["extract", str(tmp_path / name), "--format", "json"]) == 0
    (mention,) = json.loads(capsys.readouterr().out)
    assert os.fsencode(mention["document"]).endswith(b"caf\xe9.txt")  # the path as given


def test_sql_table_and_status_show_stored_text_escaped(capsys, tmp_path):
    from pipeline.records import Mention, SeedDocument
    from warehouse.db import connect
    from warehouse.load import load_documents, start_run

    db = tmp_path / "w.duckdb"
    con = connect(db)
    doc_path = str(tmp_path / HOSTILE)
    mention = Mention("doi", "10.1111/ejh.70051", doc_path, 4, 21, 1, None, 0, "mention")
    load_documents(con, [SeedDocument(doc_path, "ab" * 32, 40, (mention,))],
                   run_id=start_run(con, "t", {}))  # fmt: skip
    con.close()
    capsys.readouterr()
    assert cli.main(["sql", "select path, 'a' || chr(27) || '[31m' as x from seed_documents",
                     "--db", str(db)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    _lines_safe(out)
    assert "a\\x1b[31m" in out and len(out.splitlines()) == 4  # header, rule, one row, count
    assert cli.main(["status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    _lines_safe(out)
    assert "evil\\n\\x1b[2J" in out
    assert cli.main(["sql", "select path from seed_documents", "--db", str(db),
                     "--format", "json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out) == [{"path": doc_path}]  # json keeps the truth


def test_a_full_disk_is_one_line_naming_where_and_exit_1(capsys, tmp_path, monkeypatch):
    import duckdb

    import flows.enrich

    def full(*args, **kwargs):
        raise duckdb.TransactionException(
            f'Failed to commit: Could not write file "{tmp_path}/w.duckdb.wal": '
            "No space left on device"
        )

    monkeypatch.setattr(flows.enrich, "run_enrich", full)
    assert cli.main(["run", str(tmp_path), "--db", str(tmp_path / "w.duckdb")]) == 1
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.startswith(f"enrich: run on {tmp_path} into ")  # the run's first line
    assert rest == [
        f"enrich: disk full at {tmp_path}/w.duckdb.wal; free space and rerun (what "
        "was loaded before is kept)"
    ]


# -- leaving the process (exit_now) ------------------------------------------------------------

EXIT_ROOT = Path(__file__).resolve().parents[2]
EXIT_SCRIPT = """
import atexit, threading, time
from flows.cli import exit_now
atexit.register(lambda: print("hook", flush=True))
threading.Thread(target=lambda: (time.sleep(0.3), print("thread", flush=True))).start()
print("main", end="")
exit_now({code})
"""


def exit_with(code: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT.format(code=code)],
        cwd=EXIT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_exit_now_joins_threads_then_runs_the_hooks_then_exits_with_the_code():
    out = exit_with(3)
    assert out.returncode == 3
    assert out.stdout.split() == ["mainthread", "hook"]


def test_a_stopped_run_exits_at_once_without_waiting_for_threads_or_hooks():
    out = exit_with(130)
    assert out.returncode == 130
    assert out.stdout == "main"  # flushed; the sleeping thread and the hook never ran
