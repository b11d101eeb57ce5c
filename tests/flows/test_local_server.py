"""The local Prefect server's parent side: when one is started, how its start-up is shown, and
how waiting for it ends (the server itself runs in the e2e tests of tests/reliability)."""

from __future__ import annotations

import gc
import io
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.interrupt import Interrupted, StopRequest
from flows.local_server import LocalServer, Runner, ServerFailed, Spinner, free_port, wanted


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


class _ReadyServer(LocalServer):
    """A LocalServer that is ready at once and runs no process (for Runner.run)."""

    def __init__(self) -> None:
        super().__init__({})
        self.port = 4999

    def wait_ready(self, *, stop=None) -> float:
        return 0.0


def test_a_flow_run_against_its_own_server_sends_no_heartbeat(monkeypatch):
    # a heartbeat is for a server that outlives the run; the flow joined its thread (up to 1 s)
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    def settings() -> dict:
        return {
            "heartbeat": get_current_settings().flows.heartbeat_frequency,
            "api": PREFECT_API_URL.value(),
        }

    monkeypatch.setattr("flows.local_server.drain_prefect", lambda: None)
    # Prefect's defaults, as for a user: no server named, a heartbeat (the suite's session
    # names its test server and turns heartbeats off)
    with temporary_settings(restore_defaults={PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY}):
        seen = Runner(_ReadyServer(), None, StopRequest()).run(settings)
        after = settings()
    assert seen == {"heartbeat": None, "api": "http://127.0.0.1:4999/api"}
    assert after["heartbeat"] is not None and after["api"] is None  # only for that run


def test_the_server_starts_before_the_warehouse_probe_and_is_shown_after_it(
    monkeypatch, capsys, tmp_path
):
    # the probe (duckdb's import and a read) overlaps the server's start-up; a damaged
    # warehouse is still the only line after the run's first
    from flows import cli
    from pipeline.errors import InputError

    events: list[str] = []
    monkeypatch.setattr(LocalServer, "start", lambda self: events.append("server") or self)

    def probe(path) -> None:
        events.append("probe")
        raise InputError(f"{path}: damaged")

    monkeypatch.setattr(cli, "_probe_warehouse", probe)
    for name in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "notes.txt").write_text("no ids\n", encoding="utf-8")
    assert cli.main(["run", str(tmp_path / "notes.txt"), "--db", str(tmp_path / "w.duckdb")]) == 2
    assert events == ["server", "probe"]
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ")[1] for line in lines] == ["run", str(tmp_path / "w.duckdb:")]


def test_the_server_process_collects_garbage_again_once_its_app_exists(monkeypatch):
    # main() turns the collector off for the imports; the app's factory turns it back on
    import types

    from flows import server_child

    fake = types.ModuleType("prefect.server.api.server")
    fake.create_app = lambda *a, **k: ("app", gc.isenabled())
    monkeypatch.setitem(sys.modules, "prefect.server.api.server", fake)
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        assert server_child.create_app() == ("app", False)
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
        gc.enable()


@pytest.mark.e2e
def test_a_run_on_its_own_server_records_its_flow_and_task_runs(tmp_path):
    # the server as enrich runs it (its factory, the collector off while it imports, no
    # heartbeat), on a new Prefect home: migrated, and the run recorded as Prefect records it
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL",)}
    env.pop("PREFECT_SERVER_EPHEMERAL_ENABLED", None)
    env.update(PREFECT_HOME=str(tmp_path / "home"), ENRICH_MAILTO="test@example.org")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "notes.txt").write_text("Notes\n\nNo identifiers.\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "flows", "run", str(tmp_path / "seeds"), "--db",
         str(tmp_path / "w.duckdb")],
        cwd=root, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "local server ready in" in proc.stderr
    con = sqlite3.connect(tmp_path / "home" / "prefect.db")
    try:
        flows = con.execute("select state_type from flow_run").fetchall()
        tasks = con.execute("select state_type from task_run").fetchall()
        beats = con.execute(
            "select count(*) from events where event = 'prefect.flow-run.heartbeat'"
        ).fetchone()
    finally:
        con.close()
    assert flows == [("COMPLETED",)]
    assert sorted(tasks) == [("COMPLETED",), ("COMPLETED",)]  # documents_task, match_task
    assert beats == (0,)


def test_prefects_later_calls_for_the_running_app_get_it_without_building_again(monkeypatch):
    import types

    from flows import server_child

    built: list[tuple] = []

    def prefect_create_app(*args, **kwargs):
        built.append((args, kwargs))
        return object()

    fake = types.ModuleType("prefect.server.api.server")
    fake.create_app = prefect_create_app
    monkeypatch.setitem(sys.modules, "prefect.server.api.server", fake)
    try:
        app = server_child.create_app()
    finally:
        gc.unfreeze()
    assert fake.create_app() is app  # the automations service's clients: no rebuild
    assert fake.create_app(ephemeral=True) is not app  # any other app is still Prefect's
    assert built == [((), {}), ((), {"ephemeral": True})]
