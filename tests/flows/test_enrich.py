"""The enrich flow's pieces that run without a Prefect server (tasks' ``.fn``)."""

from __future__ import annotations

from flows import enrich
from flows.steps import Writer
from pipeline.config import Settings
from warehouse.load import start_run


def test_the_documents_task_loads_the_seeds_and_returns_only_their_summary(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "refs.txt").write_text(
        "References\n\n1. A. One. doi: 10.1234/one PMID: 111\n2. B. Two. doi: 10.1234/two\n",
        encoding="utf-8",
    )
    writer = Writer(tmp_path / "w.duckdb")
    try:
        run_id = writer(start_run, "enrich", {})
        settings = Settings(db_path=tmp_path / "w.duckdb")
        summary = enrich.documents_task.fn(writer, [str(seeds)], run_id, settings)
        mentions = writer(lambda c: c.execute("select count(*) from mentions").fetchone()[0])
    finally:
        writer.close()
    # the documents themselves stay inside the task: nothing of them outlives it in the flow
    assert {k: summary[k] for k in ("documents", "mentions", "identifiers")} == {
        "documents": 1,
        "mentions": 3,
        "identifiers": 3,
    }
    assert summary["works_in_documents"] == 2
    assert summary["input_errors"] == []
    assert mentions == 3


def test_memory_is_released_after_large_documents_only(tmp_path, monkeypatch):
    (tmp_path / "refs.txt").write_text("doi: 10.1234/one\ndoi: 10.1234/two\n", encoding="utf-8")
    calls = []
    monkeypatch.setattr(enrich, "release_memory", lambda: calls.append(1))
    writer = Writer(tmp_path / "w.duckdb")
    try:
        settings = Settings(db_path=tmp_path / "w.duckdb")
        for threshold in (3, 2):  # 2 mentions: below, then at the threshold
            monkeypatch.setattr(enrich, "RELEASE_AFTER_MENTIONS", threshold)
            run_id = writer(start_run, "enrich", {})
            enrich.documents_task.fn(writer, [str(tmp_path / "refs.txt")], run_id, settings)
    finally:
        writer.close()
    assert calls == [1]


def test_releasing_memory_is_safe_to_call_at_any_time():
    enrich.release_memory()
    enrich.release_memory()
