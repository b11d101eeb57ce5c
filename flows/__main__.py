"""``python -m flows`` is the same as the ``enrich`` console script."""

from flows.cli import entry

entry()
