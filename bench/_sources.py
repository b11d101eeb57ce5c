"""Each source working on its plan in a thread of its own, as the flows run them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from pipeline.records import Identifier

Step = Callable[[str, Sequence[Identifier]], Any]


def in_threads(plans: Mapping[str, Sequence[Identifier]], step: Step) -> dict[str, Any]:
    """``step(source, ids)`` for every source of ``plans`` at once, one thread each; what each
    returned, by source. The first error a thread met is raised once all have ended."""
    done: dict[str, Any] = {}
    errors: list[BaseException] = []

    def work(source: str) -> None:
        try:
            done[source] = step(source, plans[source])
        except BaseException as exc:  # reported, never swallowed
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return done


def fetch_in_threads(
    plans: Mapping[str, Sequence[Identifier]], *, settings: Any, writer: Any, run_id: str
) -> dict[str, Any]:
    """``flows.steps.fetch_and_load`` for every source of ``plans`` at once (the flow's first
    round); their tallies by source."""
    from flows import steps

    step = partial(steps.fetch_and_load, settings=settings, writer=writer, run_id=run_id)
    return in_threads(plans, step)
