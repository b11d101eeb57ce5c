"""pipeline.extract: mentions with provenance, grouped into works, from whole files."""

from __future__ import annotations

import hashlib
import json
import resource
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline.readers.base as documents
from pipeline.errors import InputError
from pipeline.extract import (
    extract_document,
    extract_paths,
    heading_role,
    mentions_json,
    mentions_table,
)
from pipeline.identifiers import normalise
from pipeline.records import Mention

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
FIXTURES = ROOT / "tests" / "fixtures" / "extract"
EXPECTED = json.loads((ROOT / "tests" / "fixtures" / "seeds_expected.json").read_text())


def works(mentions) -> list[dict]:
    """Works as the oracle writes them: {role, scheme: value} per (document, group)."""
    grouped: dict[tuple[str, int], dict] = defaultdict(dict)
    for m in mentions:
        work = grouped[(m.document, m.group)]
        assert work.setdefault("role", m.role) == m.role, f"one group, two roles: {m}"
        assert work.setdefault(m.scheme, m.value) == m.value, f"one group, two {m.scheme}s: {m}"
    return list(grouped.values())


def canonical(items: list[dict]) -> list[str]:
    return sorted(json.dumps(w, sort_keys=True) for w in items)


def text_of(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The two real seeds against the oracle
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED["documents"]))
def test_seed_gives_exactly_the_expected_works(name):
    doc = extract_document(str(SEEDS / name))
    assert doc.problems == ()
    assert canonical(works(doc.mentions)) == canonical(EXPECTED["documents"][name]["works"])


def test_seeds_totals_match_the_oracle():
    mentions = [m for d in extract_paths([str(SEEDS)]) for m in d.mentions]
    found = works(mentions)
    totals = EXPECTED["totals"]
    assert len(found) == totals["works"]
    for scheme in ("doi", "pmid", "pmcid"):
        assert sum(scheme in w for w in found) == totals[scheme]


def test_seed_subject_printed_twice_is_one_group():
    doc = extract_document(str(SEEDS / "000_bce47f73adc75014.txt"))
    subject = [m for m in doc.mentions if m.role == "subject"]
    assert len(subject) == 3  # the DOI in "Cite This", the DOI and PMID under "Identifiers"
    assert len({m.group for m in subject}) == 1
    assert {m.section for m in subject} == {"Cite This", "Identifiers"}


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")) + sorted(FIXTURES.iterdir()))
def test_offsets_and_lines_point_at_the_identifier(path):
    text = text_of(path)
    lines = text.split("\n")
    for m in extract_document(str(path)).mentions:
        printed = text[m.start : m.end]
        if "&" not in printed:  # HTML entities decode first, e.g. 10.1000/xyz&lt;1&gt;
            assert normalise(m.scheme, printed) == m.value
        assert printed.split("\n")[0] in lines[m.line - 1]
        assert text.count("\n", 0, m.start) + 1 == m.line


# --------------------------------------------------------------------------------------------
# Each input kind (tests/fixtures/extract)
# --------------------------------------------------------------------------------------------


def works_of(name: str) -> list[str]:
    return canonical(works(extract_document(str(FIXTURES / name)).mentions))


def test_html_meta_tags_name_the_subject_and_references_and_lists_give_roles():
    assert works_of("article.html") == canonical(
        [
            {"role": "subject", "doi": "10.1111/ejh.70051", "pmid": "41369097"},
            # <meta name="citation_reference">: one reference each, Google Scholar fields or text
            {"role": "reference", "doi": "10.1182/blood.2022015789", "pmid": "34986238"},
            {"role": "reference", "doi": "10.1200/jco.20.01616"},
            {"role": "reference", "doi": "10.1111/bjh.17673", "pmcid": "PMC9293158"},
            {"role": "reference", "pmid": "30814057", "doi": "10.1000/xyz<1>"},
            {"role": "citing", "pmid": "39901030", "doi": "10.1038/s41573-024-01100-5"},
        ]
    )


