"""JATS: PMC's efetch article (biopython) and a JATS article with references and components."""

from __future__ import annotations

from pipeline.extract import extract_document
from tests.pipeline.readers.conftest import DOCS, canonical, works_of


def test_pmc_article_ids_are_the_subject_pmc_digits_become_pmcid():
    doc = extract_document(str(DOCS / "efetch_pmc.xml"))  # a .xml holding JATS
    subject = [(m.scheme, m.value) for m in doc.mentions if m.role == "subject"]
    assert subject == [
        ("pmid", "34527728"),
        ("pmcid", "PMC8435807"),
        ("doi", "10.1183/23120541.50193-2021"),
    ]
    assert "50193-2021" not in {m.value for m in doc.mentions}  # publisher-id: not a work


JATS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article" dtd-version="1.2">
<front><article-meta>
<article-id pub-id-type="publisher-id">12345</article-id>
<article-id pub-id-type="doi">10.7554/eLife.12345</article-id>
<funding-group><award-group><funding-source><institution-wrap>
<institution-id institution-id-type="FundRef">http://dx.doi.org/10.13039/100000002</institution-id>
<institution>National Institutes of Health</institution></institution-wrap></funding-source>
<award-id>R01 GM123456</award-id></award-group></funding-group>
</article-meta></front>
<body><sec><title>Results</title>
<fig id="fig1"><object-id pub-id-type="doi">10.7554/eLife.12345.003</object-id>
<caption><p>Data at <ext-link ext-link-type="uri" xlink:href="https://doi.org/10.5061/dryad.abc123">Dryad</ext-link>.</p></caption></fig>
</sec></body>
<back><ref-list><title>References</title>
<ref id="bib1"><element-citation publication-type="journal"><person-group person-group-type="author">
<name><surname>Smith</surname><given-names>J</given-names></name></person-group>
<year>2020</year><article-title>A study</article-title><source>Nature</source>
<pub-id pub-id-type="doi">10.1038/s41586-020-0001-1</pub-id><pub-id pub-id-type="pmid">32000001</pub-id>
</element-citation></ref>
<ref id="bib2"><mixed-citation publication-type="journal">Doe A. 2019. Another. <italic>Cell</italic> <bold>1</bold>:2. arXiv:1706.03762</mixed-citation></ref>
</ref-list></back>
<sub-article article-type="decision-letter"><front-stub>
<article-id pub-id-type="doi">10.7554/eLife.12345.020</article-id></front-stub></sub-article>
</article>
"""


def test_jats_refs_are_entries_components_join_the_subject_and_funders_are_not_works(tmp_path):
    path = tmp_path / "article.txt"  # content first: a .txt holding JATS is JATS
    path.write_text(JATS)
    doc = extract_document(str(path))
    assert doc.problems == ()
    assert works_of(doc) == canonical(
        [
            {"role": "subject", "doi": "10.7554/elife.12345"},
            {"role": "mention", "doi": "10.5061/dryad.abc123"},
            {"role": "reference", "doi": "10.1038/s41586-020-0001-1", "pmid": "32000001"},
            {"role": "reference", "arxiv": "1706.03762"},
        ]
    )
    subject = {m.value for m in doc.mentions if m.role == "subject"}
    assert subject == {"10.7554/elife.12345", "10.7554/elife.12345.003", "10.7554/elife.12345.020"}
    assert not any(m.value.startswith("10.13039/") for m in doc.mentions)
    assert [r.text for r in doc.references] == [
        "Smith J 2020 A study Nature 10.1038/s41586-020-0001-1 32000001",
        "Doe A. 2019. Another. Cell 1:2. arXiv:1706.03762",
    ]
    for m in doc.mentions:
        assert JATS[m.start : m.end].lower() == m.value.lower() or m.scheme != "doi"


def test_xml_entities_are_never_expanded_and_said_once(tmp_path):
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE article [<!ENTITY a "10.9999/expanded">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c SYSTEM "file:///etc/passwd">]>\n'
        '<article dtd-version="1.2"><front><article-meta><article-id pub-id-type="pmid">'
        "32000002</article-id></article-meta></front><body><p>&b; &c;</p></body></article>\n"
    )
    path = tmp_path / "bomb.nxml"
    path.write_text(bomb)
    doc = extract_document(str(path))
    assert [(m.value, m.role) for m in doc.mentions] == [("32000002", "subject")]
    assert [p.message for p in doc.problems] == [
        "XML declares entities; read without expanding them"
    ]


def test_malformed_xml_is_read_leniently_with_one_line(tmp_path):
    path = tmp_path / "broken.nxml"
    path.write_text(JATS.replace("</ref-list>", "").replace("<body>", "<body><p>"))
    doc = extract_document(str(path))
    (p,) = doc.problems
    assert p.message.startswith("malformed XML (") and not p.fatal
    assert "10.1038/s41586-020-0001-1" in {m.value for m in doc.mentions}


# A Redalyc ref (jats4r/JATS4R-Participant-Hub, sample-xml/63543879003.xml): the work printed as a
# mixed-citation, then again as an element-citation; the second one carries the DOI.
REDALYC_REFS = """<?xml version="1.0" encoding="UTF-8"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">
<back><ref-list>
<ref id="r2"><mixed-citation>ACOSTA, B.C. Efectos del diálogo socrático. Psicología desde el Caribe, 2002, vol. 10, p. 1-26.</mixed-citation>
<element-citation publication-type="journal"><person-group person-group-type="author">
<name><surname>ACOSTA</surname><given-names>B.C.</given-names></name></person-group>
<article-title>Efectos del diálogo socrático</article-title><source>Psicología desde el Caribe</source>
<year>2002</year><pub-id pub-id-type="doi">10.1234/caribe.10.1</pub-id></element-citation></ref>
<ref id="r3"><citation-alternatives>
<mixed-citation>Doe A. 2019. Another. Cell 1:2.</mixed-citation>
<element-citation><person-group><name><surname>Doe</surname><given-names>A</given-names></name></person-group>
<year>2019</year><article-title>Another</article-title><source>Cell</source></element-citation>
</citation-alternatives></ref>
</ref-list></back></article>
"""


def test_a_ref_printing_its_work_twice_is_one_entry_with_the_first_text_and_all_ids(tmp_path):
    path = tmp_path / "redalyc.xml"
    path.write_text(REDALYC_REFS)
    doc = extract_document(str(path))
    assert [r.text for r in doc.references] == [
        "ACOSTA, B.C. Efectos del diálogo socrático. Psicología desde el Caribe, 2002, vol. 10, "
        "p. 1-26.",
        "Doe A. 2019. Another. Cell 1:2.",
    ]
    assert [[i.value for i in r.ids] for r in doc.references] == [["10.1234/caribe.10.1"], []]
