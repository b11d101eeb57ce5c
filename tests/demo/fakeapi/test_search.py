"""Fake Crossref ``query.bibliographic`` and NCBI ``ecitmatch.cgi`` over real sockets."""

from __future__ import annotations

import pytest

from demo.fakeapi import FakeApi
from demo.fakeapi.refcatalog import works_from_records

RECORDS = [  # real metadata (PLOS-cited works; tests/fixtures/README "matching")
    {"doi": "10.1016/j.cbpa.2005.02.004", "pmid": "15811793",
     "title": "Metal ions and RNA folding: a highly charged topic with a dynamic future",
     "authors": [["Woodson", "SA"]], "year": 2005, "container": "Curr Opin Chem Biol",
     "volume": "9", "pages": "104-109"},
    {"doi": "10.1146/annurev.biophys.34.040204.144511", "title": "Ions and RNA folding",
     "authors": [["Draper", "DE"], ["Grilley", "D"]], "year": 2005,
     "container": "Annu Rev Biophys Biomol Struct", "volume": "34", "pages": "221-243"},
    {"doi": "10.1016/s0952-7915(96)80019-7", "pmid": "8994870",
     "title": "Virus-induced autoimmune disease", "authors": [["von Herrath", "MG"]],
     "year": 1996, "container": "Curr Opin Immunol", "volume": "8", "pages": "878-885"},
    {"doi": None, "pmid": "8994871", "title": "A note on the same page", "authors": [["X", "Y"]],
     "year": 1996, "container": "Curr Opin Immunol", "volume": "8", "pages": "878-879"},
]  # fmt: skip


@pytest.fixture
def refapi():
    with FakeApi(works_from_records(RECORDS)) as server:
        yield server


def test_bibliographic_search_ranks_the_cited_work_first_with_scores(refapi, http):
    q = "Woodson SA. Metal ions and RNA folding. Curr Opin Chem Biol. 2005;9:104-109."
    r = http.get(f"{refapi.base_urls['crossref']}/works",
                 params={"query.bibliographic": q, "rows": "2", "select": "DOI,title,score"})  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and body["message-type"] == "work-list"
    items = body["message"]["items"]
    assert [i["DOI"] for i in items] == ["10.1016/j.cbpa.2005.02.004",
                                         "10.1146/annurev.biophys.34.040204.144511"]  # fmt: skip
    assert set(items[0]) == {"DOI", "title", "score"} and items[0]["score"] > items[1]["score"]
    assert body["message"]["query"]["search-terms"] == q


def test_search_skips_works_crossref_does_not_hold(refapi, http):
    r = http.get(f"{refapi.base_urls['crossref']}/works",
                 params={"query.bibliographic": "A note on the same page", "rows": "5"})  # fmt: skip
    assert all(i["DOI"] for i in r.json()["message"]["items"])


def test_a_search_is_a_list_query_paced_by_the_list_window(http):
    with FakeApi(works_from_records(RECORDS), rate_limits={"crossref_list": 1}) as api:
        url = f"{api.base_urls['crossref']}/works"
        codes = [http.get(url, params={"query.bibliographic": "RNA"}).status_code for _ in range(2)]
    assert codes == [200, 429]


def test_ecitmatch_answers_a_pmid_not_found_or_ambiguous_per_line(refapi, http):
    bdata = "\r".join([
        "Curr Opin Chem Biol|2005|9|104|woodson sa|r0|",
        "Nature|2005|9|104||r1|",
        "Curr Opin Immunol|1996|8|878||r2|",
        "Curr Opin Chem Biol|2005|9|999||r3|",
    ])  # fmt: skip
    r = http.get(f"{refapi.base_urls['eutils']}ecitmatch.cgi",
                 params={"db": "pubmed", "retmode": "xml", "bdata": bdata})  # fmt: skip
    lines = r.text.strip().split("\n")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert [ln.rsplit("|", 1)[1] for ln in lines] == [
        "15811793", "NOT_FOUND;INVALID_JOURNAL", "AMBIGUOUS (2 citations)", "NOT_FOUND",
    ]  # fmt: skip
    assert lines[0].startswith("Curr Opin Chem Biol|2005|9|104|woodson sa|r0|")


def test_the_indexed_words_are_crossrefs_bibliographic_content():
    # cayenne's item-bibliographic-content: years, issue, volume, first and last page, ISSNs,
    # title, each distinct container title once, authors as initials and family name
    from dataclasses import replace

    from demo.fakeapi.search import bibliographic_words

    work = replace(works_from_records(RECORDS[:1])[0], issue="2", issns=("1367-5931", None))
    words = bibliographic_words(work)
    assert words[:6] == ["2005", "2005", "2", "9", "104", "109"]
    assert "1367" in words and "5931" in words
    assert words.count("curr") == 1  # the short title equal to the full one adds nothing
    assert words[-3:] == ["s", "a", "woodson"]


def test_an_abbreviated_journal_finds_a_work_only_through_a_deposited_short_title(http):
    full = dict(RECORDS[0], container="Current Opinion in Chemical Biology")
    q = "Woodson SA (2005) Curr Opin Chem Biol 9: 104-109."
    ranks = []
    for record in (full, dict(full, abbrev="Curr Opin Chem Biol")):
        with FakeApi(works_from_records([record, *RECORDS[1:]])) as api:
            r = http.get(f"{api.base_urls['crossref']}/works",
                         params={"query.bibliographic": q, "rows": "1", "select": "DOI,score"})  # fmt: skip
            ranks.append(r.json()["message"]["items"][0]["score"])
    assert ranks[1] > ranks[0]  # "curr opin chem biol" scores only against the short title


def test_searches_arriving_together_build_the_index_once_and_score_alike(monkeypatch):
    # the server answers each request in its own thread: the first searches arrive together
    import threading
    import time

    from demo.fakeapi.catalog import Catalog
    from demo.fakeapi.search import BibliographicIndex

    q = "Woodson SA. Metal ions and RNA folding. Curr Opin Chem Biol. 2005;9:104-109."
    alone = BibliographicIndex(Catalog(works_from_records(RECORDS))).search(q, 3)
    index = BibliographicIndex(Catalog(works_from_records(RECORDS)))
    build, builds = index._build, []

    def slow_build():
        builds.append(1)
        time.sleep(0.05)  # long enough for every thread to reach the build
        return build()

    monkeypatch.setattr(index, "_build", slow_build)
    found: list = []
    threads = [threading.Thread(target=lambda: found.append(index.search(q, 3))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert [[(w.doi, s) for w, s in r] for r in found] == [[(w.doi, s) for w, s in alone]] * 8
