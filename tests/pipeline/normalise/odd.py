"""Odd values planted in real API answers (tests/fixtures/api_answers): what APIs do send.

``mutate_odd`` replaces values at random paths of a parsed JSON answer with wrong types,
negatives, ints past int32/int64, lists where objects belong (and the reverse), nulls;
``mutate_xml_values`` does the same to the element texts of an XML answer. Shared by the
normaliser fuzz tests and the run-level property test (tests/reliability/test_odd_values.py).
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.strategies import sampled

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "api_answers"

HUGE = [2**31, 2**31 - 1, 2**63 - 1, 2**63, 2**64 + 7, 10**30, -(2**63) - 1]
odd_scalars = (
    st.none()
    | st.integers(-(10**9), -1)
    | st.sampled_from(HUGE)
    | st.integers(2**31, 2**80)
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", " ", "-3", "NaN", "1e400", "99999999999999999999999", "\x1b[31m"])
)


def odd_for(old: Any) -> st.SearchStrategy:
    """A value of the wrong kind for ``old``: its shape turned inside out, or an odd scalar."""
    shapes = [st.just([old]), st.just({"value": old})]
    if isinstance(old, list):
        shapes.append(st.just({str(i): v for i, v in enumerate(old)}))
    if isinstance(old, dict):
        shapes.append(st.just(list(old.values())))
    if isinstance(old, int | float) and not isinstance(old, bool):
        shapes += [st.just(-abs(old) - 1), st.just(str(old)), st.just(old * 10**20)]
    return st.one_of(*shapes, odd_scalars)


def mutate_odd(draw: Callable, doc: Any, rounds: int) -> Any:
    """``doc`` (a parsed answer) with ``rounds`` values replaced at random paths."""
    doc = copy.deepcopy(doc)
    for _ in range(rounds):
        parent, key, node = None, None, doc
        for _depth in range(draw(st.integers(1, 7))):
            if isinstance(node, dict) and node:
                keys = sorted(node)
            elif isinstance(node, list) and node:
                keys = list(range(len(node)))
            else:
                break
            parent, key = node, draw(sampled(*keys))
            node = node[key]
        if parent is not None:
            parent[key] = draw(odd_for(node))
    return doc


ODD_TEXTS = ["-1", "0", "2147483648", "9223372036854775808", "99999999999999999999999", "",
             " ", "NaN", "1e400", "None", "W", "\x7f", "2025-13-45"]  # fmt: skip


def mutate_xml_values(draw: Callable, text: str, rounds: int) -> str:
    """An XML answer with element texts and attributes set to odd values, or elements
    duplicated or removed (the document stays well-formed)."""
    head, _, body = text.partition("<PubmedArticleSet>")
    root = ET.fromstring("<PubmedArticleSet>" + body)  # our own fixture, parsed to mutate
    for _ in range(rounds):
        elements = list(root.iter())
        element = draw(st.sampled_from(elements))
        action = draw(sampled("text", "text", "attr", "drop", "dup"))
        children = list(element)
        if action == "drop" and children:
            element.remove(draw(st.sampled_from(children)))
        elif action == "dup" and children:
            element.append(copy.deepcopy(draw(st.sampled_from(children))))
        elif action == "attr" and element.attrib:
            element.set(draw(sampled(*sorted(element.attrib))), draw(sampled(*ODD_TEXTS)))
        else:
            element.text = draw(sampled(*ODD_TEXTS))
    return head + ET.tostring(root, encoding="unicode")
