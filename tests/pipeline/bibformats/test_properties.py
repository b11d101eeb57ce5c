"""Whatever text a source sends (TeX specials, braces, markup, control characters, any script),
every format stays parseable: one entry per work, and the DOI unchanged."""

from __future__ import annotations

import io
import json

import bibtexparser
import rispy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.bibformats import BibAuthor, BibWork, write_bibtex, write_csljson, write_ris

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)
_specials = st.text(alphabet="\\{}&%$#_~^<>;\"' \n\tabcAB-–é中", max_size=40)
_field = st.one_of(st.none(), _text, _specials)
_doi = st.from_regex(r"10\.[0-9]{4,5}/[A-Za-z0-9()<>;:._\-]{1,30}", fullmatch=True)

works = st.builds(
    BibWork,
    work_id=st.just("w_1"),
    type=st.sampled_from([None, "journal-article", "book-chapter", "posted-content", "odd"]),
    title=_field,
    container=_field,
    publication_year=st.one_of(st.none(), st.integers(1, 2100)),
    publication_date=st.one_of(st.none(), _specials, st.just("2021-02-30")),
    volume=_field,
    issue=_field,
    pages=_field,
    doi=st.one_of(st.none(), _doi),
    abstract=_field,
    authors=st.lists(
        st.builds(BibAuthor, raw_name=_field.map(lambda t: t or ""), family=_field, given=_field,
                  is_collective=st.booleans()),
        max_size=4,
    ).map(tuple),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(work=works)
def test_bibtex_always_parses_to_one_entry_with_the_doi_intact(work):
    out = io.StringIO()
    write_bibtex([work, work], out)
    library = bibtexparser.parse_string(out.getvalue())
    assert not library.failed_blocks
    assert len(library.entries) == 2
    if work.doi:
        assert library.entries[0]["doi"] == work.doi


@settings(max_examples=150, deadline=None)
@given(work=works)
def test_ris_always_reads_back_one_record_per_work(work):
    out = io.StringIO()
    write_ris([work, work], out)
    records = rispy.loads(out.getvalue())
    assert len(records) == 2
    assert records[0].get("doi") == work.doi


@settings(max_examples=150, deadline=None)
@given(work=works)
def test_csljson_is_always_valid_json_with_one_item_per_work(work):
    out = io.StringIO()
    write_csljson([work, work], out)
    items = json.loads(out.getvalue())
    assert len(items) == 2 and items[0]["id"] != items[1]["id"]
    assert items[0].get("DOI") == work.doi
