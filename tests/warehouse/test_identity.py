"""Identity planning: minting, grouping, merging, and the guard against bad data (pure)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.records import Identifier
from warehouse.identity import (
    MAX_WORKS_PER_GROUP,
    IdGroup,
    best_identifier,
    mint_work_id,
    plan_identity,
)

DOI, PMID, PMCID = Identifier("doi", "10.1/a"), Identifier("pmid", "1"), Identifier("pmcid", "PMC1")


def group(*ids: Identifier, by: str = "openalex", split: bool = False) -> IdGroup:
    return IdGroup(tuple(ids), ids[0], by, split_on_conflict=split)


def test_work_id_is_a_hash_of_the_anchor_and_stable():
    assert mint_work_id(DOI) == mint_work_id(Identifier("doi", "10.1/a"))
    assert mint_work_id(DOI).startswith("w_") and len(mint_work_id(DOI)) == 18
    assert mint_work_id(DOI) != mint_work_id(PMID)


def test_best_identifier_prefers_doi_then_pmid_then_pmcid():
    assert best_identifier([PMCID, PMID, DOI]) == DOI
    assert best_identifier([PMCID, PMID]) == PMID


def test_a_new_group_becomes_one_work_anchored_on_its_best_identifier():
    res = plan_identity([group(PMID, DOI)], {}, anchors={})
    assert set(res.work_of.values()) == {mint_work_id(DOI)}
    assert res.new_works == {mint_work_id(DOI): DOI}
    assert set(res.new_ids) == {PMID, DOI}


def test_a_group_touching_one_known_work_joins_it_and_adds_its_new_ids():
    res = plan_identity([group(PMID, DOI)], {PMID: "w_p"}, anchors={"w_p": PMID})
    assert res.work_of == {PMID: "w_p", DOI: "w_p"}
    assert res.new_ids == {DOI: "openalex"} and not res.merges and not res.new_works


def test_a_group_spanning_two_works_merges_them_into_the_one_with_the_better_anchor():
    known = {PMID: "w_p", DOI: "w_d"}
    anchors = {"w_p": PMID, "w_d": DOI}
    res = plan_identity([group(PMID, DOI)], known, anchors=anchors)
    assert res.merges == {"w_p": "w_d"}
    assert set(res.work_of.values()) == {"w_d"}


def test_the_survivor_does_not_depend_on_the_order_of_the_evidence():
    known = {PMID: "w_p", DOI: "w_d", PMCID: "w_c"}
    anchors = {"w_p": PMID, "w_d": DOI, "w_c": PMCID}
    one = plan_identity([group(PMCID, PMID), group(PMID, DOI)], known, anchors=anchors)
    two = plan_identity([group(DOI, PMID), group(PMID, PMCID)], known, anchors=anchors)
    assert one.merges == two.merges == {"w_p": "w_d", "w_c": "w_d"}


def test_groups_chained_by_a_shared_identifier_become_one_work():
    res = plan_identity([group(PMID, DOI), group(DOI, PMCID)], {}, anchors={})
    assert len(set(res.work_of.values())) == 1


def test_a_record_that_would_merge_too_many_works_is_reduced_to_its_primary_id():
    ids = [Identifier("doi", f"10.1/{n}") for n in range(MAX_WORKS_PER_GROUP + 1)]
    known = {i: f"w_{n}" for n, i in enumerate(ids)}
    anchors = {w: i for i, w in known.items()}
    res = plan_identity([group(*ids)], known, anchors=anchors)
    assert not res.merges and not res.new_ids
    assert all(res.work_of[i] == known[i] for i in ids)  # each stays where it was
    assert res.conflicts and "would merge" in res.conflicts[0].reason


def test_a_group_with_two_pmids_is_distrusted():
    res = plan_identity([group(DOI, PMID, Identifier("pmid", "2"))], {}, anchors={})
    assert res.conflicts and "pmid" in res.conflicts[0].reason
    assert set(res.work_of) == {DOI}


def test_two_works_with_different_pmids_are_never_merged_through_a_shared_doi():
    known = {PMID: "w_1", Identifier("pmid", "2"): "w_2"}
    members = {"w_1": {PMID, DOI}, "w_2": {Identifier("pmid", "2")}}
    anchors = {"w_1": DOI, "w_2": Identifier("pmid", "2")}
    res = plan_identity([group(DOI, Identifier("pmid", "2"))], known, anchors=anchors,
                        members=members)  # fmt: skip
    assert not res.merges and res.conflicts


def test_a_work_met_once_per_scheme_merges_into_one():
    ids = [DOI, PMID, PMCID, Identifier("arxiv", "2101.00001"), Identifier("openalex", "W1")]
    known = {i: f"w_{n}" for n, i in enumerate(ids)}
    res = plan_identity([group(*ids)], known, anchors={w: i for i, w in known.items()})
    assert not res.conflicts and set(res.work_of.values()) == {"w_0"}
    assert set(res.merges) == {"w_1", "w_2", "w_3", "w_4"}


def test_a_distrusted_chain_is_stopped_at_the_group_that_breaks_it():
    second_pmid = Identifier("pmid", "2")
    res = plan_identity([group(PMID, DOI), group(DOI, second_pmid)], {}, anchors={})
    assert res.work_of[PMID] == res.work_of[DOI] and len(res.conflicts) == 1
    assert second_pmid not in res.work_of


def test_a_distrusted_seed_group_keeps_every_identifier_as_its_own_work():
    res = plan_identity(
        [group(PMID, Identifier("pmid", "2"), by="seed", split=True)], {}, anchors={}
    )
    assert len(set(res.work_of.values())) == 2 and len(res.conflicts) == 1


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

UNIVERSE = [Identifier("doi", f"10.1/{n}") for n in range(4)] + [
    Identifier("openalex", f"W{n}") for n in range(4)
]
groups_strategy = st.lists(
    st.lists(st.sampled_from(UNIVERSE), min_size=1, max_size=3, unique=True), max_size=6
)


def partition(res) -> set[frozenset]:
    by_work: dict[str, set] = {}
    for ident, work in res.work_of.items():
        by_work.setdefault(work, set()).add(ident)
    return {frozenset(v) for v in by_work.values()}


@settings(max_examples=200, deadline=None)
@given(groups_strategy, st.randoms())
def test_the_outcome_does_not_depend_on_the_order_of_the_groups(raw_groups, rnd):
    groups = [group(*g) for g in raw_groups]
    shuffled = groups[:]
    rnd.shuffle(shuffled)
    one, two = plan_identity(groups, {}, anchors={}), plan_identity(shuffled, {}, anchors={})
    assert one.work_of == two.work_of


@settings(max_examples=200, deadline=None)
@given(groups_strategy, groups_strategy)
def test_resolving_in_two_steps_gives_the_same_works_as_in_one(first, second):
    """Evidence arriving over two runs ends in the same partition as all at once."""
    a, b = [group(*g) for g in first], [group(*g) for g in second]
    once = plan_identity(a + b, {}, anchors={})
    step1 = plan_identity(a, {}, anchors={})
    anchors = dict(step1.new_works)
    step2 = plan_identity(b, step1.work_of, anchors=anchors)
    final = {i: step2.merges.get(w, w) for i, w in step1.work_of.items()}
    final.update(step2.work_of)
    by_work: dict[str, set] = {}
    for ident, work in final.items():
        by_work.setdefault(work, set()).add(ident)
    assert {frozenset(v) for v in by_work.values()} == partition(once)
