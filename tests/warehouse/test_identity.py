"""Identity planning: minting, grouping, merging, and the guard against bad data (pure)."""

from __future__ import annotations

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
    assert not res.merges
    assert res.work_of == {ids[0]: "w_0"}
    assert res.conflicts and "would merge" in res.conflicts[0].reason


def test_a_group_with_two_pmids_is_distrusted():
    res = plan_identity([group(DOI, PMID, Identifier("pmid", "2"))], {}, anchors={})
    assert res.conflicts and "pmid" in res.conflicts[0].reason
    assert set(res.work_of) == {DOI}


def test_a_distrusted_seed_group_keeps_every_identifier_as_its_own_work():
    res = plan_identity(
        [group(PMID, Identifier("pmid", "2"), by="seed", split=True)], {}, anchors={}
    )
    assert len(set(res.work_of.values())) == 2 and len(res.conflicts) == 1
