"""Identity planning: minting, grouping, merging, and the guard against bad data (pure)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.records import Identifier
from warehouse.identity import (
    ASSERTION_ORDER,
    MAX_WORKS_PER_GROUP,
    IdGroup,
    best_identifier,
    better_asserter,
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
# arrival order: provisional works and asserted_by
# ------------------------------------------------------------------------------------------


def test_a_provisional_work_is_re_anchored_when_a_better_identifier_joins_it():
    # w_p was minted in this run from a source's bare PMID; OpenAlex then gives its DOI
    res = plan_identity([group(PMID, DOI)], {PMID: "w_p"}, anchors={"w_p": PMID},
                        provisional={"w_p"})  # fmt: skip
    assert res.new_works == {mint_work_id(DOI): DOI}
    assert res.merges == {"w_p": mint_work_id(DOI)} and res.provisional_merges == {"w_p"}
    assert set(res.work_of.values()) == {mint_work_id(DOI)}


def test_a_provisional_work_already_on_the_best_identifier_keeps_its_id():
    w_d = mint_work_id(DOI)
    res = plan_identity([group(DOI, PMID)], {DOI: w_d}, anchors={w_d: DOI}, provisional={w_d})
    assert res.work_of == {DOI: w_d, PMID: w_d} and not res.merges and not res.new_works


def test_a_settled_work_absorbs_a_provisional_one_whatever_their_anchors():
    # the seed's PMID work meets a DOI work a source minted in this run: the seed's id stays,
    # as it would have had the DOI joined it directly
    known = {PMID: "w_p", DOI: "w_d"}
    res = plan_identity([group(PMID, DOI)], known, anchors={"w_p": PMID, "w_d": DOI},
                        provisional={"w_d"})  # fmt: skip
    assert res.merges == {"w_d": "w_p"} and res.provisional_merges == {"w_d"}


def test_merges_between_settled_works_keep_their_alias():
    known = {PMID: "w_p", DOI: "w_d"}
    res = plan_identity([group(PMID, DOI)], known, anchors={"w_p": PMID, "w_d": DOI})
    assert res.merges == {"w_p": "w_d"} and not res.provisional_merges


def test_asserted_by_names_the_best_ranked_source_not_the_first():
    groups = [group(DOI, PMID, by="openalex"), group(PMID, by="pubmed"), group(DOI, by="crossref")]
    res = plan_identity(groups, {}, anchors={})
    assert res.new_ids == {DOI: "crossref", PMID: "pubmed"}


def test_a_known_id_asserted_by_a_better_source_is_reasserted_and_never_downgraded():
    known = {DOI: "w_d", PMID: "w_d"}
    stored = {DOI: "openalex", PMID: "seed"}
    res = plan_identity([group(DOI, PMID, by="crossref")], known, anchors={"w_d": DOI},
                        asserted_by=stored)  # fmt: skip
    assert res.reasserted == {DOI: "crossref"}


def test_a_distrusted_group_asserts_only_what_it_keeps():
    known = {PMID: "w_1", Identifier("pmid", "2"): "w_2"}
    stored = {PMID: "openalex", Identifier("pmid", "2"): "openalex"}
    res = plan_identity([group(DOI, PMID, Identifier("pmid", "2"), by="seed")], known,
                        anchors={"w_1": PMID, "w_2": Identifier("pmid", "2")},
                        asserted_by=stored)  # fmt: skip
    assert res.conflicts and res.new_ids == {DOI: "seed"} and not res.reasserted


def test_the_assertion_order_is_seed_then_the_bibliographic_source_precedence():
    assert ASSERTION_ORDER == ("seed", "crossref", "pubmed", "openalex")
    assert better_asserter(None, "openalex") == "openalex"
    assert (
        better_asserter("openalex", "pubmed") == better_asserter("pubmed", "openalex") == "pubmed"
    )
    assert better_asserter("crossref", "seed") == "seed"


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


sourced_groups = st.lists(
    st.tuples(
        st.lists(st.sampled_from(UNIVERSE), min_size=1, max_size=3, unique=True),
        st.sampled_from(ASSERTION_ORDER),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(sourced_groups, st.randoms())
def test_the_outcome_does_not_depend_on_the_order_of_the_groups(raw_groups, rnd):
    groups = [group(*g, by=by) for g, by in raw_groups]
    shuffled = groups[:]
    rnd.shuffle(shuffled)
    one, two = plan_identity(groups, {}, anchors={}), plan_identity(shuffled, {}, anchors={})
    assert one.work_of == two.work_of
    assert one.new_ids == two.new_ids  # who asserted each id, too


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


def _resolved_twice(found_first: bool):
    from warehouse.db import connect
    from warehouse.identity import lookup_ids, resolve
    from warehouse.load import start_run

    con = connect(":memory:")
    run_id = start_run(con, "test", {})
    other = Identifier("doi", "10.1/other")
    resolve(con, [group(DOI, by="crossref"), group(other), group(PMID)], run_id=run_id,
            source="crossref")  # fmt: skip
    groups = [group(DOI, PMID), group(PMCID, by="pubmed")]
    # a look-up wider than the groups (the loader reads its link groups' ids too)
    found = lookup_ids(con, [DOI, PMID, PMCID, other]) if found_first else None
    res = resolve(con, groups, run_id=run_id, source="openalex", found=found)
    works = con.execute("select work_id, anchor_value from works order by 1").fetchall()
    ids = con.execute("select scheme, value, work_id, asserted_by from work_ids order by 1, 2")
    return res, works, ids.fetchall()


def test_resolving_with_the_ids_looked_up_beforehand_decides_and_writes_the_same():
    assert _resolved_twice(found_first=True) == _resolved_twice(found_first=False)
