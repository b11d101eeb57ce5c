"""The local Prefect server for ``enrich run`` / ``refresh`` when no PREFECT_API_URL is set.

Started as early as the command line knows it needs one, before Prefect is even imported, so its
start-up (6-15 s; 20-30 s on a new PREFECT_HOME) overlaps the ~4 s of imports. It runs in its own
session, so a Ctrl-C at the terminal reaches only ``enrich`` (which stops cleanly and still
needs the API to record the run ``Cancelled``), and it dies with ``enrich``, even on
``kill -9`` (:mod:`flows.server_child`). While it starts, a spinner line says so on a terminal.

Why not one per-user server shared by every run, stopped when idle: it would save the start-up
on each run (bench prefect: about 1 s against a running server), but it needs a lock, an idle
timer and version checks between processes; dying with the parent needs none of that, and a
user who wants the saving runs ``prefect server start`` and sets PREFECT_API_URL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from flows.interrupt import STOP, StopRequest
from pipeline.errors import EnrichError

# The environment Prefect gives its own ephemeral server (SubprocessASGIServer, prefect 3.9.1):
# no UI, and the server knows it is ephemeral (its background services stay off).
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
DEFAULT_TIMEOUT = 90.0  # seconds; PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS overrides
POLL = 0.1


class ServerFailed(EnrichError):
    """The local Prefect server did not start."""


def wanted(env: Mapping[str, str]) -> bool:
    """Whether this process should start its own server: no API URL, ephemeral mode not off."""
    if env.get("PREFECT_API_URL"):
        return False
    return env.get("PREFECT_SERVER_EPHEMERAL_ENABLED", "").lower() not in ("0", "false", "no")


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """One Prefect API server process, child of this one, for the length of a verb."""

    def __init__(self, env: Mapping[str, str], *, timeout: float | None = None) -> None:
        self.env = {**env, **SERVER_ENV}
        raw = env.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
        self.timeout = timeout or (float(raw) if raw else DEFAULT_TIMEOUT)
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self._log = tempfile.TemporaryFile(mode="w+b")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def client_settings(self) -> dict:
        """The Prefect settings a flow runs with against this server: its API URL, and no
        flow-run heartbeat. A heartbeat is an event every 180 s that lets a server that outlives
        a run notice (by an automation on the missing heartbeat) that the run died; this server
        dies with the run, so nothing could ever act on a missing one, and ending its thread costs
        the run up to 1 s (it sleeps in 1 s steps and the flow joins it: 0.8-0.9 s measured)."""
        from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY

        return {PREFECT_API_URL: self.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}

    def start(self) -> LocalServer:
        """Start the server process (returns at once; :meth:`wait_ready` waits for it)."""
        self.port = free_port()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flows.server_child", str(os.getpid()), str(self.port)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,  # no terminal signals: a Ctrl-C is for enrich alone
        )
        return self

    def wait_ready(self, *, stop: StopRequest = STOP) -> float:
        """Wait until the API answers ``/health``; the seconds since :meth:`start`.

        Raises Interrupted when ``stop`` is asked, ServerFailed when the process exits or the
        timeout passes (with the end of its output)."""
        assert self.proc is not None, "start() first"
        deadline = self.started + self.timeout
        while True:
            stop.check()
            if self._healthy():
                return time.monotonic() - self.started
            if self.proc.poll() is not None:
                raise ServerFailed(
                    f"Prefect's local server exited with code {self.proc.returncode}: "
                    f"{self._output_tail()}"
                )
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"Prefect's local server did not answer within {self.timeout:g} s "
                    "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); "
                    f"{self._output_tail() or 'no output'}"
                )
            stop.wait(POLL)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    def _output_tail(self, limit: int = 300) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return " ".join(text[-limit:].split())

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._log.close()


class Spinner:
    """``enrich: starting Prefect's local server... 7 s`` on stderr, redrawn in place on a
    terminal; elsewhere (logs, CI) the line is printed once, and once more when it is ready."""

    FRAMES = "|/-\\"

    def __init__(self, text: str, *, stream=None, tty: bool | None = None) -> None:
        self.text = text
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def start(self) -> Spinner:
        if self.tty:
            self._thread = threading.Thread(target=self._spin, name="spinner", daemon=True)
            self._thread.start()
        else:
            print(f"enrich: {self.text}...", file=self.stream, flush=True)
        return self

    def _spin(self) -> None:
        i = 0
        while not self._done.wait(0.1):
            elapsed = time.monotonic() - self._started
            frame = self.FRAMES[i % len(self.FRAMES)]
            self.stream.write(f"\renrich: {self.text}... {frame} {elapsed:.0f} s")
            self.stream.flush()
            i += 1

    def finish(self, message: str | None = None) -> None:
        """End the spinner, replacing its line with ``message`` (if any); once."""
        if self._done.is_set():
            return
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\033[K")
        if message:
            print(f"enrich: {message}", file=self.stream, flush=True)


@contextmanager
def prefect_api(
    env: Mapping[str, str], *, stop: StopRequest = STOP, announce: bool = True
) -> Iterator[Runner]:
    """For the length of a verb that runs flows: a local server started now (unless the
    environment names an API or turns ephemeral mode off), and a Runner to run flows with.
    ``announce=False``: the spinner line waits for :meth:`Runner.announce` (the verb still has
    a check to make that must be its only line when it fails)."""
    server = LocalServer(env).start() if wanted(env) else None
    runner = Runner(server, None, stop)
    if announce:
        runner.announce()
    try:
        yield runner
    finally:
        runner._done(None)
        if server is not None:
            server.stop()


class Runner:
    """Runs flow-calling functions against the right API (see :func:`prefect_api`)."""

    def __init__(self, server: LocalServer | None, spinner: Spinner | None, stop: StopRequest):
        self.server, self.spinner, self.stop = server, spinner, stop

    def announce(self) -> None:
        """Show the server's start-up (a spinner line) until it is ready; once."""
        if self.server is not None and self.spinner is None:
            self.spinner = Spinner("starting Prefect's local server").start()

    def run(self, body: Callable[[], dict]) -> dict:
        """Call ``body`` (which runs a flow) once the API is ready, then flush Prefect's log and
        event queues while the server is still there."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        if self.server is None:
            return body()
        if PREFECT_API_URL.value():  # a Prefect profile names a server: ours is not needed
            self._done(None)
            self.server.stop()
            return body()
        seconds = self.server.wait_ready(stop=self.stop)
        self._done(f"Prefect's local server ready in {seconds:.1f} s")
        with temporary_settings(updates=self.server.client_settings()):
            try:
                return body()
            finally:
                drain_prefect()

    def _done(self, message: str | None) -> None:
        if self.spinner is not None:
            self.spinner.finish(message)
            self.spinner = None


def drain_prefect(timeout: float = 5.0) -> None:
    """Send what Prefect still queues (run logs, events) before its server goes away, so it
    never logs ``Error logging to API`` at exit."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=timeout)
        except Exception:  # draining is best effort; the run's data is in the warehouse
            pass
