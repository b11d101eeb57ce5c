"""Python's cyclic garbage collector paused around work that makes many objects and no cycles.

One pause for the whole process: the sources load concurrently, each in its own thread, and a
YAML seed may be read in another; the collector comes back, as it was, once the last thread
inside a pause leaves. (With a pause of its own, the YAML reader turned the collector back on
when its read ended, under a load still inside its pause.)
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]

# How many threads are inside collector_paused, and whether the collector was on when the first
# of them came in.
_PAUSES = {"depth": 0, "was_enabled": False}
_PAUSE_LOCK = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off while the block runs, and back as it was once the last thread
    inside such a block leaves.

    Normalising and loading a group allocates a million objects and frees nearly all of them by
    reference counting (decoded JSON, records and row tuples hold no cycles). With the collector
    on, each young collection walked the group's objects still alive and promoted them, to be
    walked again by the older collections: about 7% of normalising. Composing a 20 MB YAML file
    makes millions of nodes: 15 s of composing with the collector on, 3 s without."""
    with _PAUSE_LOCK:
        if _PAUSES["depth"] == 0:
            _PAUSES["was_enabled"] = gc.isenabled()
            gc.disable()
        _PAUSES["depth"] += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSES["depth"] -= 1
            if _PAUSES["depth"] == 0 and _PAUSES["was_enabled"]:
                gc.enable()
