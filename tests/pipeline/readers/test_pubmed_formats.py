"""PubMed exports: XML (efetch) and MEDLINE/.nbib, many records a file (biopython's test files)."""

from __future__ import annotations

from pipeline.extract import extract_document
from tests.pipeline.readers.conftest import DOCS, canonical, works_of


def test_pubmed_xml_records_are_subjects_one_each_and_decoys_stay_out():
    doc = extract_document(str(DOCS / "pubmed1.xml"))
    assert doc.problems == ()
    assert works_of(doc) == canonical(
        [
            {"role": "subject", "pmid": "12091962"},
            {"role": "subject", "pmid": "9997", "doi": "10.1016/0005-2795(76)90109-4"},
        ]
    )
    values = {m.value for m in doc.mentions}  # NlmUniqueID, ISSN, OtherID, pii: not works
    assert not values & {"9891830", "31840", "0217513"}


PUBMED_WITH_REFERENCES = """<?xml version="1.0"?>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">35000001</PMID>
<Article><ELocationID EIdType="doi" ValidYN="Y">10.1000/own.1</ELocationID>
<ELocationID EIdType="pii" ValidYN="Y">S0000-0000(21)00001-1</ELocationID></Article>
<CommentsCorrectionsList><CommentsCorrections RefType="ErratumIn">
<RefSource>J X. 2022;1:2</RefSource><PMID Version="1">35000099</PMID></CommentsCorrections>
</CommentsCorrectionsList></MedlineCitation>
<PubmedData><ArticleIdList><ArticleId IdType="pubmed">35000001</ArticleId>
<ArticleId IdType="pmc">PMC9000001</ArticleId><ArticleId IdType="mid">NIHMS1234567</ArticleId>
</ArticleIdList><ReferenceList><Reference><Citation>Smith J. A study. Nature. 2020;1:2.
</Citation><ArticleIdList><ArticleId IdType="doi">10.1038/ref.1</ArticleId>
<ArticleId IdType="pubmed">31000001</ArticleId></ArticleIdList></Reference>
<Reference><Citation>Doe A. Unlinked. Cell. 2019.</Citation></Reference></ReferenceList>
</PubmedData></PubmedArticle></PubmedArticleSet>
"""


def test_pubmed_xml_reference_list_gives_entries_and_comments_are_mentions(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(PUBMED_WITH_REFERENCES)
    doc = extract_document(str(path))
    assert works_of(doc) == canonical(
        [
            {"role": "subject", "pmid": "35000001", "doi": "10.1000/own.1", "pmcid": "PMC9000001"},
            {"role": "mention", "pmid": "35000099"},
            {"role": "reference", "doi": "10.1038/ref.1", "pmid": "31000001"},
        ]
    )
    assert [r.text for r in doc.references] == [
        "Smith J. A study. Nature. 2020;1:2.",
        "Doe A. Unlinked. Cell. 2019.",
    ]
    assert [len(r.ids) for r in doc.references] == [2, 0]


def test_medline_nbib_record_is_its_own_subject():
    doc = extract_document(str(DOCS / "pubmed_result1.nbib"))
    assert doc.problems == ()
    assert works_of(doc) == canonical([{"role": "subject", "pmid": "12230038"}])
    assert "100912837" not in {m.value for m in doc.mentions}  # JID: a journal, not a work


NBIB = (
    "PMID- 31000001\r\nOWN - NLM\r\nIS  - 0028-0836 (Print)\r\nTI  - A title that goes on\r\n"
    "      over two lines.\r\nLID - 10.1038/s41586-019-0001-1 [doi]\r\n"
    "AID - S0000-0000(19)00001-1 [pii]\r\nMID - NIHMS1000001\r\nJID - 0410462\r\n"
    "PMC - PMC6000001\r\nCIN - Nature. 2019 Jan;565:1. PMID: 31000002\r\n\r\n"
    "PMID- 31000003\r\nAID - 10.1000/second [doi]\r\n"
)


def test_medline_tags_with_crlf_many_records_and_decoys(tmp_path):
    path = tmp_path / "citations.nbib"
    path.write_bytes(NBIB.encode())
    doc = extract_document(str(path))
    assert works_of(doc) == canonical(
        [
            {
                "role": "subject",
                "pmid": "31000001",
                "doi": "10.1038/s41586-019-0001-1",
                "pmcid": "PMC6000001",
            },
            {"role": "mention", "pmid": "31000002"},
            {"role": "subject", "pmid": "31000003", "doi": "10.1000/second"},
        ]
    )
    text = NBIB
    for m in doc.mentions:
        assert text[m.start : m.end].lower().endswith(m.value.lower()[-6:])
