"""Fixtures for the fake API's own tests: a started server over the seed catalog."""

from __future__ import annotations

import pytest
import requests

from demo.fakeapi import FakeApi, seed_catalog


@pytest.fixture
def api():
    """A fresh server per test, so faults, budgets and stats never leak between tests."""
    with FakeApi(seed_catalog()) as server:
        yield server


@pytest.fixture
def http():
    """A requests session (keep-alive, like the real clients)."""
    with requests.Session() as session:
        yield session
