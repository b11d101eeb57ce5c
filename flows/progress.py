"""Progress on a terminal: one bar per source on stderr when it is a TTY, nothing otherwise
(the per-batch log lines carry the same information for logs and CI)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence


class Progress:
    """Thread-safe progress bars keyed by source; a no-op when stderr is not a terminal."""

    def __init__(self, sources: Sequence[str], *, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._lock = threading.Lock()
        self._bars = None
        self._tasks: dict[str, int] = {}
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bars

            self._bars = Bars(
                TextColumn("{task.description:<9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            for s in sources:
                self._tasks[s] = self._bars.add_task(s, total=0)
            self._bars.start()

    def add_total(self, source: str, n: int) -> None:
        """Announce ``n`` more identifiers to fetch from ``source``."""
        if self._bars is None:
            return
        with self._lock:
            task = self._bars.tasks[self._tasks[source]]
            self._bars.update(self._tasks[source], total=(task.total or 0) + n)

    def update(self, source: str, done: int, total: int) -> None:
        """``done`` of the current round's ``total`` for ``source`` (called after each batch)."""
        if self._bars is None:
            return
        with self._lock:
            task = self._bars.tasks[self._tasks[source]]
            base = (task.total or 0) - total
            self._bars.update(self._tasks[source], completed=base + done)

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
