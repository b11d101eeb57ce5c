"""flows.head_start: the seed documents read while Prefect gets ready, taken by documents_task."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from flows import cli, head_start
from flows.head_start import HeadStart, take, warm_imports
from flows.interrupt import StopRequest
from pipeline.errors import InputError
from pipeline.extract import extract_paths

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "tests/fixtures/documents"
SOME = [
    str(DOCS / n)
    for n in (
        "elife-00013.xml",
        "efetch_pmc.xml",
        "plos-one-0197919-p1-18-21.pdf",
        "zotero-ris-05.ris",
    )
]


def some_docs() -> list[str]:
    return [p for p in SOME if Path(p).exists()] or [str(ROOT / "seeds")]


def summary(docs) -> list[tuple]:
    return [(d.path, len(d.mentions), tuple(m.identifier for m in d.mentions)) for d in docs]


@pytest.fixture(autouse=True)
def _nothing_offered():
    yield
    head_start._offered.clear()
    for thread in threading.enumerate():  # a head start still warming must not outlive its test
        if thread.name == "head-start":
            thread.join(timeout=120)


def test_a_head_start_reads_what_documents_task_would_read():
    paths = some_docs()
    head = HeadStart(paths, warm=()).start()
    got = take(paths)
    assert got is not None
    assert summary(got) == summary(extract_paths(paths))
    assert head.documents == []  # handed over: the run alone holds (and frees) them


def test_documents_are_taken_once_and_only_for_the_same_arguments():
    paths = some_docs()
    HeadStart(paths, exclude=["/tmp/w.duckdb"], warm=()).start()
    assert take(paths) is None  # another exclude: not what this run would read
    assert take(paths, exclude=["/tmp/w.duckdb"]) is not None
    assert take(paths, exclude=["/tmp/w.duckdb"]) is None  # once


def test_a_stop_while_reading_is_never_taken_as_the_whole():
    stop = StopRequest()
    stop.set("SIGINT")
    paths = some_docs()
    HeadStart(paths, stop=stop, warm=()).start()
    assert take(paths) is None  # documents_task reads again, and stops at its first check


def test_a_reading_that_raised_is_read_again_by_the_run(tmp_path):
    missing = [str(tmp_path / "absent")]
    HeadStart(missing, warm=()).start()
    assert take(missing) is None  # documents_task reads again, and raises there:
    with pytest.raises(InputError, match="absent: no such file"):
        list(extract_paths(missing))


def test_a_withdrawn_head_start_is_not_taken():
    paths = some_docs()
    head = HeadStart(paths, warm=()).start()
    head.withdraw()
    assert take(paths) is None


def test_warm_imports_skip_names_that_do_not_import():
    sys.modules.pop("json.tool", None)
    warm_imports(["enrich_no_such_module", "json.tool"])
    assert "json.tool" in sys.modules


def _warm_calls(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(head_start, "warm_imports", lambda names, stop: calls.append(tuple(names)))
    return calls


def test_the_warm_up_waits_until_the_command_has_imported(monkeypatch):
    """Warming while the command still imported Prefect raised Python's import "deadlock
    detected" (Prefect printed "Failed to initialize plugins") in one of the two threads."""
    calls = _warm_calls(monkeypatch)
    paths = some_docs()
    head = HeadStart(paths, warm=["json.tool"]).start()
    assert take(paths) is not None  # read, and not warming yet
    head._thread.join(0.5)
    assert calls == [] and head._thread.is_alive()
    head.may_warm()
    head.warmed()
    assert calls == [("json.tool",)] and not head._thread.is_alive()


def test_a_head_start_still_reading_when_the_flow_starts_never_warms(monkeypatch, tmp_path):
    calls = _warm_calls(monkeypatch)
    release = threading.Event()
    import pipeline.extract

    def slow(paths, **kw):
        release.wait(10)
        return iter(())

    monkeypatch.setattr(pipeline.extract, "extract_paths", slow)
    head = HeadStart([str(tmp_path)], warm=["json.tool"]).start()
    head.may_warm()
    head.warmed()  # returns at once: the flow imports for itself, as without a head start
    assert head._thread.is_alive()
    release.set()
    head._thread.join(5)
    assert calls == [] and not head._thread.is_alive()


def test_reading_documents_after_preload_imports_nothing():
    """The head start reads while the command imports Prefect: a reader importing then could
    meet those imports halfway. Every format is read in a fresh interpreter after
    ``pipeline.readers.preload()``, and no module may be new."""
    import subprocess

    names = [
        "acm-data-placement.pdf", "pandoc-notes.docx", "elife-00013.xml", "pubmed1.xml",
        "endnote_article.xml", "csl_pubmed.json", "pubmed_result1.nbib", "zotero-ris-05.ris",
    ]  # fmt: skip
    docs = [str(DOCS / n) for n in names] + [str(ROOT / "seeds")]
    docs += [
        str(p)
        for p in (ROOT / "tests/fixtures").rglob("*")
        if p.suffix in (".bib", ".html", ".csv", ".enw", ".md", ".txt")
    ][:12]
    code = (
        "import sys; import pipeline.extract; from pipeline.readers import preload; preload();"
        "before = set(sys.modules);"
        f"docs = list(pipeline.extract.extract_paths({docs!r}));"
        "print(len(docs)); print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert int(out[0]) >= len(docs) - 1
    new = [m for m in eval(out[1]) if not m.startswith("encodings.")]  # codecs: leaf modules
    assert new == []


@pytest.mark.parametrize("name", head_start.WARM_MODULES)
def test_every_warm_module_exists(name):
    # a renamed module would silently turn its warm-up off
    assert importlib.util.find_spec(name) is not None


@pytest.mark.prefect
@pytest.mark.e2e
def test_a_run_reads_each_seed_document_once_while_prefect_gets_ready(
    prefect_harness, api, monkeypatch, tmp_path
):
    for name, value in api.env().items():
        monkeypatch.setenv(name, value)
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    import pipeline.extract as extract

    reads: list[tuple[str, str]] = []
    real = extract.extract_document

    def counted(path, **kw):
        if Path(path).parent == seeds:
            reads.append((Path(path).name, threading.current_thread().name))
        return real(path, **kw)

    monkeypatch.setattr(extract, "extract_document", counted)
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    names = sorted(p.name for p in seeds.iterdir())
    assert sorted(n for n, _ in reads) == names  # each once: documents_task did not read again
    assert {t for _, t in reads} == {"head-start"}
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = con.execute("select count(*) from seed_documents").fetchone()[0]
    finally:
        con.close()
    assert loaded == len(names)
