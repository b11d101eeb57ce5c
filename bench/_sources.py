"""Each source fetching and loading its plan in a thread of its own, as the flow's first round."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.records import Identifier


def fetch_in_threads(
    plans: Mapping[str, Sequence[Identifier]], *, settings: Any, writer: Any, run_id: str
) -> dict[str, Any]:
    """``flows.steps.fetch_and_load`` for every source of ``plans`` at once, one thread each;
    their tallies by source. The first error a thread met is raised once all have ended."""
    from flows import steps

    tallies: dict[str, Any] = {}
    errors: list[BaseException] = []

    def work(source: str) -> None:
        try:
            tallies[source] = steps.fetch_and_load(
                source, plans[source], settings=settings, writer=writer, run_id=run_id
            )
        except BaseException as exc:  # reported, never swallowed
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return tallies