def test_html_script_style_grants_and_zip_codes_give_nothing():
    values = {m.value for m in extract_document(str(FIXTURES / "article.html")).mentions}
    assert not values & {"99999999", "10.9999/not-visible", "10.9999/also-hidden", "77030"}


def test_html_text_on_either_side_of_a_script_never_joins_into_one_identifier(tmp_path):
    """Found by the fuzz test: a stray ``</script>`` between "10.1000/" and "10." gave the DOI
    10.1000/10, whose printed text (the tag included) is no DOI."""
    page = tmp_path / "p.html"
    page.write_text(
        "<p>10.1000/</script>10. and 10.1000/abc<script>x</script>def "
        "and 10.1000/ok<style>p{}</style> and 10.1000/end</p>",
        encoding="utf-8",
    )
    values = [m.value for m in extract_document(str(page)).mentions]
    assert values == ["10.1000/abc", "10.1000/ok", "10.1000/end"]


def test_markdown_headings_give_sections_and_roles():
    doc = extract_document(str(FIXTURES / "notes.md"))
    by_value = {m.value: m for m in doc.mentions}
    assert by_value["2101.00001"].role == "mention"
    assert by_value["10.1111/ejh.70051"].role == "subject"
    assert by_value["10.1182/blood.2022015789"].section == "Bibliography"
    # a subsection of the bibliography is still the bibliography
    assert (
        by_value["10.5281/zenodo.1234567"].section,
        by_value["10.5281/zenodo.1234567"].role,
    ) == (
        "Datasets",
        "reference",
    )
    # numbered items are separate works; a PMID on the item's next line joins its item
    assert by_value["33326257"].group == by_value["10.1200/jco.20.01616"].group
    assert by_value["10.1182/blood.2022015789"].group != by_value["10.1200/jco.20.01616"].group


def test_bibtex_entries_are_references_one_work_each():
    assert works_of("references.bib") == canonical(
        [
            {
                "role": "reference",
                "doi": "10.1111/bjh.17673",
                "pmid": "34431082",
                "pmcid": "PMC9293158",
            },
            {"role": "reference", "arxiv": "1706.03762"},  # eprint + archivePrefix = {arXiv}
            {"role": "reference", "arxiv": "hep-th/9802150", "openalex": "W2100837269"},
        ]
    )


def test_ris_records_are_references_one_work_each():
    assert works_of("references.ris") == canonical(
        [
            {"role": "reference", "doi": "10.1182/blood.2022015789"},
            {
                "role": "reference",
                "doi": "10.1038/s41591-018-0041-7",
                "pmid": "29808007",
                "pmcid": "PMC6410714",
            },
        ]
    )


def test_csv_rows_are_works_and_id_columns_label_bare_values():
    assert works_of("works.csv") == canonical(
        [
            {
                "role": "mention",
                "doi": "10.1111/bjh.17673",
                "pmid": "34431082",
                "pmcid": "PMC9293158",
            },
            {"role": "mention", "arxiv": "1706.03762", "openalex": "W2626778328"},
        ]
    )
    # the year column is not a PMID, though it is a bare number like one
    assert "2021" not in {m.value for m in extract_document(str(FIXTURES / "works.csv")).mentions}


def test_tsv_rows_are_works():
    assert works_of("works.tsv") == canonical(
        [
            {"role": "mention", "pmid": "30814057", "doi": "10.1182/bloodadvances.2018028720"},
            {"role": "mention", "doi": "10.1200/jco.20.01616"},
        ]
    )


# --------------------------------------------------------------------------------------------
# Grouping and roles in plain text
# --------------------------------------------------------------------------------------------


def extract_text(tmp_path: Path, text: str, name: str = "doc.txt") -> list[Mention]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list(extract_document(str(path)).mentions)


def test_a_list_of_dois_one_per_line_is_one_work_each(tmp_path):
    mentions = extract_text(tmp_path, "doi:10.1000/a1\ndoi:10.1000/b2\ndoi:10.1000/c3\n")
    assert len({m.group for m in mentions}) == 3
    assert {m.role for m in mentions} == {"mention"}


