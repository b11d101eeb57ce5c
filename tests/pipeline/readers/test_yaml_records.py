"""Citation files in YAML: CITATION.cff and CSL-YAML (pipeline.readers.yaml_records).

The inline files are real ones, cut to a few records (origins in tests/fixtures/README,
section "bibxml", YAML rows)."""

from __future__ import annotations

from pipeline.extract import extract_document
from pipeline.readers.sniff import detect_kind
from tests.pipeline.readers.conftest import canonical, works_of, write

# JabRef's own CITATION.cff (authors cut to two).
JABREF_CFF = """# This CITATION.cff file was generated with cffinit.
# Visit https://bit.ly/cffinit to generate yours today!

cff-version: 1.2.0
title: JabRef
message: >-
  If you use this software, please cite it using the
  metadata from this file.
type: software
authors:
  - given-names: Oliver
    family-names: Kopp
    orcid: 'https://orcid.org/0000-0001-6962-4290'
  - given-names: Tobias
    family-names: Diez
repository-code: 'https://github.com/jabref/jabref/'
url: 'https://www.jabref.org'
license: MIT
preferred-citation:
  type: article
  authors:
  - family-names: "Kopp"
    given-names: "Oliver"
    orcid: "https://orcid.org/0000-0001-6962-4290"
  - family-names: "Snethlage"
    given-names: "Carl Christian"
  doi: "10.47397/tb/44-3/tb138kopp-jabref"
  journal: "TUGboat"
  start: 441
  end: 447
  title: "JabRef: BibTeX-based literature management software"
  volume: 44
  year: 2023
"""

# JabRef's CFF importer test file with references (identifiers and references kept).
REFERENCES_CFF = """# YAML 1.2
---
authors:
  -
    family-names: Smith
    given-names: Joe
cff-version: "1.2.0"
date-released: 2000-07-02
identifiers:
  -
    type: doi
    value: "10.0000/TEST"
  -
    type: url
    value: "https://example.org/test"
title: Test
type: software
references:
  - type: conference-paper
    authors:
      - family-names: Duke
        given-names: Jonathan
    title: A paper
    year: 2007
    doi: 10.0001/TEST
"""


def test_cff_preferred_citation_is_a_reference_entry_not_the_software(tmp_path):
    path = write(tmp_path, "CITATION.cff", JABREF_CFF)
    assert detect_kind(path, JABREF_CFF) == "yaml"
    doc = extract_document(path)
    assert works_of(doc) == canonical(
        [{"role": "reference", "doi": "10.47397/tb/44-3/tb138kopp-jabref"}]
    )
    (entry,) = doc.references
    assert entry.text == (
        "Kopp O, Snethlage CC (2023). JabRef: BibTeX-based literature management software. "
        "TUGboat 44: 441-447."
    )
    assert [i.value for i in entry.ids] == ["10.47397/tb/44-3/tb138kopp-jabref"]


def test_cff_doi_identifier_is_the_subject_and_references_are_entries(tmp_path):
    doc = extract_document(write(tmp_path, "CITATION.cff", REFERENCES_CFF))
    assert works_of(doc) == canonical(
        [
            {"role": "subject", "doi": "10.0000/test"},
            {"role": "reference", "doi": "10.0001/test"},
        ]
    )
    assert [e.text for e in doc.references] == ["Duke J (2007). A paper."]
    for m in doc.mentions:  # offsets point at the value in the file
        assert REFERENCES_CFF[m.start : m.end].lower() == m.value


# Better BibTeX's CSL-YAML export (joelnitta/harts_tongue_comment references.yaml), 2 items.
CSL_YAML = """---
references:
- id: Bolker2009a
  author:
    - family: Bolker
      given: Benjamin M.
    - family: Brooks
      given: Mollie E.
  citation-key: Bolker2009a
  container-title: Trends in Ecology & Evolution
  DOI: 10.1016/j.tree.2008.10.008
  ISSN: 0169-5347
  issue: '3'
  issued:
    - year: 2009
      month: 3
      day: 1
  page: 127-135
  title: 'Generalized linear mixed models: A practical guide for ecology and evolution'
  type: article-journal
  URL: https://www.sciencedirect.com/science/article/pii/S0169534709000196
  volume: '24'

- id: Brown1995
  author:
    - family: Brown
      given: James H.
  citation-key: Brown1995
  container-title: Ecology
  DOI: 10.2307/1941678
  ISSN: '00129658'
  issued:
    - year: 1995
      month: 10
  page: 2028-2043
  title: Spatial variation in abundance
  type: article-journal
  URL: http://doi.wiley.com/10.2307/1941678
  volume: '76'
"""


def test_csl_yaml_items_are_one_reference_entry_each(tmp_path):
    path = write(tmp_path, "references.yaml", CSL_YAML)
    assert detect_kind(path, CSL_YAML) == "yaml"
    doc = extract_document(path)
    assert works_of(doc) == canonical(
        [
            {"role": "reference", "doi": "10.1016/j.tree.2008.10.008"},
            {"role": "reference", "doi": "10.2307/1941678"},
        ]
    )
    assert [e.text for e in doc.references] == [
        "Bolker BM, Brooks ME (2009). Generalized linear mixed models: A practical guide for "
        "ecology and evolution. Trends in Ecology & Evolution 24: 127-135.",
        "Brown JH (1995). Spatial variation in abundance. Ecology 76: 2028-2043.",
    ]
    assert not any(m.scheme == "pmid" for m in doc.mentions)  # ISSN '00129658'


