"""Stopping a run: Ctrl-C (SIGINT to the terminal's process group), SIGTERM, and kill -9.

Real ``python -m flows run`` processes against the loopback fake API. Mid-fetch, the fake is made
to hold every new request for two minutes (a blocked socket), then the signal is sent: the run
must end within seconds with exit 130 and one line, every identifier it asked must have a ledger
row (``pending`` where no answer was loaded), the Prefect flow run must be ``Cancelled``, and a
rerun must settle everything without asking again what was already settled.

The Ctrl-C and kill -9 cases use the run's own local Prefect server (no PREFECT_API_URL), since
that server is what a terminal's Ctrl-C and a kill -9 used to take down or orphan; they share one
PREFECT_HOME, so only the first pays Prefect's database creation.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from demo.fakeapi import FakeApi, generate_catalog
from tests.reliability import helpers_process as hp

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WORKS = 150
STOP_WITHIN = 10.0  # seconds from the signal to the exit, whatever the sockets do
ONE_LINE = re.compile(
    r"^enrich: interrupted by (SIGINT|SIGTERM): what was loaded is kept, "
    r"(\d+ identifiers left pending|nothing left half-done); rerun to continue \(run \S+\)$"
)
NOISE = ("Traceback", "Error logging to API", "EventsWorker", "CancelledError", "unexpected error")
# slow enough that a run is still fetching when the test strikes (the fake has no limits here)
PACING = {"ENRICH_OPENALEX_RPS": "3", "ENRICH_CROSSREF_RPS": "3", "ENRICH_CROSSREF_LIST_RPS": "1",
          "ENRICH_NCBI_RPS": "3"}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    catalog = generate_catalog(WORKS, seed=11)
    base = tmp_path_factory.mktemp("interrupt")
    seed = base / "reading-list.md"
    hp.write_seed(catalog, seed)
    with FakeApi(catalog, latency=0.05) as api:
        yield api, seed, base


def _own_server_env(api, home: Path) -> dict[str, str]:
    """No PREFECT_API_URL: the run starts its own local server, as on a user's machine."""
    env = hp.cli_env(api.env(), "", **PACING)
    for name in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_ENABLED"):
        env.pop(name, None)
    env["PREFECT_HOME"] = str(home)
    return env


