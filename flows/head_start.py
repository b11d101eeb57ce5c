"""What ``enrich run`` does while Prefect gets ready: read the seed documents, import the flow.

Before its first task can run, a run waits for Prefect: its local server's start-up (6-15 s, its
own process importing Prefect's server) and, in this process, Prefect's imports (~4 s) and the
flow run's creation. Reading and extracting the seed documents needs none of that, so a
:class:`HeadStart` does it in a background thread from the moment the command line knows the
paths; ``documents_task`` then takes the documents instead of reading them again (a seed folder
of PDFs is the slowest part of a small run: 70-110 pages/s). When that is done, the thread
imports the modules the flow would otherwise import lazily after the server is ready
(:data:`WARM_MODULES`: about 1 s of CPU).

Nothing is written before the flow exists: the documents are loaded by ``documents_task`` as
before, so a stop or a server that never starts loses only the reading. A stop asked while the
thread reads ends it early; its partial result is never used (``documents_task`` reads again, and
stops at its first check). Nor is the result of a reading that raised: ``documents_task`` reads
again, so a real error (a file gone, say) is raised where it always was, and an accident of the
thread itself (two threads importing the same modules can, rarely, raise a deadlock error) costs
only the head start.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flows.interrupt import STOP, StopRequest
from pipeline.config import ReadLimits, Settings
from pipeline.records import SeedDocument

log = logging.getLogger("flows.head_start")

# Imported lazily by the flow once the server is ready (measured: modules new in sys.modules
# after an ``enrich run``, and a profile of its flow engine; prefect 3.9.1). A name that no
# longer exists is skipped: a missing name only costs the head start, never the run.
WARM_MODULES = (
    "httpx",
    "prefect.client.orchestration",  # ~1.5 s: the flow run's first API call imported it
    "prefect.events",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.artifacts",
    "prefect.concurrency.sync",
    "fastapi.encoders",  # ~0.3-0.45 s: the flow run's parameters are serialised with it
    "prefect.utilities.visualization",  # the flow call imports it
    "requests",
    "tenacity",
    "pyarrow",
    "pipeline.http",
    "pipeline.normalise",
    "pipeline.sources.openalex",
    "pipeline.sources.crossref",
    "pipeline.sources.doira",
    "pipeline.sources.pubmed",
    "warehouse.load",
    "warehouse.planning",
    "warehouse.staging",
    "flows.matching",
)

_lock = threading.Lock()
_offered: dict[tuple, HeadStart] = {}


def reading(settings: Settings) -> tuple[list[str], ReadLimits]:
    """How a run reads its seed paths: (paths never read: the warehouse's own file, even inside
    a seed folder; the read limits). ``documents_task`` and the head start both read this way,
    so what one read is what the other would have."""
    return [str(settings.db_path)], settings.read_limits


def _key(paths: Sequence[str], exclude: Sequence[str], limits: ReadLimits | None) -> tuple:
    return (tuple(paths), tuple(exclude), limits)


class HeadStart:
    """Extract ``paths`` (as ``documents_task`` would) in a daemon thread, then warm the imports."""

    def __init__(
        self,
        paths: Sequence[str],
        *,
        exclude: Sequence[str] = (),
        limits: ReadLimits | None = None,
        stop: StopRequest = STOP,
        warm: Sequence[str] = WARM_MODULES,
    ) -> None:
        self.key = _key(paths, exclude, limits)
        self.stop, self.warm = stop, tuple(warm)
        self.documents: list[SeedDocument] = []
        self.complete = False
        self._read = threading.Event()
        self._may_warm = threading.Event()
        self._too_late = False  # set before _may_warm, read after it: no lock needed
        self._thread = threading.Thread(target=self._work, name="head-start", daemon=True)

    def start(self) -> HeadStart:
        """Start the thread and offer its documents to the run's ``documents_task``."""
        import pipeline.extract  # noqa: F401 - here, not in the thread: see the module docstring
        from pipeline.readers import preload

        preload()

        with _lock:
            _offered[self.key] = self
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            from pipeline.extract import extract_paths

            paths, exclude, limits = self.key
            for doc in extract_paths(paths, exclude=exclude, limits=limits):
                if self.stop.is_set():
                    return
                self.documents.append(doc)
            self.complete = True
        except BaseException as exc:  # documents_task reads again, and raises it if it is real
            log.debug("head start: reading stopped: %r", exc)
        finally:
            self._read.set()
        while self.warm and not self._may_warm.wait(0.1):
            if self.stop.is_set():
                return
        if not self._too_late:
            warm_imports(self.warm, self.stop)

    def may_warm(self) -> None:
        """The command is done importing (Prefect included): the thread may import now."""
        self._may_warm.set()

    def warmed(self, timeout: float = 60.0) -> None:
        """Called as the flow starts: wait (at most ``timeout`` seconds) for the warm-up to end,
        so that the flow never imports while the thread does. A thread still reading will not
        warm at all (the flow imports for itself, as without a head start, and takes the
        documents when they are read)."""
        if not self._read.is_set():
            self._too_late = True
        self._may_warm.set()
        if not self._too_late:
            self._thread.join(timeout)

    def result(self) -> list[SeedDocument] | None:
        """Wait for the reading; the documents, or None when it stopped early or raised (the run
        reads again)."""
        self._read.wait()
        docs, self.documents = self.documents, []  # the run's own list from now on (it frees it)
        return docs if self.complete else None

    def withdraw(self) -> None:
        """No longer offered (the run is over, or never started); never warms after this."""
        self._too_late = True
        self._may_warm.set()
        with _lock:
            if _offered.get(self.key) is self:
                del _offered[self.key]


def take(
    paths: Sequence[str], *, exclude: Sequence[str] = (), limits: ReadLimits | None = None
) -> list[SeedDocument] | None:
    """The documents a head start read for exactly these arguments (once), else None."""
    with _lock:
        head = _offered.pop(_key(paths, exclude, limits), None)
    if head is None:
        return None
    return head.result()


def warm_imports(names: Sequence[str], stop: StopRequest = STOP) -> None:
    """Import ``names`` now (each failure skipped: warming is only ever a saving)."""
    for name in names:
        if stop.is_set():
            return
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a module that moved costs its warm-up only
            log.debug("head start: could not import %s: %s", name, exc)


@contextmanager
def head_start(paths: Sequence[str], settings: Settings) -> Iterator[HeadStart]:
    """For the length of ``enrich run``: its seed documents read as ``documents_task`` reads
    them (the warehouse's own files excluded), offered to it, withdrawn on the way out."""
    exclude, limits = reading(settings)
    head = HeadStart(list(paths), exclude=exclude, limits=limits).start()
    try:
        yield head
    finally:
        head.withdraw()
