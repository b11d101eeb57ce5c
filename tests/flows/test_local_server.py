"""The local Prefect server's parent side: when one is started, how its start-up is shown, and
how waiting for it ends (the server itself runs in the e2e tests of tests/reliability)."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import pytest

from flows.interrupt import Interrupted, StopRequest
from flows.local_server import LocalServer, ServerFailed, Spinner, free_port, wanted


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"PREFECT_API_URL": "http://127.0.0.1:4200/api"}, False),
        ({"PREFECT_SERVER_EPHEMERAL_ENABLED": "false"}, False),
        ({"PREFECT_SERVER_EPHEMERAL_ENABLED": "true"}, True),
    ],
)
def test_a_server_is_started_only_when_no_api_is_named(env, expected):
    assert wanted(env) is expected


def test_off_a_terminal_the_spinner_says_its_line_once_and_then_ready():
    out = io.StringIO()
    spinner = Spinner("starting Prefect's local server", stream=out, tty=False).start()
    spinner.finish("ready in 3.0 s")
    spinner.finish("twice")
    assert out.getvalue().splitlines() == [
        "enrich: starting Prefect's local server...",
        "enrich: ready in 3.0 s",
    ]


def test_on_a_terminal_the_spinner_redraws_one_line_with_the_seconds():
    out = io.StringIO()
    spinner = Spinner("starting", stream=out, tty=True).start()
    time.sleep(0.35)
    spinner.finish("ready")
    text = out.getvalue()
    assert text.count("\renrich: starting... ") >= 2 and text.endswith("enrich: ready\n")


def _silent_server(**kwargs) -> LocalServer:
    """A LocalServer whose process never answers (a sleeping interpreter)."""
    server = LocalServer({}, **kwargs)
    server.port = free_port()
    server.started = time.monotonic()
    server.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    return server


def test_waiting_for_the_server_ends_at_once_when_a_stop_is_asked():
    server = _silent_server()
    stop = StopRequest()
    stop.set("SIGINT")
    try:
        with pytest.raises(Interrupted):
            server.wait_ready(stop=stop)
    finally:
        server.stop()
    assert server.proc is None


def test_a_server_that_never_answers_fails_in_one_line_after_the_timeout():
    server = _silent_server(timeout=0.5)
    try:
        with pytest.raises(ServerFailed, match="did not answer within 0.5 s"):
            server.wait_ready(stop=StopRequest())
    finally:
        server.stop()
