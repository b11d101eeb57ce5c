"""The warehouse does not depend on the order the sources' answers arrive in (issue 22 let the
three sources load as they answer, so the same input arrives in a different order each run).

The same normalised answers of PubMed, Crossref and OpenAlex are loaded after the same seed
document in every order of the sources, and split into batches of one answer each in several
interleavings; every table must come out the same, row for row (timestamps of the load itself
and the run id aside)."""

from __future__ import annotations

import itertools
import json

import pytest

from pipeline.records import CitationLink, FetchBatch, IdentityLink, LedgerEntry, Normalised
from warehouse.db import connect
from warehouse.identity import mint_work_id
from warehouse.load import finish_run, load_batch, load_documents, start_run

from .conftest import assert_quality
from .factories import T0, _with_raw, document, full_record, ident, raw_for, record

SOURCES = ("pubmed", "crossref", "openalex")


def cites(source: str, cited: str, *citing: str, position: int = 0) -> CitationLink:
    return CitationLink(source, ident(cited), tuple(ident(c) for c in citing), position)


def answers() -> dict[str, list[Normalised]]:
    """Per source, its answers (each its own raw response) about the seed's works.

    * pmid:1 (seed) is also doi:10.1/a and PMC1; every source asserts the DOI, so who asserts it
      first depends on who answers first; Crossref's record of the DOI may load before anyone
      has tied the DOI to pmid:1 (it then mints a work of its own, later absorbed);
    * PMC2 (seed) and doi:10.1/b are met apart (the seed names both) until PubMed's converter
      or OpenAlex's record links them (two settled works merge: an alias is kept);
    * the works citing pmid:1 are bare pmid:9 and pmid:7 to PubMed (cited-in) and W9 + doi:10.1/y
      + pmid:9, W7 + doi:10.1/z + pmid:7 to OpenAlex: whichever loads first mints them.
    """
    return {
        "pubmed": [
            Normalised(
                records=(
                    full_record(
                        "pubmed", "pmid:1", "doi:10.1/a", "pmcid:PMC1", cited_by_count=3, title="PM"
                    ),
                )
            ),
            Normalised(
                links=(
                    IdentityLink(
                        "pubmed", (ident("pmcid:PMC2"), ident("pmid:2"), ident("doi:10.1/b"))
                    ),
                )
            ),
            Normalised(
                citations=(
                    cites("pubmed", "pmid:1", "pmid:9", position=0),
                    cites("pubmed", "pmid:1", "pmid:7", position=1),
                )
            ),
        ],  # fmt: skip
        "crossref": [
            Normalised(
                records=(full_record("crossref", "doi:10.1/a", cited_by_count=4, title="CR"),)
            ),
            Normalised(records=(record("crossref", "doi:10.1/b", title="CR b"),)),
        ],  # fmt: skip
        "openalex": [
            Normalised(
                records=(
                    full_record(
                        "openalex",
                        "openalex:W1",
                        "doi:10.1/a",
                        "pmid:1",
                        cited_by_count=5,
                        title="OA",
                    ),
                )
            ),
            Normalised(
                records=(
                    record(
                        "openalex",
                        "openalex:W2",
                        "pmcid:PMC2",
                        "pmid:2",
                        "doi:10.1/b",
                        title="OA b",
                    ),
                )
            ),
            Normalised(
                citations=(
                    cites("openalex", "openalex:W1", "openalex:W9", "doi:10.1/y", "pmid:9"),
                    cites(
                        "openalex", "openalex:W1", "openalex:W7", "doi:10.1/z", "pmid:7", position=1
                    ),
                )
            ),
        ],  # fmt: skip
    }


def as_batch(source: str, parts: list[tuple[int, Normalised]]) -> tuple[FetchBatch, list]:
    """One fetch batch of ``parts`` = (answer number, answer): a raw response per answer (named
    by its number, so a raw is the same whichever batch carries it)."""
    raws, normalised = [], []
    for n, answer in parts:
        raw = raw_for(source, json.dumps([source, n]), at=T0, url=f"https://x.org/{source}/{n}")
        raws.append(raw)
        records = tuple(_with_raw(r, raw.raw_id) for r in answer.records)
        normalised.append(Normalised(records=records, links=answer.links,
                                     citations=answer.citations))  # fmt: skip
    asked = {r.ids[0] for _, a in parts for r in a.records}
    ledger = tuple(LedgerEntry(source, *i, "ok", 200, 1, None, T0) for i in sorted(asked))
    return FetchBatch(source, tuple(raws), ledger, requests_made=len(raws)), normalised


