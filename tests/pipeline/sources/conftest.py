"""Every source test runs offline: fresh limiters and breakers, and sleeps recorded, not slept.

A test module that needs a fake clock as well defines its own `offline` fixture, which wins.
"""

import pytest

from pipeline import http


@pytest.fixture(autouse=True)
def offline(monkeypatch) -> list[float]:
    """Fresh per-host state around the test; `http.sleep` records its seconds and returns."""
    http.reset_host_state()
    slept: list[float] = []
    monkeypatch.setattr(http, "sleep", slept.append)
    yield slept
    http.reset_host_state()
