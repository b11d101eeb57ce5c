"""Change keys (pipeline/normalise/change.py)."""

from __future__ import annotations

from pipeline.normalise.change import change_key

FIELDS = ("doi", "title", "relation")


def test_absent_null_and_empty_values_give_the_same_key():
    assert change_key({"doi": "x"}, FIELDS) == change_key(
        {"doi": "x", "title": None, "relation": {}}, FIELDS
    )


def test_key_order_and_fields_outside_the_list_do_not_matter():
    a = {"doi": "x", "title": "T", "cited_by_count": 1}
    b = {"title": "T", "doi": "x", "cited_by_count": 99}
    assert change_key(a, FIELDS) == change_key(b, FIELDS)


def test_a_changed_value_changes_the_key():
    assert change_key({"title": "A"}, FIELDS) != change_key({"title": "B"}, FIELDS)
    assert change_key({"relation": {"has-preprint": [1]}}, FIELDS) != change_key({}, FIELDS)