def whole(order: tuple[str, ...]) -> list[tuple[str, list]]:
    """Each source's answers in one batch, the sources in ``order``."""
    all_answers = answers()
    return [(s, list(enumerate(all_answers[s]))) for s in order]


def interleaved(order: tuple[str, ...], *, reverse: bool) -> list[tuple[str, list]]:
    """One batch per answer, the sources taking turns in ``order``; each source's answers in
    their order or reversed, except that who cites a work comes after the source's record of it
    (a source is asked who cites a work it has answered for)."""
    all_answers = answers()
    queues = {}
    for s in order:
        numbered = list(enumerate(all_answers[s]))[:: -1 if reverse else 1]
        queues[s] = sorted(numbered, key=lambda a: bool(a[1].citations))
    out = []
    while any(queues.values()):
        for s in order:
            if queues[s]:
                out.append((s, [queues[s].pop(0)]))
    return out


def warehouse_after(batches: list[tuple[str, list]]) -> dict[str, list]:
    """Load the seed document, then ``batches``, finish the run; every table's rows, sorted."""
    con = connect(":memory:")
    run_id = start_run(con, "order", {})
    seed = document("seed.txt", [("subject", ["pmid:1"]), ("reference", ["pmcid:PMC2"]),
                                 ("reference", ["doi:10.1/b"])])  # fmt: skip
    load_documents(con, [seed], run_id=run_id)
    for source, parts in batches:
        fb, norm = as_batch(source, parts)
        load_batch(con, fb, norm, run_id=run_id)
    finish_run(con, run_id, "completed", {})
    assert_quality(con)
    tables = con.execute(
        "select table_name from duckdb_tables() where not temporary and table_name <> 'runs' "
        "order by 1"
    ).fetchall()
    out = {}
    for (table,) in tables:
        cols = con.execute(
            "select column_name from duckdb_columns() where table_name = ? order by column_index",
            [table],
        ).fetchall()
        # the load's own clock and run are not part of what was loaded, nor which answer merged
        # two settled works (work_aliases.source of a merged_work: the first to link them)
        keep = [
            f'"{c}"'
            for (c,) in cols
            if not c.endswith("_at") and c != "run_id" and (table, c) != ("work_aliases", "source")
        ]
        rows = con.execute(f"select {', '.join(keep)} from {table}").fetchall()
        out[table] = sorted(map(repr, rows))
    con.close()
    return out


def differences(one: dict[str, list], two: dict[str, list]) -> dict[str, tuple[list, list]]:
    """Per table that differs: (rows only in one, rows only in two)."""
    return {
        t: (sorted(set(one[t]) - set(two[t])), sorted(set(two[t]) - set(one[t])))
        for t in one
        if one[t] != two[t]
    }


ORDERS = list(itertools.permutations(SOURCES))


@pytest.fixture(scope="module")
def reference() -> dict[str, list]:
    return warehouse_after(whole(SOURCES))


@pytest.mark.parametrize("order", ORDERS[1:], ids="-".join)
def test_every_order_of_the_sources_gives_the_same_warehouse(reference, order):
    assert differences(warehouse_after(whole(order)), reference) == {}


# each source leads once (a turn of the three); every order of whole batches is tried above
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
@pytest.mark.parametrize("order", [SOURCES[k:] + SOURCES[:k] for k in range(3)], ids="-".join)
def test_answers_split_into_batches_and_interleaved_give_the_same_warehouse(
    reference, order, reverse
):
    assert differences(warehouse_after(interleaved(order, reverse=reverse)), reference) == {}


# ------------------------------------------------------------------------------------------
# the rules that make it so, through the loaders
# ------------------------------------------------------------------------------------------


def load(con, run_id: str, source: str, answer: Normalised) -> None:
    fb, norm = as_batch(source, [(0, answer)])
    load_batch(con, fb, norm, run_id=run_id)


def work_and_anchor(con, text: str) -> tuple[str, str, str]:
    i = ident(text)
    return con.execute(
        "select w.work_id, w.anchor_scheme, w.anchor_value from work_ids i "
        "join works w using (work_id) where i.scheme = ? and i.value = ?",
        [i.scheme, i.value],
    ).fetchone()


