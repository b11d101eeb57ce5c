"""The local Prefect server process of one ``enrich`` run: ``python -m flows.server_child
PARENT_PID PORT``. It dies with its parent.

Prefect's own ephemeral server is a plain child: ``kill -9`` of ``enrich run`` left it running
under PID 1 (~200 MB, listening on loopback; 24 of 27 kills in issue 21), and Ctrl-C at a
terminal reached it too (the whole foreground process group gets SIGINT), so the run lost its API
mid-flight and dumped ``Error logging to API`` for a minute. This launcher runs the same server
(uvicorn, ``prefect.server.api.server:create_app`` through :func:`create_app`) but:

- asks Linux to SIGKILL it when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and
- watches its parent's pid every WATCH_INTERVAL seconds as well (any POSIX system; a parent that
  died before the prctl took effect);
- starts faster: no garbage collection while it imports Prefect's server, and Prefect's later
  calls for the running app are answered without building it again (:func:`create_app`).

The parent starts it in its own session (no terminal signals); it stops it with SIGTERM.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL = 1.0  # seconds


def die_with_parent(parent: int) -> None:
    """Arrange for this process to end when ``parent`` does (exit at once if it already has)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog below is enough
        pass
    if os.getppid() != parent:  # the parent died before prctl: nobody would send the signal
        os._exit(0)

    def watch() -> None:
        while True:
            threading.Event().wait(WATCH_INTERVAL)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def create_app():
    """Prefect's API app (``prefect.server.api.server:create_app``), then the garbage collector
    back on (:func:`main` turns it off): what exists now (the modules, the app) lives as long as
    the process, so it is frozen out of every later collection.

    Prefect's own later calls of ``create_app()`` with no arguments (the automations service
    makes two clients of "the running server's app" as it starts, while the first request
    waits) get this app at once: Prefect caches it under the same settings anyway, but each call
    first reloaded its logging configuration from YAML (0.13 s of CPU each; server alone, 4
    alternations at load 4: health + first request 3.16 s median against 3.58 s)."""
    server = importlib.import_module("prefect.server.api.server")
    prefect_app = server.create_app
    app = prefect_app()

    def running_app(*args, **kwargs):
        return app if not args and not kwargs else prefect_app(*args, **kwargs)

    server.create_app = running_app
    gc.freeze()
    gc.enable()
    return app


def main(argv: list[str]) -> None:
    """``PARENT_PID PORT``: serve Prefect's API on 127.0.0.1:PORT until told to stop."""
    parent, port = int(argv[0]), int(argv[1])
    die_with_parent(parent)
    # Importing Prefect's server makes ~300,000 objects that live as long as the process, and
    # little garbage: the collector's passes over them were 10-15% of the start-up's CPU
    # (3.4-3.9 s instead of 3.8-4.5 s of user CPU to import it and create the app; +11 MB of
    # peak RSS), so it is off until the app exists.
    gc.disable()
    import prefect
    from uvicorn.main import main as uvicorn

    # the arguments Prefect's SubprocessASGIServer passes (prefect 3.9.1, server/api/server.py)
    uvicorn(
        args=[
            "--app-dir",
            str(prefect.__module_path__.parent),
            "--factory",
            "flows.server_child:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
            "--lifespan",
            "on",
        ]  # fmt: skip
    )


if __name__ == "__main__":
    main(sys.argv[1:])
