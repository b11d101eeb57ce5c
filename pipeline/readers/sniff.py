"""Which reader a file needs: by its content first, by its extension second.

A ``.txt`` holding JATS is JATS, a file called ``download`` holding a PDF is a PDF; a file whose
content says nothing (plain prose, a headerless CSV) is read as its extension says.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "CITED_COLUMNS",
    "ID_COLUMNS",
    "binary_kind",
    "column_key",
    "detect_kind",
    "id_column",
]

_EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".nbib": "medline",  # PubMed's "Citation manager" export: "PMID- 123" tagged records
    ".medline": "medline",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".enw": "enw",  # EndNote's tagged import format: "%0 Journal Article", "%R 10.…"
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".nxml": "jats",  # PMC's article XML
    ".xml": "xml",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".csljson": "json",
    ".pdf": "pdf",
    ".docx": "docx",
}
ID_COLUMNS = {
    "doi": "doi",
    "pmid": "pmid",
    "pubmed": "pmid",
    "pubmedid": "pmid",
    "pmcid": "pmcid",
    "pmc": "pmcid",
    "arxiv": "arxiv",
    "arxivid": "arxiv",
    "eprint": "arxiv",
    "openalex": "openalex",
    "openalexid": "openalex",
}
# Column names that end like these name an identifier too: "Item DOI" (Springer), "PubMed ID"
# after a qualifier ("OriginalPaperPubMedID", Retraction Watch), "ids.pmid" (OpenAlex).
_ID_SUFFIXES = (("pubmedid", "pmid"), ("pmid", "pmid"), ("pmcid", "pmcid"), ("doi", "doi"))
# A column listing the works a record cites, "; " between them: Scopus' "References", Web of
# Science's "CR" / "Cited References" (tab-delimited export).
CITED_COLUMNS = frozenset({"references", "citedreferences", "cr"})


def extension_kind(path: str) -> str | None:
    """The kind a file's extension names, or None."""
    return _EXTENSIONS.get(Path(path).suffix.lower())


