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
