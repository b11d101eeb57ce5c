"""Helpers for the reader tests: works as {role, scheme: value} per group."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"


def write(tmp_path, name: str, text: str) -> str:
    """``text`` written as ``tmp_path/name`` (UTF-8); its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def works_of(doc) -> list[str]:
    grouped: dict[int, dict] = defaultdict(dict)
    for m in doc.mentions:
        work = grouped[m.group]
        assert work.setdefault("role", m.role) == m.role, m
        work.setdefault(m.scheme, m.value)
    return sorted(json.dumps(w, sort_keys=True) for w in grouped.values())


def canonical(items: list[dict]) -> list[str]:
    return sorted(json.dumps(w, sort_keys=True) for w in items)