def binary_kind(path: str, head: bytes) -> str | None:
    """``"pdf"`` or ``"docx"`` when the first bytes say so (a zip is a Word file only if it
    holds one: the DOCX reader decides), else None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if b"%PDF-" in head[:1024] and extension_kind(path) == "pdf":  # junk before the header is
        return "pdf"  # legal (a saved HTTP answer), but in a .txt it is just text
    if head.startswith(b"PK\x03\x04"):
        return "docx" if extension_kind(path) == "docx" or b"word/" in head[:65536] else None
    return None


def detect_kind(path: str, head: str) -> str:
    """The reader for a text file: its content first, its extension second, else plain text."""
    return _sniff(head) or _yaml_kind(path, head) or extension_kind(path) or "text"


# CITATION.cff: "cff-version:" at a line start (anywhere in a .cff; elsewhere only after lines
# YAML could hold: comments, "---", keys, indented or list lines; a README quoting a CFF in a
# code fence, "```yaml", stays Markdown).
_SNIFF_CFF = re.compile(r"^cff-version:", re.MULTILINE)
_YAML_LINE = re.compile(
    r"(?:[ \t]*(?:#.*)?|---[ \t]*|%YAML.*|[ \t-].*|[\w\"'][\w .\"'-]*:(?:[ \t].*)?)"
)
# CSL-YAML (pandoc's references file): a list of items at the top or under "references:",
# with keys only CSL items have. Other YAML (configuration, CI) stays plain text.
_SNIFF_CSL_YAML = re.compile(r"^(?:references:|- (?:id|type|title|author):)", re.MULTILINE)
_CSL_YAML_KEY = re.compile(r"^[ \t-]*(?:issued|container-title|DOI|citation-key):", re.MULTILINE)
# Hayagriva (Typst): "Key:" then indented "type:"/"title:" lines, and an author or date key.
_SNIFF_HAYAGRIVA = re.compile(r"^[^\s#-][^\n]*:[ \t]*\r?\n[ \t]+(?:type|title):", re.MULTILINE)
_HAYAGRIVA_KEY = re.compile(r"^[ \t]+(?:author|date|serial-number|parent):", re.MULTILINE)


def _yaml_kind(path: str, head: str) -> str | None:
    """``"yaml"`` for a citation file in YAML (CITATION.cff, CSL-YAML, Hayagriva), else None."""
    suffix = Path(path).suffix.lower()
    if suffix == ".cff" or _is_cff(head):
        return "yaml"
    if suffix not in (".yaml", ".yml"):
        return None
    csl = _SNIFF_CSL_YAML.search(head) and _CSL_YAML_KEY.search(head)
    hayagriva = _SNIFF_HAYAGRIVA.search(head) and _HAYAGRIVA_KEY.search(head)
    return "yaml" if csl or hayagriva else None


def _is_cff(head: str) -> bool:
    """``cff-version:`` at a line start, every line before it one YAML could hold."""
    found = _SNIFF_CFF.search(head)
    if found is None:
        return False
    before = head[: found.start()].lstrip("\ufeff").splitlines()
    return all(_YAML_LINE.fullmatch(line) for line in before)


# An XML declaration and comments before a root element (one way only: "<!--", no "-->", "-->").
_PROLOG = r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*"
_SNIFF_HTML = re.compile(
    _PROLOG + r"(?:<!doctype html|<html)",
    re.IGNORECASE | re.DOTALL,
)  # XHTML: "<?xml ...?>" then "<!DOCTYPE html PUBLIC ...>"
_SNIFF_BIB = re.compile(r"\A(?:\s*%[^\n]*\n)*\s*@[A-Za-z]+\s*[{(]")
_SNIFF_RIS = re.compile(r"\A\s*TY  - ")
# "%0 Journal Article" first, or after a few other tags (AIS eLibrary: "%T Title" first)
_SNIFF_ENW = re.compile(r"\A\s*(?:%[0-9A-Z@][ \t][^\n]*\n){0,12}%0 [A-Z]")
# RefWorks tagged (CNKI's export): "RT Journal Article" then two-character tags ("SR 1", "A1 ...")
# (the second tag line may start past the sniffed head: a record's first field of 10,000 authors)
_SNIFF_REFWORKS = re.compile(
    r"\A\s*RT [A-Z][^\n]*\r?\n[A-Za-z][A-Za-z0-9] [^\n]*(?:\r?\n[A-Za-z][A-Za-z0-9] |\Z)"
)
# Web of Science's tagged export: "FN Clarivate Analytics Web of Science" / "FN ISI Export Format"
_SNIFF_WOS = re.compile(r"\AFN [^\n]*(?:Web of Science|ISI Export Format)[^\n]*\r?\nVR ")
_SNIFF_MEDLINE = re.compile(r"\A\s*PMID- *\d|\A(?:[^\n]*\n){0,3}PMID- *\d")
_SNIFF_JSON = re.compile(r'\A\s*(?:\{\s*(?:"|\})|\[\s*(?:\{\s*"|"|\]))')
_SNIFF_XML = re.compile(r"\A\s*<(?:\?xml|!DOCTYPE|[A-Za-z])")
_XML_KINDS = (
    # A TEI, MODS, Crossref or DataCite root element is that, whatever its text says ("JATS")
    (
        "bibxml",
        re.compile(
            _PROLOG + r"(?:<!DOCTYPE[^>]*>\s*)?"
            r"<(?:[\w.-]+:)?(?:TEI|teiCorpus|mods|modsCollection|doi_batch|resource)\b"
            r"[^>]*(?:tei-c\.org|loc\.gov/mods|crossref\.org/schema|datacite\.org/schema)",
            re.DOTALL,
        ),
    ),
    ("pubmed_xml", re.compile(r"<(?:!DOCTYPE\s+)?Pubmed(?:Book)?Article(?:Set)?\b")),
    ("endnote", re.compile(r"<xml>\s*<records>\s*<record>")),
    # IOP's own article DTD: "<!DOCTYPE article SYSTEM ...iop...": not JATS (checked before it)
    ("bibxml", re.compile(r"ej\.iop\.org/dtd|-//IOP//DTD")),
    (
        "jats",
        re.compile(
            r"<!DOCTYPE\s+article\b|<article\b[^>]*(?:dtd-version|article-type|xmlns:xlink|"
            r"xmlns:mml)|JATS|-//NLM//DTD"
        ),
    ),
    # Publisher and library XML read by element name (pipeline.readers.bibxml): TEI (GROBID),
    # Elsevier full text, Springer A++, Crossref deposit/query XML, MODS, DataCite, Zotero RDF.
    (
        "bibxml",
        re.compile(
            r"<(?:[\w.-]+:)?(?:TEI|teiCorpus)\b[^>]*tei-c\.org"
            r"|http://www\.elsevier\.com/xml/(?:common|ja|svapi)"
            r"|<!DOCTYPE\s+Publisher\b|<Publisher\b[^>]*>\s*<PublisherInfo>"
            r"|<(?:doi_batch|crossref_result|doi_records)\b|http://www\.crossref\.org/(?:q?schema|xschema)"
            r"|<(?:[\w.-]+:)?mods(?:Collection)?\b[^>]*loc\.gov/mods"
            r"|<resource\b[^>]*datacite\.org/schema|<rdf:RDF\b[^>]*zotero\.org/namespaces/export"
        ),
    ),
)


def _sniff(head: str) -> str | None:
    head = head.lstrip("\ufeff")
    xml = _SNIFF_XML.match(head) is not None
    if xml and not _SNIFF_HTML.match(head):  # JATS has a <body> too: its own kinds first
        for kind, pattern in _XML_KINDS:
            if pattern.search(head):
                return kind
    if _SNIFF_HTML.match(head) or (
        "<body" in head.lower() and re.search(r"</(?:p|div|a|li)>", head, re.IGNORECASE)
    ):
        return "html"
    if xml:
        return "xml" if head.lstrip().startswith("<?xml") else None
    if _SNIFF_BIB.match(head):
        return "bibtex"
    if _SNIFF_RIS.match(head):
        return "ris"
    if _SNIFF_ENW.match(head):
        return "enw"
    if _SNIFF_WOS.match(head):
        return "wos"
    if _SNIFF_REFWORKS.match(head):
        return "refworks"
    if _SNIFF_MEDLINE.match(head):
        return "medline"
    if _SNIFF_JSON.match(head):
        return "json"
    return _sniff_table(head)


_HEADER_CELL = re.compile(r"\s*\"?[A-Za-z_][A-Za-z0-9_ .-]{0,39}\"?\s*")


_WOS_TABLE = re.compile(r"PT\tAU\t[A-Z0-9\t]*\tUT\b")  # Web of Science tab-delimited


def _sniff_table(head: str) -> str | None:
    first = head.split("\n", 1)[0].rstrip("\r")
    if _WOS_TABLE.match(first):
        return "tsv"
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    cells = first.split(delimiter)
    # A header row: several short names, one of them an identifier column ("doi", "pmid").
    if len(cells) > 1 and all(_HEADER_CELL.fullmatch(c) for c in cells):
        if any(id_column(c) for c in cells):
            return "tsv" if delimiter == "\t" else "csv"
    return None


def column_key(name: str) -> str:
    """``' "PubMed ID" '`` -> ``'pubmedid'``: a header cell as a key of :data:`ID_COLUMNS`."""
    return re.sub(r"[^a-z]", "", name.strip().strip('"').lower())


def id_column(name: str) -> str | None:
    """The scheme a header cell names (``"PubMed ID"`` -> ``"pmid"``, ``"Item DOI"`` ->
    ``"doi"``), or None."""
    key = column_key(name)
    found = ID_COLUMNS.get(key)
    if found is None and len(key) > 3:
        found = next((s for end, s in _ID_SUFFIXES if key.endswith(end)), None)
    return found
