"""Test-wide setup: isolate Prefect and keep everything offline.

Prefect reads its settings at import, so this runs before anything imports prefect.
"""

from __future__ import annotations

import os
import tempfile

os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="enrich-test-prefect-")
os.environ.pop("PREFECT_API_URL", None)  # never touch a developer's real server
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# outside the harness: fail fast instead of a silent 17 s ephemeral server boot
os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"
for _secret in ("NCBI_API_KEY", "OPENALEX_API_KEY"):
    os.environ.pop(_secret, None)

import pytest  # noqa: E402


def _websockets_draw_from_their_own_random() -> None:
    """websockets draws keepalive ping payloads (and reconnect backoff) from the global ``random``.
    Prefect's events client keeps a websocket open in a background thread once a flow has run,
    so every 20 s a ping advanced the global sequence in the middle of whatever test was running,
    and hypothesis warned "Do not use the `random` module inside strategies" in 0-5 unrelated
    tests per run. Their own generator leaves the global sequence to the tests."""
    import random

    import websockets.asyncio.connection
    import websockets.client

    for module in (websockets.asyncio.connection, websockets.client):
        module.random = random.Random()


_websockets_draw_from_their_own_random()


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (14-20 s once)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


@pytest.fixture(scope="module")
def catalog():
    """The fake API's catalog built around the seed documents' works (one per test module)."""
    from demo.fakeapi import seed_catalog

    return seed_catalog()


@pytest.fixture(scope="module")
def api(catalog):
    """A loopback FakeApi serving ``catalog``, shared by a test module's tests."""
    from demo.fakeapi import FakeApi

    with FakeApi(catalog) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_stop_asked():
    """A stop asked in one test (flows.interrupt.STOP is per process) never leaks into another."""
    from flows.interrupt import STOP

    STOP.clear()
    yield
    STOP.clear()


@pytest.fixture(autouse=True)
def _fresh_http_state():
    """Limiters, concurrency gates and unreachable marks are per process; each test starts clean."""
    from pipeline.http import reset_host_state

    reset_host_state()
    yield
    reset_host_state()


# Files not marked slow (make test-fast runs them) that still took 30-180 s each in
# /work/lead/suite-durations.txt (their property tests and 200 MB inputs, CPU bound).
_LONG_FILES = (
    "reliability/test_fuzz_extract.py",
    "pipeline/normalise/test_fuzz.py",
    "reliability/test_hostile_seeds.py",
    "warehouse/test_load_properties.py",
)


def _cost_rank(item) -> int:
    """0 for slow tests and _LONG_FILES, 1 for the other Prefect and end-to-end tests, 2 for the
    rest."""
    if item.get_closest_marker("slow") or item.path.as_posix().endswith(_LONG_FILES):
        return 0
    if item.get_closest_marker("e2e") or item.get_closest_marker("prefect"):
        return 1
    return 2


def pytest_collection_modifyitems(items):
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.prefect)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Under pytest-xdist (make test) the files holding the longest tests are handed out first,
        # so the last minutes are not one worker finishing a crash loop while the other idles.
        # Files are ranked by their costliest test and moved whole (a stable sort), so each
        # file's own order is kept. A plain pytest run keeps the collection order.
        rank: dict[object, int] = {}
        for item in items:
            rank[item.path] = min(rank.get(item.path, 2), _cost_rank(item))
        items.sort(key=lambda item: rank[item.path])
