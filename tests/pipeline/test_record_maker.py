"""pipeline.record_maker: records built by a maker are the record class's own instances."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from pipeline.record_maker import maker
from pipeline.records import Identifier, Mention, ReferenceEntry

ROW = ("doi", "10.1/x", "a.txt", 3, 9, 2, "References", 4, "reference")


def test_a_made_mention_is_a_mention_equal_to_one_built_directly():
    made, built = maker(Mention)(*ROW), Mention(*ROW)
    assert type(made) is Mention
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert dataclasses.astuple(made) == ROW
    assert pickle.loads(pickle.dumps(made)) == built
    assert copy.deepcopy(made) == built
    assert dataclasses.replace(made, line=7) == Mention(*ROW[:5], 7, *ROW[6:])


def test_a_made_record_stays_frozen():
    made = maker(Mention)(*ROW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 5  # type: ignore[misc]


def test_every_field_is_set_in_order():
    args = ("a.txt", 1, 5, 1, "text", (Identifier("doi", "10.1/x"),), None, "1")
    assert maker(ReferenceEntry)(*args) == ReferenceEntry(*args)


def test_a_class_without_slots_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int

    with pytest.raises(TypeError, match="slots"):
        maker(Plain)


def test_a_class_with_post_init_checks_is_refused():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    with pytest.raises(TypeError, match="__post_init__"):
        maker(Checked)
