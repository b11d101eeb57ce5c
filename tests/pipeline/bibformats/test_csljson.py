"""CSL JSON export, rendered by a CSL processor (citeproc-py, as pandoc's citeproc would) and
checked against the variable names of a real Zotero/Better BibTeX CSL JSON export."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from pipeline.bibformats import BibWork, write_csljson

from .conftest import SICI

FIXTURES = Path(__file__).parents[2] / "fixtures" / "export"


def items(*works: BibWork) -> list[dict]:
    out = io.StringIO()
    assert write_csljson(works, out) == len(works)
    return json.loads(out.getvalue())


def rendered(data: list[dict]) -> list[str]:
    """The bibliography a CSL processor makes of ``data`` (Harvard, plain text)."""
    with warnings.catch_warnings():  # citeproc-py predates CSL 1.0.2's citation-key
        warnings.simplefilter("ignore", UserWarning)
        source = CiteProcJSON(data)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    for item in data:
        bibliography.register(Citation([CitationItem(item["id"])]))
    return [str(entry) for entry in bibliography.bibliography()]


def test_a_csl_processor_renders_every_item(article, bare):
    data = items(article, bare)
    out = rendered(data)
    assert len(out) == 2
    assert "Møller" in out[0] and "Journal of Clinical Oncology" in out[0] and "2021" in out[0]


def test_names_identifiers_and_dates_use_the_csl_variables(article):
    item = items(article)[0]
    assert item["type"] == "article-journal"
    assert item["author"][0] == {"family": "Møller", "given": "Søren"}
    assert item["author"][2] == {"family": "Beethoven", "given": "Ludwig",
                                 "non-dropping-particle": "van"}  # fmt: skip
    assert item["author"][3] == {"literal": "CAR T Cell Consortium"}
    assert item["issued"] == {"date-parts": [[2021, 3, 4]]}
    assert (item["DOI"], item["PMID"], item["PMCID"]) == (SICI, "33434063", "PMC9293158")
    assert item["page"] == "1437-1452" and item["container-title"] == "Journal of Clinical Oncology"


def test_titles_keep_the_markup_csl_renders_and_abstracts_are_plain(article):
    item = items(article)[0]
    assert "<i>BCR::ABL1</i>" in item["title"]
    assert item["abstract"] == "BACKGROUND: line one line two with 2 & 5%."


def test_variable_names_are_those_of_a_real_zotero_csl_export(article):
    real = json.loads((FIXTURES / "bbt_csl_1179.json").read_text())
    real_names = {k for it in real for k in it}
    ours = set(items(article)[0])
    assert ours - real_names <= {"PMCID", "abstract"}  # both CSL 1.0.2 variables
    assert {"DOI", "PMID", "URL", "container-title", "issued", "page"} <= ours


def test_ids_are_unique_and_empty_values_are_left_out(article, bare):
    data = items(article, article, bare)
    assert len({d["id"] for d in data}) == 3
    assert all(v not in (None, "", []) for d in data for v in d.values())
