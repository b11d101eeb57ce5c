"""Scholarly XML beyond JATS: publisher full text and bibliographic records, by element name.

One reader for the XML vocabularies that print a document's works the same way: a list of
reference elements, each one cited work, with its identifiers in typed elements.

- Elsevier full text (ScienceDirect API / TDM: ``ce:*``, ``sb:*``): each ``<ce:bib-reference>``
  is one reference entry (its ``<ce:doi>``s its ids, its ``<ce:label>`` its label);
  ``<prism:doi>``, ``<dc:identifier>``, ``<pubmed-id>`` and a ``<ce:doi>`` outside the
  bibliography are the article itself;
- Springer A++ (``<ArticleDOI>`` the article; each ``<Citation>`` an entry with
  ``<BibArticleDOI>``, ``<Occurrence Type="DOI|PID">``);
- IOP's own DTD (``iopv1_5_2.dtd``): ``<article-data><doi>`` the article; each
  ``journal-ref``/``book-ref``/``conf-ref``/``misc-ref`` of the ``reference-list`` an entry;
- TEI as GROBID writes it: each ``<biblStruct>``/``<bibl>`` of a ``<listBibl>`` is an entry
  (its ``<idno type="DOI|PMID|arXiv|PMCID">``); the ``<idno>``s of the header's
  ``<sourceDesc>`` are the document's own;
- Crossref XML (deposit ``doi_batch``, ``unixref``/``unixsd`` answers): each ``<citation>`` of a
  ``<citation_list>`` is an entry (its ``<doi>``); the ``<doi_data><doi>`` of the work itself
  (not of its journal, issue or components) is the subject;
- MODS (``<mods>``, ``<modsCollection>``): each record is an entry, its
  ``<identifier type="doi|pmid|arxiv">`` its ids; DataCite: the resource's ``<identifier
  identifierType="DOI">`` is the subject, a related identifier of relationType ``Cites`` or
  ``References`` a reference entry, the other related identifiers mentions;
- Zotero RDF: each item (a child of ``<rdf:RDF>`` but attachments, notes and shared journals)
  is an entry.

An entry's citation text is its printed rendering when the file has one (GROBID's raw
reference, Crossref's ``unstructured_citation``, Springer's ``BibUnstructured``, Elsevier's
``source-text``/``textref``), else all its text. ISSN, ORCID, ISBN, PII and checksum ``idno``s
are never labelled: only a value that names itself can be an identifier there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece
from pipeline.readers.citation import render
from pipeline.readers.markup import Markup, read_markup

__all__ = ["read_bibxml"]

# Elements each of which is one reference entry (local names, prefix dropped).
_ENTRIES = frozenset(
    {"bib-reference", "citation", "biblstruct", "bibl", "mods"}
    | {"journal-ref", "book-ref", "conf-ref", "misc-ref"}  # IOP's own DTD
)
# Where an entry element counts: TEI's <biblStruct> only in a <listBibl> (the header's one is the
# document itself); Crossref's <citation> in a <citation_list>; others anywhere.
_ENTRY_PARENTS = {
    "biblstruct": "listbibl",
    "bibl": "listbibl",
    "citation": None,
    **dict.fromkeys(("journal-ref", "book-ref", "conf-ref", "misc-ref"), "reference-list"),
}
# Printed renderings of an entry, best first: its citation text when present.
_RENDERINGS = (
    "raw_reference",
    "unstructured_citation",
    "bibunstructured",
    "source-text",
    "textref",
)
# Typed identifier values: scheme by the element's type attribute.
_ID_TYPES = {"doi": "doi", "pmid": "pmid", "pubmed": "pmid", "pmcid": "pmcid", "arxiv": "arxiv"}
_ID_TYPE_ATTRS = ("type", "identifiertype", "relatedidentifiertype", "id_type")
# Elements whose text is a DOI by name.
_DOI_ELEMENTS = frozenset({"doi", "articledoi", "bibarticledoi", "bibchapterdoi", "bibbookdoi"})
# Springer's <Occurrence Type=...><Handle>: DOI, and PID = PubMed id.
_OCCURRENCES = {"doi": "doi", "pid": "pmid"}
# <doi_data> of these Crossref parents names the journal, an issue or a part: not the work.
_NOT_THE_WORK = frozenset(
    {"journal_metadata", "journal_issue", "proceedings_metadata", "series_metadata", "component"}
)
_LABELS = frozenset({"label", "citationnumber"})
_LISTS = frozenset(
    {"listbibl", "bibliography", "citation_list", "modscollection", "rdf", "reference-list"}
)
# Zotero RDF: each child of <rdf:RDF> is an item (bib:Article, rdf:Description with a
# z:itemType...) but for these, which are no works of the library.
_RDF_NOT_ITEMS = frozenset(
    "z:attachment bib:memo bib:journal bib:series bib:periodical z:collection foaf:person "
    "foaf:organization".split()
)
_LINKS = {"ptr": "target", "inter-ref": "xlink:href"}
# DataCite relation types naming a work the record cites: each such relatedIdentifier is an entry.
_CITES = frozenset({"cites", "references"})


# Fields of a structured entry, for its citation text when it has no printed one.
_FAMILY = frozenset({"surname", "familyname", "second-name"})
_GIVEN = frozenset({"forename", "given-name", "givenname", "initials", "first-names"})
_NAMES = frozenset({"persname", "author", "bibauthorname", "name", "person", "au"})
_NOT_AUTHORS = frozenset({"relateditem", "publisher", "organization", "editor", "editors"})
_TITLES = {
    "articletitle": "title",
    "chaptertitle": "title",
    "article_title": "title",
    "art-title": "title",
}
_CONTAINERS = frozenset(
    {"journaltitle", "booktitle", "journal_title", "volume_title", "jnl-title", "book-title"}
)
_YEARS = frozenset({"year", "cyear", "date", "dateissued"})
_VOLUMES = frozenset({"volumeid", "volume", "volume-nr"})
_PAGES = frozenset(
    "firstpage lastpage first_page first-page last-page article-number start end pages".split()
)


class _Fields:
    """Authors, title, container, year, volume and pages of one structured entry (TEI
    biblStruct, Elsevier sb:reference, Springer BibArticle, Crossref citation, MODS record)."""

    def __init__(self) -> None:
        self.names: list[dict[str, str]] = []
        self.name_depth = 0
        self.values: dict[str, list[str]] = {}
        self.open: tuple[str, int] | None = None  # field being read, its element's depth
        self.detail = ""  # the type of the open MODS <detail>

    def start(self, local: str, a: dict, depth: int, inside) -> None:
        """An element opens inside the entry at ``depth``; ``inside(*names)`` says whether an
        element of those names is open."""
        if local in _NAMES and inside(*_NOT_AUTHORS) or inside("editor", "editors"):
            return  # a host's, a publisher's or an editor's name: not an author
        if local in _NAMES and not self.name_depth:
            self.names.append({})
            self.name_depth = depth
            self.open = ("full", depth)
            return
        field = self._field(local, a, inside)
        if field == "year" and a.get("when"):
            self.add("year", a["when"])
        elif field == "pages" and a.get("from"):
            self.add("pages", f"{a['from']}-{a.get('to') or ''}".rstrip("-"))
        elif field:
            self.open = (field, depth)
            if field not in ("family", "given", "full"):
                self.values.setdefault(field, []).append("")

    def _field(self, local: str, a: dict, inside) -> str | None:
        kind = (a.get("type") or a.get("unit") or "").lower()
        if self.name_depth:
            if local in _FAMILY or local == "namepart" and kind == "family":
                return "family"
            if local in _GIVEN or local == "namepart" and kind == "given":
                return "given"
            return "full" if local == "namepart" else None
        if local in _TITLES:
            return _TITLES[local]
        if local in _CONTAINERS:
            return "container"
        if local in ("title", "maintitle"):
            host = inside("monogr", "host", "relateditem", "ispartof")
            return "container" if host else "title"
        if local in _YEARS:
            return "year"
        if local == "detail":  # MODS: <detail type="volume"><number>30</number>
            self.detail = kind
        if local in _VOLUMES or local == "biblscope" and kind == "volume":
            return "volume"
        if local == "number" and self.detail == "volume":
            return "volume"
        if local in _PAGES or local == "biblscope" and kind in ("page", "pp"):
            return "pages"
        return None

    def add(self, field: str, value: str) -> None:
        self.values.setdefault(field, []).append(value)

    def data(self, text: str) -> None:
        if self.open is None:
            return
        field = self.open[0]
        if field in ("family", "given", "full"):
            name = self.names[-1]
            name[field] = f"{name.get(field, '')} {text}".strip()
        else:
            self.values[field][-1] += text

    def end(self, depth: int) -> None:
        if self.open is not None and depth == self.open[1]:
            self.open = (
                ("full", self.name_depth) if self.name_depth and depth > self.name_depth else None
            )
        if depth == self.name_depth:
            self.name_depth = 0
            self.open = None

    def citation(self) -> str | None:
        """The fields as one citation line, or None when the entry has no title nor container."""
        first = {
            k: next((" ".join(v.split()) for v in vs if v.strip()), None)
            for k, vs in self.values.items()
        }
        if not (first.get("title") or first.get("container")):
            return None
        pages = [" ".join(v.split()) for v in self.values.get("pages", ()) if v.strip()]
        authors = [self._name(n) for n in self.names]
        return render(
            [a for a in authors if a],
            first.get("title"),
            first.get("container"),
            first.get("year"),
            first.get("volume"),
            "-".join(pages[:2]) or None,
        )

    @staticmethod
    def _name(name: dict[str, str]) -> str:
        if name.get("family"):
            return f"{name['family']}, {name.get('given', '')}".rstrip(", ")
        return name.get("full", "")


def _local(tag: str) -> str:
    return tag.rsplit(":", 1)[-1]


class _BibXml(Markup):
    blocks = frozenset(
        f"{prefix}{name}"
        for prefix in ("", "ce:", "tei:", "ja:")
        for name in (
            "p para simple-para head heading title section-title abstract div section "
            "caption figure table affiliation titlestmt sourcedesc dc:description "
            "articletitle bibliography listbibl citation_list"
        ).split()
    )

    def __init__(self) -> None:
        super().__init__()
        self.subject = 0  # inside a subject identifier
        self.entry_depth = 0  # stack depth of the open entry element (0: none)
        self.renderings: dict[str, tuple[int, int]] = {}  # name -> its span in self.capture
        self.rendering: tuple[str, int, int] | None = None  # the open one: name, depth, start
        self.entry_label: list[str] | None = None
        self.occurrence: str | None = None  # the open <Occurrence>'s scheme
        self.fields = _Fields()
        self.cites = False  # the open entry is a DataCite "Cites"/"References" relation

    # -- element events --------------------------------------------------------------------------

    def start(self, tag: str, attrs: list) -> None:
        local = _local(tag)
        a = dict(attrs)
        if local in _LISTS and not self.entry_depth:
            self.mark("reference")
        elif local in _ENTRIES and self._is_entry(local) or self._zotero_item(tag):
            self._open(local)
            if tag.startswith(("bib:", "rdf:description")):
                self.attribute(attrs, "rdf:about")  # "https://doi.org/10.1038/…"
        elif self.entry_depth:
            self._inside_entry(tag, local, a)
        else:
            self._outside_entry(tag, local, a)
        if local in _LINKS:
            self.attribute(attrs, _LINKS[local])

    def _is_entry(self, local: str) -> bool:
        if self.entry_depth:
            return False
        parent = _ENTRY_PARENTS.get(local, "")
        if parent == "":  # no condition
            return True
        if parent is None:  # Crossref's <citation> or Springer's <Citation>: not JATS-like nesting
            return self.inside("citation_list", "bibliography")
        return self.inside(parent)

    def key(self, tag: str) -> str:
        """Open elements are counted by local name: ``sb:host`` and ``mods:relatedItem`` are
        ``host`` and ``relateditem``, whatever prefix a file binds."""
        return _local(tag)

    def is_block(self, tag: str) -> bool:
        """Blocks break paragraphs outside entries only: an entry's ids stay one group."""
        return not self.entry_depth and tag in self.blocks

    def _zotero_item(self, tag: str) -> bool:
        return len(self.stack) == 2 and self.stack[0] == "rdf:rdf" and tag not in _RDF_NOT_ITEMS

    def _open(self, local: str) -> None:
        if local == "mods" and not self.inside("modscollection"):
            self.mark("reference")  # a lone MODS record: a library file of one
        self.open_entry()
        self.entry_depth = len(self.stack)
        self.renderings = {}
        self.entry_label = None
        self.fields = _Fields()

    def _inside_entry(self, tag: str, local: str, a: dict) -> None:
        self.fields.start(local, a, len(self.stack), self.inside)
        rendering = (
            "raw_reference" if local == "note" and a.get("type") == "raw_reference" else local
        )
        if rendering in _RENDERINGS and self.rendering is None and rendering not in self.renderings:
            self.rendering = (rendering, len(self.stack), len(self.capture or ()))
        if local in _LABELS and self.entry_label is None and self.rendering is None:
            self.entry_label = []
        elif local == "occurrence":
            self.occurrence = _OCCURRENCES.get((a.get("type") or "").lower())
        elif local == "handle" and self.occurrence:
            self.label(self.occurrence)
        else:
            self.label(self._scheme(local, a))

    def _outside_entry(self, tag: str, local: str, a: dict) -> None:
        scheme = self._scheme(local, a)
        if local == "doi" and tag != "prism:doi":
            scheme = self._work_doi(tag)
        elif local == "identifier" and tag.startswith("dc:"):
            scheme = "text"  # "doi:10.1016/…": names itself
        elif local == "pubmed-id":
            scheme = "pmid"
        elif local == "idno" and not self.inside("sourcedesc"):
            scheme = None
        elif local == "relatedidentifier" and (a.get("relationtype") or "").lower() in _CITES:
            self.mark("reference")  # a work the record cites (DataCite): an entry of its own
            self._open(local)
            self.cites = True
            self.label(scheme)
            return
        elif local in ("relatedidentifier", "alternateidentifier"):
            self.label(scheme)  # a related work (DataCite): a mention
            return
        if scheme:
            self.mark("aside")  # the subject, inside the section it stands in
            self.label(scheme if scheme != "text" else None)
            self.subject += 1

    def _work_doi(self, tag: str) -> str | None:
        """A <doi> outside the entries: Crossref's work DOI (in <doi_data>, not the journal's
        or an issue's), Elsevier's <ce:doi> of the article."""
        if tag == "ce:doi" or self.stack[-2:-1] == ["article-data"]:  # Elsevier; IOP
            return "doi"
        if self.stack[-2:-1] != ["doi_data"]:
            return None
        holder = self.stack[-3] if len(self.stack) > 2 else ""
        return None if holder in _NOT_THE_WORK else "doi"

    @staticmethod
    def _scheme(local: str, a: dict) -> str | None:
        if local in _DOI_ELEMENTS:
            return "doi"
        if local in ("idno", "identifier", "relatedidentifier", "alternateidentifier"):
            kind = next((a[k] for k in _ID_TYPE_ATTRS if a.get(k)), "")
            return _ID_TYPES.get(kind.lower())
        return None

    def end(self, tag: str) -> None:
        local = _local(tag)
        depth = len(self.stack)
        if self.entry_depth:
            self.fields.end(depth)
        if self.rendering is not None and depth == self.rendering[1]:
            name, _, start = self.rendering
            self.renderings[name] = (start, len(self.capture or ()))
            self.rendering = None
        if self.entry_depth and depth == self.entry_depth:
            self._close()
        elif self.subject and depth and self._closes_subject(local):
            self.subject -= 1
            self.mark("unaside")
        elif local in _LISTS and not self.entry_depth:
            self.mark("end")
        elif local == "occurrence":
            self.occurrence = None

    @staticmethod
    def _closes_subject(local: str) -> bool:
        return local in _DOI_ELEMENTS or local in ("idno", "identifier", "pubmed-id")

    def _close(self) -> None:
        parts = self.capture or []
        texts = (
            "".join(parts[slice(*self.renderings[r])]) for r in _RENDERINGS if r in self.renderings
        )
        text = next((t for t in texts if t.strip()), None) or self.fields.citation()
        if text is not None:
            self.capture = [text]
        label = "".join(self.entry_label or ()).strip() or None
        self.close_entry(label)
        self.entry_depth = 0
        self.entry_label = None
        self.rendering = None
        if self.cites:
            self.cites = False
            self.mark("mention")

    def referenced(self, char: str) -> None:
        if self.entry_depth:
            self.fields.data(char)  # "vols. 571&#x2013;657", "Chapman &amp; Hall"

    def handle_data(self, data: str) -> None:
        if self.entry_label is not None and _local(self.stack[-1]) in _LABELS:
            self.entry_label.append(data)
        if self.entry_depth and not data.isspace():
            self.fields.data(data)
        super().handle_data(data)


def read_bibxml(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of an Elsevier, Springer A++, TEI, Crossref, MODS, DataCite or Zotero RDF file."""
    return read_markup(_BibXml(), chars)
