"""Properties of loading arbitrary sequences of documents and answers over a small id universe:
once the run finishes, the warehouse passes its data-quality checks, every asserted group ends in one work unless
the guard refused it, and loading everything a second time changes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.db import connect
from warehouse.load import finish_run, load_batch, load_documents, start_run
from warehouse.query import check_quality

from .factories import batch, document, full_record, later
from .test_load import snapshot

IDS = [f"doi:10.1/{n}" for n in range(4)] + [f"pmid:{n}" for n in range(3)] + ["pmcid:PMC1"]
SOURCES = ["openalex", "crossref", "pubmed"]

id_sets = st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("doc"), st.lists(id_sets, min_size=1, max_size=3)),
        st.tuples(st.sampled_from(SOURCES), id_sets, st.lists(st.sampled_from(IDS), max_size=3)),
    ),
    min_size=1,
    max_size=4,
)


def apply(con, run_id: str, script) -> None:
    for n, step in enumerate(script):
        if step[0] == "doc":
            groups = [("mention", ids) for ids in step[1]]
            load_documents(con, [document(f"d{n}.txt", groups)], run_id=run_id)
        else:
            source, ids, refs = step
            rec = full_record(source, *ids, refs=tuple(refs), cited_by_count=n, title=f"T{n}")
            fb, norm = batch(source, [rec], outcomes=[(ids[0], "ok")], at=later(n))
            load_batch(con, fb, norm, run_id=run_id)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_any_sequence_of_loads_keeps_the_warehouse_consistent_and_idempotent(script):
    con = connect(":memory:")
    run_id = start_run(con, "prop", {})
    apply(con, run_id, script)
    finish_run(con, run_id, "completed", {})
    assert [c for c in check_quality(con) if c[1]] == []
    conflicts = con.execute("select count(*) from identity_conflicts").fetchone()[0]
    if not conflicts:  # every group the guard accepted names one work
        for step in script:
            groups = step[1] if step[0] == "doc" else [step[1]]
            for ids in groups:
                works = con.execute(
                    "select count(distinct work_id) from work_ids "
                    "where scheme || ':' || value in (select unnest(?))",
                    [ids],
                ).fetchone()[0]
                assert works == 1, ids
    before = snapshot(con)
    apply(con, run_id, script)
    finish_run(con, run_id, "completed", {})
    assert snapshot(con) == before
    con.close()