def test_a_work_a_source_minted_in_this_run_is_re_anchored_and_leaves_no_alias(con, run_id):
    load_documents(con, [document("s.txt", [("subject", ["pmid:1"])])], run_id=run_id)
    load(con, run_id, "pubmed", Normalised(citations=(cites("pubmed", "pmid:1", "pmid:9"),)))
    first = work_and_anchor(con, "pmid:9")
    assert first == (mint_work_id(ident("pmid:9")), "pmid", "9")
    oa = cites("openalex", "pmid:1", "openalex:W9", "doi:10.1/y", "pmid:9")
    load(con, run_id, "openalex", Normalised(citations=(oa,)))
    assert work_and_anchor(con, "pmid:9") == (mint_work_id(ident("doi:10.1/y")), "doi", "10.1/y")
    assert con.execute("select count(*) from work_aliases").fetchone()[0] == 0
    assert (
        con.execute("select count(*) from works where work_id = ?", [first[0]]).fetchone()[0] == 0
    )


def test_a_work_minted_in_an_earlier_run_keeps_its_id_when_a_better_identifier_joins(con):
    first_run = start_run(con, "enrich", {})
    load_documents(con, [document("s.txt", [("subject", ["pmid:1"])])], run_id=first_run)
    load(con, first_run, "pubmed", Normalised(citations=(cites("pubmed", "pmid:1", "pmid:9"),)))
    finish_run(con, first_run, "completed", {})
    refresh = start_run(con, "refresh", {})
    oa = cites("openalex", "pmid:1", "openalex:W9", "doi:10.1/y", "pmid:9")
    load(con, refresh, "openalex", Normalised(citations=(oa,)))
    assert work_and_anchor(con, "doi:10.1/y") == (mint_work_id(ident("pmid:9")), "pmid", "9")


def test_a_seed_work_keeps_its_id_when_a_source_minted_a_better_anchored_one_first(con, run_id):
    load_documents(con, [document("s.txt", [("subject", ["pmid:1"])])], run_id=run_id)
    load(con, run_id, "crossref", Normalised(records=(record("crossref", "doi:10.1/a"),)))
    rec = record("pubmed", "pmid:1", "doi:10.1/a")
    load(con, run_id, "pubmed", Normalised(records=(rec,)))
    assert work_and_anchor(con, "doi:10.1/a") == (mint_work_id(ident("pmid:1")), "pmid", "1")
    assert con.execute("select count(*) from work_aliases").fetchone()[0] == 0


def test_asserted_by_moves_to_a_better_ranked_source_and_never_back(con, run_id):
    load_documents(con, [document("s.txt", [("subject", ["pmid:1"])])], run_id=run_id)
    asserted = "select asserted_by from work_ids where scheme = 'doi'"
    load(con, run_id, "openalex", Normalised(records=(record("openalex", "openalex:W1",
                                                             "pmid:1", "doi:10.1/a"),)))  # fmt: skip
    assert con.execute(asserted).fetchone()[0] == "openalex"
    load(con, run_id, "crossref", Normalised(records=(record("crossref", "doi:10.1/a"),)))
    assert con.execute(asserted).fetchone()[0] == "crossref"
    load(con, run_id, "pubmed", Normalised(records=(record("pubmed", "pmid:1", "doi:10.1/a"),)))
    assert con.execute(asserted).fetchone()[0] == "crossref"


def test_a_citing_work_re_anchored_by_its_own_record_stays_a_citing_work(con, run_id):
    load_documents(con, [document("s.txt", [("subject", ["pmid:1"])])], run_id=run_id)
    load(con, run_id, "pubmed", Normalised(citations=(cites("pubmed", "pmid:1", "pmid:9"),)))
    # run --expand citing: PubMed's record of the citing work gives its DOI
    load(con, run_id, "pubmed", Normalised(records=(record("pubmed", "pmid:9", "doi:10.1/y"),)))
    work, scheme, _ = work_and_anchor(con, "pmid:9")
    assert (work, scheme) == (mint_work_id(ident("doi:10.1/y")), "doi")
    assert con.execute("select origin from works where work_id = ?", [work]).fetchone() == (
        "citing",
    )
