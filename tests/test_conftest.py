"""The test session's own setup (tests/conftest.py)."""

from __future__ import annotations

import random
import struct

import websockets.asyncio.connection
import websockets.client


def test_websocket_pings_leave_the_global_random_sequence_alone():
    # what a keepalive ping and a reconnect backoff draw, as websockets draws them
    before = random.getstate()
    struct.pack("!I", websockets.asyncio.connection.random.getrandbits(32))
    next(websockets.client.backoff())
    assert random.getstate() == before


def test_xdist_hands_files_out_in_the_conftest_order(pytestconfig):
    # make test runs --dist loadfile; pytest-xdist's default reorders the files by their number
    # of tests, which put the long few-test files (crash loops, concurrency) last
    assert pytestconfig.getoption("loadscopereorder") is False
