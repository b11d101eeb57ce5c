"""Stop a run cleanly on SIGINT (Ctrl-C) or SIGTERM, for every verb that fetches.

The first signal only *asks* the run to stop (:data:`STOP` is set): fetching stops at once, a
load already inside its transaction commits, the identifiers not yet loaded are marked
``pending`` (the next run asks them again), the run is recorded ``interrupted`` and its Prefect
flow run ends ``Cancelled``. Nothing waits for a fetch thread blocked on a socket: those threads
are daemons, abandoned where they stand, so the stop holds whatever the HTTP layer does.
A second signal stops at once (``KeyboardInterrupt``; exit 130 all the same).

A verb uses it in three steps (``enrich run``/``refresh`` do; ``match`` can):

    with stop_on_signals():          # the CLI, around the verb
        ...
        STOP.check()                 # between steps: raises Interrupted once asked
        if STOP.is_set(): ...        # in loops that wind down by themselves

No Prefect here: flows.steps uses it too.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pipeline.errors import EnrichError

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class Interrupted(EnrichError):
    """The run was asked to stop by a signal; what was loaded is kept."""


class StopRequest:
    """A thread-safe "please stop" flag, with the name of the signal that raised it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        """Ask every loop watching this flag to stop (the first reason is kept)."""
        if not self._event.is_set():
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking as soon as a stop is asked; whether it was."""
        return self._event.wait(timeout)

    def check(self) -> None:
        """Raise :class:`Interrupted` if a stop was asked."""
        if self._event.is_set():
            raise Interrupted(f"interrupted by {self.reason or 'a signal'}")

    def clear(self) -> None:
        """Forget an earlier stop (a new verb in the same process, or a test)."""
        self._event.clear()
        self.reason = None


STOP = StopRequest()


@contextmanager
def stop_on_signals(
    stop: StopRequest = STOP, signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM)
) -> Iterator[StopRequest]:
    """Within the block, the first of ``signals`` sets ``stop``; a second raises
    KeyboardInterrupt. The previous handlers come back on the way out. Outside the main thread
    (signal handlers can only be set there) the block runs without them."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    stop.clear()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in signals}
    _active.append(handler)
    try:
        yield stop
    finally:
        _active.remove(handler)
        for s, h in previous.items():
            signal.signal(s, h)


_active: list = []  # the handlers of the stop_on_signals blocks in force, innermost last


@contextmanager
def reclaimed(signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Inside a flow body: put back the handler of the enclosing :func:`stop_on_signals`.

    Prefect's flow engine replaces the SIGTERM handler while a flow runs (its bridge raises
    TerminationSignal, which would end the run as ``Crashed`` mid-load). Within ``enrich run``
    a SIGTERM must stop the run as cleanly as Ctrl-C does. Where no such block is in force (a
    deployment run by ``enrich serve`` or a worker) Prefect's own handling is left alone."""
    if not _active or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _active[-1]) for s in signals}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