def server_children(parent: int) -> list[int]:
    """Pids of live local Prefect servers started by ``parent`` (flows.server_child)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if b"flows.server_child" in argv and str(parent).encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def _block_every_new_request(api) -> None:
    """From now on every request hangs for two minutes before its answer."""
    for source in ("openalex", "crossref", "eutils", "idconv"):
        api.inject(source, "slow", times=None, delay=120)


def _stop_and_time(p: hp.EnrichProcess, sig: int, *, group: bool) -> float:
    """Send ``sig`` (to the process group, as a terminal does, or to the process); the seconds
    until it exited."""
    sent = time.monotonic()
    if group:
        os.killpg(p.proc.pid, sig)
    else:
        p.proc.send_signal(sig)
    p.finish(timeout=60)
    return time.monotonic() - sent


def _assert_one_line(p: hp.EnrichProcess, sig_name: str) -> None:
    err = p.stderr
    assert not any(n in err for n in NOISE), err[-3000:]
    last = [ln for ln in err.splitlines() if ln.startswith("enrich: interrupted")]
    assert len(last) == 1 and ONE_LINE.match(last[0]), err[-3000:]
    assert sig_name in last[0]


def _assert_every_asked_id_has_a_row(db: Path, seed_ids: set[str]) -> dict[str, int]:
    """Every identifier of the seed has an OpenAlex ledger row (OpenAlex is asked about every
    one in round 1); no row says ``failed``; the checks pass. Returns the counts by status."""
    con = hp.open_ro(db)
    try:
        assert hp.quality(con) == {}
        led = hp.ledger(con)
        assert con.execute("select status from runs").fetchall() == [("interrupted",)]
    finally:
        con.close()
    asked = {v for (s, _sc, v) in led if s == "openalex"}
    assert seed_ids <= asked, f"no ledger row for {sorted(seed_ids - asked)[:5]}"
    statuses: dict[str, int] = {}
    for st in led.values():
        statuses[st] = statuses.get(st, 0) + 1
    assert "failed" not in statuses, statuses
    return statuses


def _seed_ids(seed: Path) -> set[str]:
    from pipeline.extract import extract_paths

    return {m.identifier.value for d in extract_paths([str(seed)]) for m in d.mentions}


def _flow_run_states(home: Path) -> list[str]:
    con = sqlite3.connect(home / "prefect.db")
    try:
        return [r[0] for r in con.execute("select state_type from flow_run")]
    finally:
        con.close()


# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_mid_fetch_stops_in_seconds_keeps_what_loaded_and_the_rerun_settles(
    world, prefect_harness
):
    from prefect.settings import PREFECT_API_URL

    api, seed, base = world
    home, db = base / "prefect-home", base / "ctrl-c.duckdb"
    env = _own_server_env(api, home)
    # the rerun (see below), started now and held after its imports
    fast = hp.cli_env(api.env(), str(PREFECT_API_URL.value()))
    again = hp.EnrichProcess(["run", str(seed), "--db", str(db)], fast, hold=True).start()
    api.clear_faults()
    p = hp.EnrichProcess(["run", str(seed), "--db", str(db)], env).start()
    assert p.wait_for(r": batch \d+", timeout=240), p.stderr[-3000:]
    server = server_children(p.proc.pid)
    assert len(server) == 1, "the run should have started its own local server"
    _block_every_new_request(api)
    time.sleep(1.0)  # requests are now in flight, held by the fake
    took = _stop_and_time(p, signal.SIGINT, group=True)

    assert p.proc.returncode == 130, p.stderr[-3000:]
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    _assert_one_line(p, "SIGINT")
    statuses = _assert_every_asked_id_has_a_row(db, _seed_ids(seed))
    assert statuses.get("ok") and statuses.get("pending"), statuses
    assert _flow_run_states(home) == ["CANCELLED"]
    assert server_children(p.proc.pid) == [], "the local Prefect server outlived the run"

    # the rerun: nothing settled is asked again, everything ends settled. It is about the
    # warehouse, not about stopping: no pacing (nothing to strike mid-fetch) and the session's
    # Prefect server (its own server's start-up was checked above)
    con = hp.open_ro(db)
    settled_before = hp.settled(hp.ledger(con))
    con.close()
    api.clear_faults()
    api.reset_stats()
    assert again.go().finish(300) == 0, again.stderr[-3000:]
    asked = hp.requested_text(api.stats)
    for source, _scheme, value in settled_before:
        assert not hp.was_requested(asked[source], value), f"{source} asked again for {value}"
    con = hp.open_ro(db)
    try:
        assert hp.quality(con) == {}
        assert set(hp.ledger(con).values()) <= set(hp.SETTLED)
    finally:
        con.close()


def test_sigterm_while_requests_hang_stops_in_seconds_with_every_id_pending(world, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    api, seed, base = world
    db = base / "sigterm.duckdb"
    env = hp.cli_env(api.env(), str(PREFECT_API_URL.value()), **PACING)
    api.clear_faults()
    p = hp.EnrichProcess(["run", str(seed), "--db", str(db)], env).start()
    assert p.wait_for(r": batch \d+", timeout=120), p.stderr[-3000:]
    _block_every_new_request(api)
    time.sleep(1.0)
    took = _stop_and_time(p, signal.SIGTERM, group=False)
    api.clear_faults()

    assert p.proc.returncode == 130, p.stderr[-3000:]
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    _assert_one_line(p, "SIGTERM")
    statuses = _assert_every_asked_id_has_a_row(db, _seed_ids(seed))
    assert statuses.get("pending"), statuses
    # its first line said what it reads and where, before anything else
    assert re.match(
        rf"^enrich: run on {re.escape(str(seed))} into {re.escape(str(db))} ", p.lines[0][1]
    )


def test_sigterm_during_a_refresh_keeps_every_observation_and_the_next_refresh_completes(
    world, prefect_harness
):
    from prefect.settings import PREFECT_API_URL

    api, seed, base = world
    db = base / "refresh.duckdb"
    api.clear_faults()
    fast = hp.cli_env(api.env(), str(PREFECT_API_URL.value()))
    slow = hp.cli_env(api.env(), str(PREFECT_API_URL.value()), **PACING)
    refresh = ["refresh", "--db", str(db), "--stale-after", "0s"]
    # the refresh after the stop starts now and waits, imports done, for its turn (the one
    # stopped stays a plain `python -m flows`, as a user's is)
    again = hp.EnrichProcess(refresh, fast, hold=True).start()
    assert (
        hp.run_to_end(["run", str(seed), "--db", str(db)], fast, timeout=300).proc.returncode == 0
    )
    con = hp.open_ro(db)
    before = set(con.execute("select work_id, source, observed_at from citation_counts").fetchall())
    con.close()
    p = hp.EnrichProcess(refresh, slow).start()
    assert p.wait_for(r": batch \d+", timeout=120), p.stderr[-3000:]
    _block_every_new_request(api)
    time.sleep(1.0)
    took = _stop_and_time(p, signal.SIGTERM, group=False)
    api.clear_faults()

    assert p.proc.returncode == 130 and took < STOP_WITHIN, (took, p.stderr[-3000:])
    _assert_one_line(p, "SIGTERM")
    con = hp.open_ro(db)
    try:
        after = set(
            con.execute("select work_id, source, observed_at from citation_counts").fetchall()
        )
        runs = dict(con.execute("select flow, status from runs").fetchall())
        assert hp.quality(con) == {}
    finally:
        con.close()
    assert before < after, "observations were appended before the stop, none lost"
    assert runs == {"enrich": "completed", "refresh": "interrupted"}
    assert again.go().finish(300) == 0, again.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["while Prefect starts", "mid-fetch"])
def test_kill_9_leaves_no_prefect_server_behind(world, moment):
    api, seed, base = world
    env = _own_server_env(api, base / "prefect-home")
    api.clear_faults()
    db = base / f"kill9-{moment.replace(' ', '-')}.duckdb"
    p = hp.EnrichProcess(["run", str(seed), "--db", str(db)], env).start()
    line = r"starting Prefect's local server" if moment.startswith("while") else r": batch \d+"
    assert p.wait_for(line, timeout=240), p.stderr[-3000:]
    deadline = time.monotonic() + 10
    while not server_children(p.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server_children(p.proc.pid), "the run should have started its own local server"
    p.proc.kill()  # the run alone, as `kill -9 PID` does; its server is in another session
    p.proc.wait(timeout=30)
    deadline = time.monotonic() + 5
    while server_children(p.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server_children(p.proc.pid) == [], "kill -9 orphaned the local Prefect server"