def test_a_paragraph_with_one_doi_and_one_pmid_is_one_work(tmp_path):
    mentions = extract_text(
        tmp_path, "Intro.\n\nSmith J. Title. 2020.\nPMID: 123456 doi:10.1000/x\n"
    )
    assert len({m.group for m in mentions}) == 1


def test_the_top_line_names_the_page_only_when_it_stands_alone(tmp_path):
    page = extract_text(tmp_path, "» Articles » PMID: 36455991\n\nTitle\n\nBody PMID: 1234.\n")
    assert [(m.value, m.role) for m in page] == [("36455991", "subject"), ("1234", "mention")]
    listing = extract_text(tmp_path, "PMID: 36455991\nPMID: 1234\n")
    assert {m.role for m in listing} == {"mention"}


@pytest.mark.parametrize(
    ("heading", "role"),
    [
        ("References", "reference"),
        ("REFERENCES", "reference"),
        ("References (25)", "reference"),
        ("Bibliography", "reference"),
        ("## Works Cited", "reference"),
        ("Citing Articles", "citing"),
        ("Cited by 12 articles", "citing"),
        ("Cited by", "citing"),
        ("Identifiers", "subject"),
        ("Cite This", "subject"),
        ("Similar articles", "mention"),
        ("Some Other Heading", "mention"),
    ],
)
def test_a_section_heading_gives_its_entries_their_role(tmp_path, heading, role):
    mentions = extract_text(tmp_path, f"Intro text.\n\n{heading}\n\n1. Smith. doi:10.1000/x1\n")
    assert [(m.role, m.section) for m in mentions] == [(role, heading.lstrip("# "))]


def test_heading_role_knows_variants():
    assert heading_role("1. References:") == (True, "reference")
    assert heading_role("Year") == (False, None)


def test_extraction_does_not_depend_on_piece_and_block_sizes(monkeypatch):
    files = [str(p) for p in sorted(SEEDS.glob("*.txt")) + sorted(FIXTURES.iterdir())]
    reference = [d.mentions for d in extract_paths(files)]
    for piece_size in (64, 257, 1000):
        monkeypatch.setattr(documents, "PIECE_SIZE", piece_size)
        monkeypatch.setattr(documents, "BLOCK_SIZE", 7)
        assert [d.mentions for d in extract_paths(files)] == reference, piece_size


# --------------------------------------------------------------------------------------------
# Paths, output formats
# --------------------------------------------------------------------------------------------


