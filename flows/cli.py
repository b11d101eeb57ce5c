"""The ``enrich`` command line (skeleton; verbs are wired in as their layers land)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``enrich`` console script."""
    print("enrich: not built yet", file=sys.stderr)
    return 2
