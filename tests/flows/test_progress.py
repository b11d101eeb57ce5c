"""Progress bars: one per source on a terminal, silent otherwise."""

from __future__ import annotations

from flows.progress import Progress


def test_progress_is_silent_when_not_a_terminal(capsys):
    p = Progress(["openalex"], enabled=False)
    p.add_total("openalex", 10)
    p.update("openalex", 5, 10)
    p.close()
    assert capsys.readouterr().err == ""


def test_progress_bars_accumulate_totals_across_rounds():
    p = Progress(["openalex", "pubmed"], enabled=True)
    try:
        p.add_total("openalex", 10)
        p.update("openalex", 10, 10)
        p.add_total("openalex", 4)  # a second round learns 4 more ids
        p.update("openalex", 2, 4)
        task = p._bars.tasks[p._tasks["openalex"]]
        assert (task.completed, task.total) == (12, 14)
        assert p._bars.tasks[p._tasks["pubmed"]].total == 0
    finally:
        p.close()