def test_missing_path_raises_input_error_naming_it_before_anything_is_read(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(InputError, match=r"nope\.txt: no such file or directory"):
        extract_paths([str(SEEDS), missing])


def test_directories_expand_recursively_sorted_skipping_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for rel in ("c.txt", "b/2.txt", "a.txt", "b/1.md", ".secret.txt", ".hidden/x.txt"):
        (tmp_path / rel).write_text("doi:10.1000/x\n")
    paths = [d.path for d in extract_paths([str(tmp_path)])]
    expected = ["a.txt", "b/1.md", "b/2.txt", "c.txt"]
    assert paths == [str(tmp_path / rel) for rel in expected]


def test_seed_document_carries_hash_and_size():
    path = SEEDS / "002_3ea597cfb241f368.txt"
    doc = extract_document(str(path))
    data = path.read_bytes()
    assert (doc.sha256, doc.bytes) == (hashlib.sha256(data).hexdigest(), len(data))


def test_mentions_json_is_the_contract_array():
    docs = list(extract_paths([str(SEEDS)]))
    rows = json.loads(mentions_json(docs))
    assert len(rows) == sum(len(d.mentions) for d in docs)
    assert list(rows[0]) == [
        "scheme",
        "value",
        "document",
        "start",
        "end",
        "line",
        "section",
        "group",
        "role",
    ]
    assert rows[0] == docs[0].mentions[0].to_json()
    assert json.loads(mentions_json([])) == []


def test_mentions_table_aligns_columns_and_lists_problems(tmp_path):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    table = mentions_table(
        [extract_document(str(SEEDS / "000_bce47f73adc75014.txt")), extract_document(str(binary))]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["document", "line", "scheme", "value", "role", "group", "section"]
    assert len({line.index("scheme") for line in lines[:1]}) == 1
    assert lines[2].index("doi") == lines[0].index("scheme")
    assert lines[-1].startswith(f"! {binary}: binary file")


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PMID: 123\x00\x00\x01\x02"]
)
def test_binary_file_is_refused_with_one_line_problem(tmp_path, data):
    path = tmp_path / "blob.txt"
    path.write_bytes(data)
    doc = extract_document(str(path))
    assert doc.mentions == ()
    assert len(doc.problems) == 1 and doc.problems[0].fatal
    assert "\n" not in doc.problems[0].message
    assert doc.bytes == len(data)


def test_non_utf8_file_is_decoded_as_cp1252_with_a_warning(tmp_path):
    text = "Caf\u00e9 \u201cquoted\u201d \u2013 PMID: 27172445 doi:10.1000/abc\n" * 3
    path = tmp_path / "latin.txt"
    path.write_bytes(text.encode("cp1252"))
    doc = extract_document(str(path))
    assert [p.message for p in doc.problems] == ["not UTF-8; decoded as cp1252 with replacements"]
    assert not doc.problems[0].fatal
    assert [m.value for m in doc.mentions] == ["27172445", "10.1000/abc"] * 3
    assert all(normalise(m.scheme, text[m.start : m.end]) == m.value for m in doc.mentions)


@pytest.mark.parametrize(
    ("name", "head", "warned"),
    [
        ("a.xml", '<?xml version="1.0" encoding="ISO-8859-1"?>\n<doc>', False),
        ("a.xml", "<?xml version='1.0' encoding='windows-1252' ?><doc>", False),
        ("a.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<doc>', True),  # it lies
        ("a.html", '<html><head><meta charset="iso-8859-1"></head><body><p>', False),
        ("a.html", '<html><head><meta http-equiv="Content-Type" '
         'content="text/html; charset=windows-1252"></head><body><p>', False),
        ("a.txt", "encoding: iso-8859-1\n", True),  # no declaration: just words
    ],
)  # fmt: skip
def test_a_declared_western_encoding_is_no_warning(tmp_path, name, head, warned):
    text = head + "Caf\u00e9 \u201cquoted\u201d PMID: 27172445\n"
    path = tmp_path / name
    path.write_bytes(text.encode("cp1252"))
    doc = extract_document(str(path))
    assert any(p.message.startswith("not UTF-8") for p in doc.problems) is warned, doc.problems
    assert [m.value for m in doc.mentions] == ["27172445"]


def test_empty_file_gives_nothing_and_no_problem(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    doc = extract_document(str(path))
    assert (doc.mentions, doc.problems, doc.bytes) == ((), (), 0)
    assert doc.sha256 == hashlib.sha256(b"").hexdigest()


def test_utf8_bom_is_not_counted_in_offsets(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffPMID: 27172445\n".encode("utf-8"))
    (m,) = extract_document(str(path)).mentions
    assert (m.start, m.end, m.line) == (6, 14, 1)


def test_unreadable_path_is_a_fatal_problem_not_an_exception(tmp_path):
    doc = extract_document(str(tmp_path))  # a directory: open() fails like a locked file
    assert len(doc.problems) == 1 and doc.problems[0].fatal
    assert doc.problems[0].message.startswith("unreadable: ")
    assert doc.mentions == ()


def test_deeply_nested_html_does_not_crash(tmp_path):
    path = tmp_path / "deep.html"
    depth = 100_000
    path.write_text(
        "<html><body>" + "<div>" * depth + "PMID: 27172445" + "</div>" * depth + "</body></html>"
    )
    doc = extract_document(str(path))
    assert [m.value for m in doc.mentions] == ["27172445"]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=300), st.sampled_from(["x.txt", "x.md", "x.html", "x.bib", "x.ris", "x.csv"])
)
def test_extract_document_never_raises_on_arbitrary_bytes(tmp_path_factory, data, name):
    path = tmp_path_factory.getbasetemp() / name
    path.write_bytes(data)
    doc = extract_document(str(path))
    for m in doc.mentions:
        assert 0 <= m.start < m.end and m.line >= 1
        assert normalise(m.scheme, m.value) == m.value


# --------------------------------------------------------------------------------------------
# A very large file
# --------------------------------------------------------------------------------------------

_FILLER = (
    "Patients (n = 163) were treated 2004\u20132024 in Houston TX 77030 under grant R01 CA123456; "
    "see Nat Med. 2018; 24(6):731-738 and pages 388-398. Caf\u00e9 \u00e0 la cr\u00e8me.\n"
) * 6 + "\n"


def write_large_file(path: Path, target_bytes: int) -> list[tuple[str, str, int, int]]:
    """Write seed-like prose with an identifier paragraph every ~64 KB; return what is expected.

    Identifiers sit at varying offsets, so some fall on every read-block and piece boundary.
    Expected values are (scheme, value, character offset, line) computed while writing.
    """
    expected: list[tuple[str, str, int, int]] = []
    chars, lines, written, n = 0, 1, 0, 0
    with open(path, "wb") as fh:
        while written < target_bytes:
            parts = []
            for _ in range(64):
                parts.append(_FILLER)
            n += 1
            pmid, doi = str(10_000_000 + n), f"10.{5000 + n % 97}/large.{n}"
            entry = f"PMID: {pmid} DOI: {doi}.\n\n"
            block = "".join(parts)
            start = chars + len(block)
            line = lines + block.count("\n")
            expected.append(("pmid", pmid, start + 6, line))
            expected.append(("doi", doi, start + entry.index("10."), line))
            block += entry
            data = block.encode("utf-8")
            fh.write(data)
            chars, lines, written = (
                chars + len(block),
                lines + block.count("\n"),
                written + len(data),
            )
    return expected


@pytest.mark.slow
def test_a_200_mb_file_is_extracted_in_bounded_memory(tmp_path):
    path = tmp_path / "large.txt"
    expected = write_large_file(path, 200 * 10**6)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    doc = extract_document(str(path))
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert doc.problems == ()
    assert doc.bytes == path.stat().st_size
    assert [(m.scheme, m.value, m.start, m.line) for m in doc.mentions] == expected
    assert growth_mb < 120, f"peak RSS grew {growth_mb:.0f} MB for a 200 MB file"


def test_only_the_first_piece_has_a_top_line(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "PIECE_SIZE", 64)
    text = "» Articles » PMID: 36455991\n\n" + "Filler line of text here.\n\n" * 5 + "PMID: 1\n"
    roles = [(m.value, m.role) for m in extract_text(tmp_path, text)]
    assert roles == [("36455991", "subject"), ("1", "mention")]


@pytest.mark.parametrize("name", sorted(EXPECTED["documents"]))
def test_windows_line_endings_give_the_same_works(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(text_of(SEEDS / name).replace("\n", "\r\n").encode("utf-8"))
    doc = extract_document(str(path))
    assert canonical(works(doc.mentions)) == canonical(EXPECTED["documents"][name]["works"])


def test_a_walk_knows_it_is_inside_a_reference_heading_as_sections_change():
    from pipeline.extract import _Walk
    from pipeline.readers import layout_for

    walk = _Walk("x.txt", layout_for("text"))
    walk.heading(1, "References", "reference")
    assert walk.reading_references()
    walk.heading(2, "Journal articles", None)  # a subsection inherits the role
    assert walk.reading_references() and walk.in_references
    walk.mark("link")
    walk.mark("unlink")
    assert walk.reading_references()
    walk.heading(1, "Abstract", None)  # closes every section before it
    assert not walk.reading_references() and not walk.in_references
    walk.heading(1, "Bibliography", "reference")
    walk.mark("reference")  # a role mark (level 0) replaces the sections: no heading
    assert walk.role == "reference" and not walk.reading_references()


def _groups(path: Path) -> dict[str, set[str]]:
    """Each mention's id -> the ids sharing its group."""
    by_group: dict[int, set[str]] = defaultdict(set)
    mentions = extract_document(str(path)).mentions
    for m in mentions:
        by_group[m.group].add(f"{m.scheme}:{m.value}")
    return {f"{m.scheme}:{m.value}": by_group[m.group] for m in mentions}


def test_a_csv_references_column_is_one_work_per_cited_reference(tmp_path):
    # Scopus' CSV export: the record's DOI, its "References" (the works it cites, "; " between
    # them, one with only a DOI, the next with only a PubMed link), then its "PubMed ID".
    path = tmp_path / "scopus.csv"
    path.write_text(
        "Title,DOI,References,PubMed ID,EID\n"
        '"Own work",10.1000/own,"Heldin, C., Role of Smads (2012) Cell, https://doi.org/10.1000/'
        "cited; Weston, C.R., (2015), http://www.ncbi.nlm.nih.gov/pubmed/11790549, The JNK "
        'pathway; Kong, S.W., Blood (2012) PLoS ONE, 7 (12)",22222222,2-s2.0-84870000000\n'
    )
    groups = _groups(path)
    assert groups["doi:10.1000/own"] == {"doi:10.1000/own", "pmid:22222222"}
    assert groups["doi:10.1000/cited"] == {"doi:10.1000/cited"}
    assert groups["pmid:11790549"] == {"pmid:11790549"}


def test_a_csv_column_named_with_a_qualifier_labels_bare_ids(tmp_path):
    # Retraction Watch's CSV: "RetractionPubMedID", "OriginalPaperPubMedID" (0: none); Springer's
    # "Item DOI"; OpenAlex's "ids.pmid"
    path = tmp_path / "retractions.csv"
    path.write_text(
        "Record ID,RetractionDOI,RetractionPubMedID,OriginalPaperPubMedID,ids.pmid\n"
        "4242,10.4242/2024/01,31111111,0,32222222\n"
    )
    values = {f"{m.scheme}:{m.value}" for m in extract_document(str(path)).mentions}
    assert values == {"doi:10.4242/2024/01", "pmid:31111111", "pmid:32222222"}


def test_a_marked_up_heading_after_a_guessed_one_is_no_subsection_of_it(tmp_path):
    # PeerJ's article page: a "Cite this article" line (a guessed heading, the page's own)
    # above the article's <h2> sections; a work cited in the Introduction is no subject.
    page = tmp_path / "peerj.html"
    page.write_text(
        '<html><head><meta name="citation_doi" content="10.7717/peerj.4375"></head><body>'
        "<h1>The state of OA</h1><div>Cite this article</div>"
        "<div>Piwowar H. 2018. PeerJ 6:e4375 https://doi.org/10.7717/peerj.4375</div>"
        "<h2>Introduction</h2><p>Sci-Hub "
        '(<a href="https://doi.org/10.1126%2Fscience.352.6285.508">Bohannon, 2016</a>).</p>'
        "<h2>References</h2><ul><li>Bohannon J. 2016. Who's downloading pirated papers? "
        "Science 352:508 https://doi.org/10.1126/science.352.6285.508</li></ul></body></html>",
        encoding="utf-8",
    )
    doc = extract_document(str(page))
    cited = [(m.section, m.role) for m in doc.mentions if m.value.startswith("10.1126/")]
    assert cited == [("Introduction", "mention"), ("References", "reference")]
    assert {m.value for m in doc.mentions if m.role == "subject"} == {"10.7717/peerj.4375"}


def test_a_csv_row_repeating_a_numbered_column_keeps_the_later_names(tmp_path):
    # Scopus' CSV: a record with two funding texts has one cell more than the header
    # ("Funding Text 1" repeated); the PubMed ID after it is still that record's PMID, and the
    # ISSN before the repeat or the year are no PMIDs.
    path = tmp_path / "scopus.csv"
    path.write_text(
        "Title,Year,DOI,Funding Text 1,ISSN,PubMed ID,Language,EID\n"
        "One,2020,10.1000/one,Funded by A,20452322,35064163,English,2-s2.0-85123480963\n"
        "Two,2021,10.1000/two,Funded by B,Funded by C,00189219,31111111,English,2-s2.0-1\n"
    )
    groups = _groups(path)
    assert groups["doi:10.1000/one"] == {"doi:10.1000/one", "pmid:35064163"}
    assert groups["doi:10.1000/two"] == {"doi:10.1000/two", "pmid:31111111"}
    assert {m.value for m in extract_document(str(path)).mentions if m.scheme == "pmid"} == {
        "35064163",
        "31111111",
    }


def test_a_csv_header_under_a_one_cell_title_line_names_its_columns(tmp_path):
    # Dimensions' CSV export: a notice line above the header row
    path = tmp_path / "dimensions.csv"
    path.write_text(
        '"About the data: Exported on Mar 12, 2021. Criteria: ""crispr"" in full data."\n'
        '"Rank","Publication ID","DOI","PMID","PMCID","Title","PubYear"\n'
        '"1","pub.1125312312","10.1038/s41586-020-2012-7","32015507","PMC7095418","A new","2020"\n'
    )
    groups = _groups(path)
    assert groups["doi:10.1038/s41586-020-2012-7"] == {
        "doi:10.1038/s41586-020-2012-7",
        "pmid:32015507",
        "pmcid:PMC7095418",
    }
    assert "2020" not in {m.value for m in extract_document(str(path)).mentions}


_WOS_HEADER = (
    "PT AU BA BE GP AF BF CA TI SO SE BS LA DT CT CY CL SP HO DE ID AB C1 RP EM RI OI FU FX CR "
    "NR TC Z9 U1 U2 PU PI PA SN EI BN J9 JI PD PY VL IS PN SU SI MA BP EP AR DI D2 EA EY PG WC "
    "SC GA UT PM OA HC HP DA"
).split()


def test_a_web_of_science_tab_delimited_export_names_its_ids_by_field_tag(tmp_path):
    # "Tab-delimited file" export of Web of Science (savedrecs.txt), a UTF-8 BOM first
    cells = dict.fromkeys(_WOS_HEADER, "")
    cells |= {
        "PT": "J",
        "AU": "Joffe, H; Hall, JE",
        "TI": "Vasomotor symptoms",
        "CR": "Smith J, 2003, J APPL PHYS, V94, P4896, DOI 10.1063/1.1609649; Roe R, 2001, "
        "LANCET, V1, P2",
        "SN": "0002-9378",
        "PY": "2006",
        "DI": "10.1016/j.ajog.2006.02.001",
        "UT": "WOS:000239512300010",
        "PM": "16842170",
    }
    path = tmp_path / "savedrecs.txt"
    path.write_text("\ufeff" + "\t".join(_WOS_HEADER) + "\n" + "\t".join(cells.values()) + "\n")
    groups = _groups(path)
    assert groups["doi:10.1016/j.ajog.2006.02.001"] == {
        "doi:10.1016/j.ajog.2006.02.001",
        "pmid:16842170",
    }
    assert groups["doi:10.1063/1.1609649"] == {"doi:10.1063/1.1609649"}


def test_a_running_head_inside_a_pages_link_targets_keeps_the_reference_list_paused():
    from pipeline.extract import _scan, _Walk
    from pipeline.readers import MARK, Piece, layout_for

    walk = _Walk("x.pdf", layout_for("pdf"))
    text = (
        "\n# References\n\n1. Smith, A. (2001) A study. J. Biol. 1, 2. doi:10.1000/a\n\n"
        f"{MARK}link\n{MARK}aside\nRunning head\n{MARK}unaside\nhttps://doi.org/10.1000/x\n"
        f"{MARK}unlink\n2. Jones, B. (2002) Another study. J. Biol. 3, 4. doi:10.1000/b\n"
    )
    _scan(walk, Piece(text))
    walk.finish()
    assert [e.text for e in walk.references.entries] == [
        "Smith, A. (2001) A study. J. Biol. 1, 2. doi:10.1000/a",
        "Jones, B. (2002) Another study. J. Biol. 3, 4. doi:10.1000/b",
    ]  # the link target after the running head is no entry
    assert [(m[1], m[6]) for m in walk.mentions] == [
        ("10.1000/a", "References"),
        ("10.1000/x", "link"),
        ("10.1000/b", "References"),
    ]