def test_other_yaml_stays_plain_text(tmp_path):
    workflow = "name: tests\non:\n  push:\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    assert detect_kind(str(tmp_path / "ci.yml"), workflow) == "text"


def test_a_cff_yaml_cannot_read_is_plain_text_with_one_line(tmp_path):
    broken = "cff-version: 1.2.0\ntitle: [unclosed\ndoi: 10.5281/zenodo.1234\n"
    doc = extract_document(write(tmp_path, "CITATION.cff", broken))
    # libyaml's words or PyYAML's ("did not find expected ',' or ']'"): the place is the same
    (message,) = [p.message for p in doc.problems]
    assert message.startswith("not readable as YAML (") and "',' or ']'" in message
    assert message.endswith(" at line 3); read as plain text")
    assert {m.value for m in doc.mentions} == {"10.5281/zenodo.1234"}


# Typst's Hayagriva bibliography (pammacdotnet/TypstPaper bibliography.yaml, 3 of 46 entries).
HAYAGRIVA = """Madje22:
  type: thesis
  title: A Programmable Markup Language for Typesetting
  author: Mädje, Laurenz
  date: 2022-09-08
  organization: Technische Universität Berlin

Haas17:
  type: article
  title: Bringing the web up to speed with WebAssembly
  author:
    - Haas, Andreas
    - Rossberg, Andreas
  date: 2017
  page-range: 185-200
  serial-number:
    doi: 10.1145/3062341.3062363
  parent:
    type: proceedings
    title: Proceedings of the 38th ACM SIGPLAN conference on programming language design and implementation

Dominici14:
  type: article
  title: An overview of Pandoc
  author: Dominici, Massimiliano
  date: 2014
  page-range: 44-50
  parent:
    type: periodical
    title: TUGboat
    issue: 1
    volume: 35
"""


def test_hayagriva_entries_are_references_with_their_serial_numbers(tmp_path):
    path = write(tmp_path, "bibliography.yaml", HAYAGRIVA)
    assert detect_kind(path, HAYAGRIVA) == "yaml"
    doc = extract_document(path)
    assert works_of(doc) == canonical([{"role": "reference", "doi": "10.1145/3062341.3062363"}])
    assert [e.text for e in doc.references] == [
        "Mädje L (2022). A Programmable Markup Language for Typesetting.",
        "Haas A, Rossberg A (2017). Bringing the web up to speed with WebAssembly. Proceedings of "
        "the 38th ACM SIGPLAN conference on programming language design and implementation: "
        "185-200.",
        "Dominici M (2014). An overview of Pandoc. TUGboat 35: 44-50.",
    ]


def test_pandoc_references_between_dashes_are_entries(tmp_path):
    # pandoc's own examples close the block with "---": a second, empty document. It was
    # "not readable as YAML (but found another document ...)", its ids plain mentions.
    block = (
        "---\nreferences:\n- id: a\n  title: A paper\n  DOI: 10.1000/p1\n  issued: 2020\n"
        "- id: b\n  title: B\n  DOI: 10.1000/p2\n---\n"
    )
    doc = extract_document(write(tmp_path, "refs.yaml", block))
    assert doc.problems == ()
    assert [(m.value, m.role) for m in doc.mentions] == [
        ("10.1000/p1", "reference"),
        ("10.1000/p2", "reference"),
    ]


def test_a_front_matter_file_reads_its_body_with_exact_spans(tmp_path):
    text = (
        "---\ntitle: My post\nreferences:\n- id: a\n  title: A paper\n  DOI: 10.1000/fm\n"
        "  issued: 2020\n---\n\n# Heading\n\nBody text citing\ndoi:10.1000/body and more.\n"
    )
    doc = extract_document(write(tmp_path, "post.yml", text))
    assert doc.problems == ()
    assert [(m.value, m.role) for m in doc.mentions] == [
        ("10.1000/fm", "reference"),
        ("10.1000/body", "mention"),
    ]
    for m in doc.mentions:
        assert text[m.start : m.end] == m.value and text.count("\n", 0, m.start) + 1 == m.line


def test_yaml_over_its_size_limit_is_read_as_text_with_one_line(tmp_path):
    from pipeline.readers.limits import ReadLimits

    items = "".join(
        f"  - id: item{i}\n    type: article-journal\n    title: Work number {i}\n"
        f"    DOI: 10.1000/yaml{i}\n"
        for i in range(15_000)
    )
    path = write(tmp_path, "library.yaml", "references:\n" + items)
    doc = extract_document(path, limits=ReadLimits(yaml_max_mb=1))
    (p,) = doc.problems
    assert "over ENRICH_YAML_MAX_MB=1" in p.message and not p.fatal
    assert len([m for m in doc.mentions if m.scheme == "doi"]) == 15_000


def test_a_yaml_library_under_its_limit_gives_entries(tmp_path):
    items = "".join(
        f"  - id: item{i}\n    type: article-journal\n    title: Work number {i}\n"
        f"    DOI: 10.1000/yaml{i}\n"
        for i in range(50)
    )
    doc = extract_document(write(tmp_path, "library.yaml", "references:\n" + items))
    assert doc.problems == ()
    assert len(doc.references) == 50
