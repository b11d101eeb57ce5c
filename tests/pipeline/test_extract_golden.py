"""pipeline.extract: the output on every fixture and on stress texts is exactly the frozen one.

A differential test: the golden file was written by the extractor before issue 22's speed work
(see ``tests/pipeline/extract_golden.py``), so any change of a mention's value, offsets, line,
section, group or role, of a reference entry or a problem, fails here with the first difference.
"""

from __future__ import annotations

import copy

import pytest

from tests.pipeline.extract_golden import (
    fixture_files,
    load_golden,
    piece_size,
    snapshot,
    stress_files,
)

GOLDEN = load_golden()
_FIELDS = {
    "mentions": ("scheme", "value", "start", "end", "line", "section", "group", "role"),
    "references": ("start", "end", "line", "text", "ids", "section", "label"),
    "problems": ("message", "fatal", "skipped"),
}


def differences(got: dict, want: dict) -> list[str]:
    """What differs between two snapshots of one document, first differences first."""
    out = [f"{k}: {got[k]!r} != {want[k]!r}" for k in ("sha256", "bytes") if got[k] != want[k]]
    for kind, fields in _FIELDS.items():
        g, w = got[kind], want[kind]
        if len(g) != len(w):
            out.append(f"{kind}: {len(g)} != {len(w)}")
        for i, (a, b) in enumerate(zip(g, w, strict=False)):
            if a != b:
                what = [
                    f"{f}={x!r} (was {y!r})" for f, x, y in zip(fields, a, b, strict=True) if x != y
                ]
                out.append(f"{kind}[{i}] {b!r}: " + ", ".join(what))
                break
    return out


FROZEN_FIXTURES = [rel for rel in fixture_files() if rel in GOLDEN]


def test_every_frozen_document_is_still_in_the_corpus():
    """A fixture added after the freeze needs no regeneration (its own tests check it), but a frozen
    document that went missing, or a stress text that changed its name, fails here."""
    names = set(fixture_files()) | {f"stress/{name}" for name, _, _ in stress_files()}
    assert set(GOLDEN) <= names
    assert all(f"stress/{name}" in GOLDEN for name, _, _ in stress_files())
    assert len(FROZEN_FIXTURES) >= 130
    assert sum(len(d["mentions"]) for d in GOLDEN.values()) > 20_000


@pytest.mark.parametrize("rel", FROZEN_FIXTURES)
def test_a_fixture_gives_the_frozen_output(rel, monkeypatch):
    from tests.pipeline.extract_golden import ROOT

    monkeypatch.chdir(ROOT)  # mentions name the path as given: relative, as when frozen
    assert differences(snapshot(rel, rel), GOLDEN[rel]) == []


@pytest.mark.parametrize("name", [name for name, _, _ in stress_files()])
def test_a_stress_text_gives_the_frozen_output(name, tmp_path):
    text, size = next((t, s) for n, t, s in stress_files() if n == name)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    with piece_size(size):
        got = snapshot(str(path), f"stress/{name}")
    assert differences(got, GOLDEN[f"stress/{name}"]) == []


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, list):
        return [*value, ["doi", "10.1/x"]]
    return "changed" if value is None else value + "x"


@pytest.mark.parametrize("kind", sorted(_FIELDS))
def test_any_changed_field_is_a_difference(kind):
    """The comparison can fail: each field of each kind of record, changed, is reported."""
    doc = next(d for d in GOLDEN.values() if d[kind])
    for i, field in enumerate(_FIELDS[kind]):
        changed = copy.deepcopy(doc)
        changed[kind][-1][i] = _changed(changed[kind][-1][i])
        assert differences(changed, doc), (kind, field)
    fewer = copy.deepcopy(doc)
    fewer[kind].pop()
    assert differences(fewer, doc)
