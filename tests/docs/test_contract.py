"""docs/contract.md documents every warehouse table and view, with all their columns, and names
nothing the warehouse lacks. Checked both ways against a warehouse created from
warehouse/schema.sql (with warehouse/views/), so the contract cannot drift from the schema.

When this fails, its message is the exact Markdown line to add (or the one to fix).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from warehouse.db import connect, view_files

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
ROW = re.compile(r"^\|\s*`(?P<name>\w+)`\s*\|(?P<grain>[^|]+)\|(?P<columns>[^|]+)\|\s*$")


def documented(kind: str) -> dict[str, list[str]]:
    """{name: [columns]} from the contract's ``### Tables`` or ``### Views`` section."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = re.search(rf"^### {kind}\n(.*?)(?=^#{{2,3}} |\Z)", text, re.S | re.M)
    assert section, f"docs/contract.md has no '### {kind}' section"
    out = {}
    for line in section.group(1).splitlines():
        m = ROW.match(line)
        if m:
            out[m["name"]] = re.findall(r"`(\w+)`", m["columns"])
    return out


@pytest.fixture(scope="module")
def catalog():
    """{'BASE TABLE' | 'VIEW': {name: [columns in order]}} of a new warehouse."""
    con = connect(":memory:")
    try:
        found: dict[str, dict[str, list[str]]] = {"BASE TABLE": {}, "VIEW": {}}
        for name, kind in con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'main'"
        ).fetchall():
            cols = con.execute(
                "select column_name from information_schema.columns where table_name = ? "
                "order by ordinal_position",
                [name],
            ).fetchall()
            found[kind][name] = [c[0] for c in cols]
        return found
    finally:
        con.close()


def _line(name: str, columns: list[str], grain: str) -> str:
    return f"| `{name}` | {grain} | " + ", ".join(f"`{c}`" for c in columns) + " |"


def _view_grain(name: str) -> str:
    for path in view_files():
        if path.stem == name:
            header = path.read_text(encoding="utf-8").splitlines()[0]
            return header.lstrip("- ").split(":", 1)[-1].strip()
    return "one row per ... (its grain)"


@pytest.mark.parametrize(("kind", "section"), [("BASE TABLE", "Tables"), ("VIEW", "Views")])
def test_every_table_and_view_of_the_warehouse_is_in_the_contract(catalog, kind, section):
    docs = documented(section)
    missing = []
    for name, columns in sorted(catalog[kind].items()):
        if name not in docs:
            grain = _view_grain(name) if kind == "VIEW" else "one row per ... (its grain)"
            missing.append(f"  {_line(name, columns, grain)}")
        elif set(columns) - set(docs[name]):
            extra = [c for c in columns if c not in docs[name]]
            missing.append(
                f"  {name}: add the column(s) {', '.join(extra)} to its line, which becomes\n"
                f"  {_line(name, columns, '<its grain>')}"
            )
    assert not missing, (
        f"docs/contract.md, section '### {section}', must document these (add each line to its "
        "table, grain written out, and a CHANGELOG bullet):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize(("kind", "section"), [("BASE TABLE", "Tables"), ("VIEW", "Views")])
def test_the_contract_names_nothing_the_warehouse_lacks(catalog, kind, section):
    wrong = []
    for name, columns in sorted(documented(section).items()):
        if name not in catalog[kind]:
            wrong.append(f"  {name}: no such {kind.lower()} in warehouse/schema.sql or views/")
        elif set(columns) - set(catalog[kind][name]):
            gone = sorted(set(columns) - set(catalog[kind][name]))
            wrong.append(f"  {name}: no column(s) {', '.join(gone)} in the warehouse")
    assert not wrong, f"docs/contract.md, '### {section}', is out of date:\n" + "\n".join(wrong)


def test_the_contract_parser_reads_a_table_line():
    line = "| `runs` | one row per run | `run_id`, `flow`, `status` |"
    m = ROW.match(line)
    assert (
        m
        and m["name"] == "runs"
        and re.findall(r"`(\w+)`", m["columns"])
        == [
            "run_id",
            "flow",
            "status",
        ]
    )
