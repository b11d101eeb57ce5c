"""The 12 works of the seed documents (``/work/shared/seeds``), with consistent ids everywhere.

Ids, titles, venues, volume/issue/pages and author surnames come from the seed documents and
``expected.json``. What the documents do not print is assigned here and marked ``# assigned``:
PMIDs of the reference works, the DOI and PMCID of seed 002's subject, OpenAlex ids, given names,
ORCIDs, affiliations, counts. They are plausible, not necessarily the real values.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

from demo.fakeapi.catalog import CURRENT_YEAR, Author, Catalog, CitedBy, FakeWork, Institution
from demo.fakeapi.ids import orcid

# A small pool of institutions (name, bare ROR, country); used round-robin for authors.
_INSTITUTIONS = [
    Institution(
        "Memorial Sloan Kettering Cancer Center", "02yrq0923", "I1334819555", "US", "healthcare"
    ),
    Institution("Stanford University", "00f54p054", "I97018004", "US"),
    Institution("University of Bergen", "03zga2b32", "I4432739", "NO"),
    Institution("Universitätsklinikum Würzburg", "03pvr2g57", "I2802164966", "DE", "healthcare"),
    Institution("University of Lausanne", "019whta54", "I78577930", "CH"),
    Institution(
        "The University of Texas MD Anderson Cancer Center",
        "04twxam07",
        "I1343551460",
        "US",
        "healthcare",
    ),
    Institution("Vita-Salute San Raffaele University", "01gmqr298", "I82834576", "IT"),
    Institution("Weill Cornell Medicine", "02r109517", "I205783295", "US"),
]

_ABSTRACT_000 = (
    "Since 2004, patients receiving imatinib with relapse in non-marrow sites were given dasatinib "
    "to preserve control of leukemic marrow. Remissions in CNS and other organs began to be "
    "reported and are continuously observed to present. With resistance to one "
    "<i>BCR::ABL1</i> tyrosine kinase inhibitor and sensitivity to a dual <i>BCR::ABL1</i>/SRC "
    "inhibitor recognized, we undertook a retrospective observational study of all reported "
    "patients with EML given dasatinib ± routine therapies used over 50 years. One hundred and "
    "sixty-three patients received dasatinib ± conventional EML treatments. Dasatinib is a "
    "potentially practice-changing targeted therapy for EML."
)

_ABSTRACT_002 = (
    "Cytokine release syndrome (CRS) and immune effector cell-associated neurotoxicity syndrome "
    "(ICANS) are severe, potentially life-threatening side effects of chimeric antigen receptor "
    "T-cell (CAR T) therapy caused by the release of cytokines by proliferating and activated "
    "CAR T-cells. Current mainstay treatment includes interleukin-1 and interleukin-6 (IL-6) "
    "blockade and steroids. We report the successful treatment of a patient with a grade 3 CRS "
    "and grade 4 ICANS refractory to IL-6 blockade and steroids with the tyrosine kinase "
    "inhibitor dasatinib. The use of dasatinib for treatment of CAR T-cell therapy-related severe "
    "complications warrants further studies."
)


def _authors(names: Iterable[tuple[str, str]], start: int) -> list[Author]:
    """Authors with ORCIDs on every other one and institutions taken round-robin."""
    out = []
    for i, (family, given) in enumerate(names):
        inst = _INSTITUTIONS[(start + i) % len(_INSTITUTIONS)]
        # ids derive from the name, so one person keeps one ORCID and one A-id across works
        person = zlib.crc32(f"{family}, {given}".encode()) % 10**8
        out.append(
            Author(
                family=family,
                given=given,
                orcid=orcid(10**8 + person) if i % 2 == 0 else None,
                affiliation=f"Department of Medicine, {inst.name}",
                institution=inst,
                openalex_id=f"A50{person:08d}",
            )
        )
    return out


def _spread(total: int, first_year: int, last_year: int = CURRENT_YEAR) -> dict[int, int]:
    """Split ``total`` citations over the years, later years heavier; zero years left out."""
    years = list(range(first_year, last_year + 1))
    weights = list(range(1, len(years) + 1))
    counts = {y: total * w // sum(weights) for y, w in zip(years, weights, strict=True)}
    counts[last_year] += total - sum(counts.values())
    return {y: c for y, c in counts.items() if c}


def _work(**kw) -> FakeWork:
    cited = kw.pop("cited", (0, 0))
    w = FakeWork(**kw)
    w.cited_by = CitedBy(openalex=cited[0], crossref=cited[1])
    w.counts_by_year = _spread(cited[0], w.year)
    return w


def _seed_works() -> list[FakeWork]:
    subject_000 = _work(
        openalex_id="W4417001001",  # assigned
        doi="10.1111/ejh.70051",
        pmid="41369097",
        pmcid=None,  # not in PMC
        title="Dasatinib Produces Lengthy Remissions of Extramedullary Leukemia: A Retrospective Observational Study",
        year=2025,
        date="2025-12-09",
        venue="European Journal Of Haematology",
        venue_abbrev="Eur J Haematol",
        issn_l="0902-4441",
        issns=("0902-4441", "1600-0609"),
        publisher="Wiley",
        source_id="S115196917",
        authors=_authors(
            [
                ("Cunningham", "Isabel"),
                ("Fisher", "Rory A."),
                ("Yang", "Jialin"),
                ("Møller", "Søren"),
            ],
            0,
        ),
        abstract=_ABSTRACT_000,
        keywords=["LCK", "SRC kinase inhibition", "dasatinib", "extramedullary", "relapse"],
        mesh=[("D000069439", "Dasatinib", True), ("D006801", "Humans", False)],
        references=["W2916009009", "W2805011011"],
    )
    subject_002 = _work(
        openalex_id="W4311002002",  # assigned
        doi="10.36401/jipo-22-9",  # assigned
        pmid="36455991",
        pmcid="PMC9714414",  # assigned
        title="Dasatinib for Treatment of CAR T-cell Therapy-related Complications",
        year=2022,
        date="2022-11-14",
        venue="Journal of Immunotherapy and Precision Oncology",
        venue_abbrev="J Immunother Precis Oncol",
        issn_l="2666-2345",
        issns=("2666-2345", "2590-017X"),
        publisher="Innovative Healthcare Institute",
        source_id="S4210201425",
        authors=_authors([("Albrecht", "Katrin"), ("Huber", "Dominik"), ("Keller", "Anna")], 1),
        abstract=_ABSTRACT_002,
        volume="5",
        issue="4",
        pages="93-96",
        license="cc-by",
        mesh=[("D000069439", "Dasatinib", True), ("D000080424", "Cytokine Release Syndrome", True)],
        references=["W3183008008", "W2916009009", "W4214010010", "W2805011011", "W3120012012"],
        funders=[("Swiss National Science Foundation", "10.13039/501100001711", "320030_189243")],
        cited=(9, 7),
    )
    return [subject_000, subject_002, *_citing_works(), *_reference_works()]


def _citing_works() -> list[FakeWork]:
    return [
        _work(
            openalex_id="W4406003003",
            doi="10.1038/s41573-024-01100-5",
            pmid="39901030",
            pmcid=None,
            title="Novel strategies to manage CAR-T cell toxicity",
            year=2025,
            date="2025-02-03",
            venue="Nature Reviews Drug Discovery",
            venue_abbrev="Nat Rev Drug Discov",
            issn_l="1474-1776",
            issns=("1474-1776", "1474-1784"),
            publisher="Springer Science and Business Media LLC",
            source_id="S23254222",
            type="review",
            authors=_authors(
                [
                    ("Mulvey", "Arthur"),
                    ("Trueb", "Lionel"),
                    ("Coukos", "George"),
                    ("Arber", "Caroline"),
                ],
                4,
            ),
            abstract="CAR-T cell therapies cause distinct toxicities.\nWe review strategies to prevent and treat them.",
            abstract_labels=(),
            references=["W4311002002", "W2805011011", "W3120012012"],
            cited=(85, 70),
        ),
        _work(
            openalex_id="W4405004004",
            doi="10.3390/brainsci14121220",
            pmid="39766419",
            pmcid="PMC11727498",
            title="CAR-T Cells for the Treatment of Central Nervous System Tumours: Known and Emerging Neurotoxicities",
            year=2024,
            date="2024-12-04",
            venue="Brain Sciences",
            venue_abbrev="Brain Sci",
            issn_l="2076-3425",
            issns=("2076-3425", None),
            publisher="MDPI AG",
            source_id="S2738426958",
            type="review",
            volume="14",
            issue="12",
            pages="1220",
            license="cc-by",
            authors=_authors(
                [
                    ("Palazzo", "Lorenzo"),
                    ("Pieri", "Valentina"),
                    ("Berzero", "Giulia"),
                    ("Filippi", "Massimo"),
                ],
                6,
            ),
            abstract="CAR-T cells are being tested against CNS tumours.\nNeurotoxicity remains the main concern.",
            references=["W4311002002", "W2805011011"],
            cited=(6, 5),
        ),
        _work(
            openalex_id="W4405005005",
            doi="10.1016/j.xpro.2024.103529",
            pmid="39739533",
            pmcid="PMC11750262",
            title="Protocol for production of tonic CAR <i>T</i> cells with dasatinib",
            year=2025,
            date="2025-03-21",
            venue="STAR Protocols",
            venue_abbrev="STAR Protoc",
            issn_l="2666-1667",
            issns=(None, "2666-1667"),
            publisher="Elsevier BV",
            source_id="S4210204869",
            volume="6",
            issue="1",
            pages="103529",
            license="cc-by-nc-nd",
            authors=_authors(
                [
                    ("Rosselle", "Lucie"),
                    ("Leray", "Thomas"),
                    ("Joaquina", "Sandra"),
                    ("Caulier", "Benjamin"),
                    ("McCormack", "Emmet"),
                    ("Gelebart", "Pascal"),
                ],
                2,
            ),
            abstract="Tonic signalling exhausts CAR T cells.\nHere we present a protocol using dasatinib during production.",
            abstract_labels=("BACKGROUND", "OBJECTIVE"),
            references=["W4311002002", "W2916009009"],
            cited=(2, 2),
        ),
        _work(
            openalex_id="W4405006006",
            doi="10.1007/s10555-024-10227-1",
            pmid="39674824",
            pmcid="PMC11646216",
            title="Evolving strategies for addressing CAR T-cell toxicities",
            year=2024,
            date="2024-12-14",
            venue="Cancer and Metastasis Reviews",
            venue_abbrev="Cancer Metastasis Rev",
            issn_l="0167-7659",
            issns=("0167-7659", "1573-7233"),
            publisher="Springer Science and Business Media LLC",
            source_id="S4210188476",
            type="review",
            volume="44",
            issue="1",
            pages="17",
            license="cc-by",
            authors=_authors(
                [
                    ("Rankin", "Alexander"),
                    ("Duncan", "Brynn"),
                    ("Allen", "Cameron"),
                    ("Silbert", "Sara"),
                    ("Shah", "Nirali"),
                ],
                3,
            ),
            abstract="CAR T-cell toxicities limit their use.\nWe summarise current and emerging strategies.",
            references=["W4311002002", "W3183008008", "W2805011011", "W3120012012"],
            cited=(31, 25),
        ),
        _work(
            openalex_id="W4404007007",
            doi="10.3390/cancers16223867",
            pmid="39594822",
            pmcid="PMC11592760",
            title="Cellular Therapies for Multiple Myeloma: Engineering Hope",
            year=2024,
            date="2024-11-18",
            venue="Cancers",
            venue_abbrev="Cancers (Basel)",
            issn_l="2072-6694",
            issns=("2072-6694", None),
            publisher="MDPI AG",
            source_id="S4210177254",
            type="review",
            volume="16",
            issue="22",
            pages="3867",
            license="cc-by",
            authors=_authors(
                [
                    ("Vera-Cruz", "Sofia"),
                    ("Jornet Culubret", "Marta"),
                    ("Konetzki", "Verena"),
                    ("Alb", "Miriam"),
                    ("Friedel", "Sabrina"),
                    ("Hudecek", "Michael"),
                ],
                5,
            ),
            abstract="Multiple myeloma remains incurable.\nCellular therapies offer new hope.",
            references=["W4311002002", "W2805011011"],
            cited=(12, 10),
        ),
    ]


def _reference_works() -> list[FakeWork]:
    return [
        _work(
            openalex_id="W3183008008",
            merged_from=["W3185999999"],  # an old duplicate that 301-redirects here
            doi="10.1111/bjh.17673",
            pmid="34263445",  # assigned
            pmcid="PMC9293158",
            title="Earlier corticosteroid use for adverse event management in patients receiving axicabtagene ciloleucel for large B-cell lymphoma",
            year=2021,
            date="2021-07-14",
            venue="British Journal of Haematology",
            venue_abbrev="Br J Haematol",
            issn_l="0007-1048",
            issns=("0007-1048", "1365-2141"),
            publisher="Wiley",
            source_id="S110447773",
            volume="195",
            issue="3",
            pages="388-398",
            license="cc-by-nc",
            authors=_authors(
                [
                    ("Topp", "Max S."),
                    ("van Meerten", "Tom"),
                    ("Houot", "Roch"),
                    ("Minnema", "Monique C."),
                    ("Bouabdallah", "Kamal"),
                    ("Lugtenburg", "Pieternella J."),
                ],
                7,
            ),
            abstract="Earlier steroid use was evaluated in a safety cohort.\nIt did not impair efficacy.",
            abstract_labels=("BACKGROUND", "CONCLUSIONS"),
            cited=(120, 98),
        ),
        _work(
            openalex_id="W2916009009",
            doi="10.1182/bloodadvances.2018028720",
            pmid="30814055",  # assigned
            pmcid="PMC6418502",
            title="Pharmacologic control of CAR-T cell function using dasatinib",
            year=2019,
            date="2019-02-27",
            venue="Blood Advances",
            venue_abbrev="Blood Adv",
            issn_l="2473-9529",
            issns=("2473-9529", "2473-9537"),
            publisher="American Society of Hematology",
            source_id="S4210175785",
            volume="3",
            issue="5",
            pages="711-717",
            authors=_authors(
                [
                    ("Weber", "Evan W."),
                    ("Lynn", "Rachel C."),
                    ("Sotillo", "Elena"),
                    ("Lattin", "John"),
                    ("Xu", "Peng"),
                    ("Mackall", "Crystal L."),
                ],
                1,
            ),
            abstract="Dasatinib reversibly suppresses CAR-T cell function.\nIt may serve as a pharmacologic on/off switch.",
            cited=(160, 140),
        ),
        _work(
            openalex_id="W4214010010",
            doi="10.1182/blood.2022015789",
            pmid="35226734",  # assigned
            pmcid=None,
            title="CAR T cells as a second-line therapy for large B-cell lymphoma: a paradigm shift?",
            year=2022,
            date="2022-05-05",
            venue="Blood",
            venue_abbrev="Blood",
            issn_l="0006-4971",
            issns=("0006-4971", "1528-0020"),
            publisher="American Society of Hematology",
            source_id="S141808269",
            type="review",
            volume="139",
            issue="18",
            pages="2737-2746",
            authors=_authors([("Westin", "Jason"), ("Sehn", "Laurie H.")], 5),
            abstract=None,  # editorial-style piece: no abstract anywhere
            cited=(45, 38),
        ),
        _work(
            openalex_id="W2805011011",
            doi="10.1038/s41591-018-0041-7",
            pmid="29808007",  # assigned
            pmcid="PMC6410714",
            title="CAR T cell-induced cytokine release syndrome is mediated by macrophages and abated by IL-1 blockade",
            year=2018,
            date="2018-05-28",
            venue="Nature Medicine",
            venue_abbrev="Nat Med",
            issn_l="1078-8956",
            issns=("1078-8956", "1546-170X"),
            publisher="Springer Science and Business Media LLC",
            source_id="S203256638",
            volume="24",
            issue="6",
            pages="731-738",
            authors=_authors(
                [
                    ("Giavridis", "Theodoros"),
                    ("van der Stegen", "Sjoukje J. C."),
                    ("Eyquem", "Justin"),
                    ("Hamieh", "Mohamad"),
                    ("Piersigilli", "Alessandra"),
                    ("Sadelain", "Michel"),
                ],
                0,
            ),
            abstract="Cytokine release syndrome is mediated by macrophages.\nIL-1 blockade abates it in mice.",
            funders=[("National Cancer Institute", "10.13039/100000054", "P30 CA008748")],
            cited=(1350, 1200),
        ),
        _work(
            openalex_id="W3120012012",
            doi="10.1200/jco.20.01616",
            pubmed_doi="10.1200/JCO.20.01616",  # as printed in seed 002
            pmid="33434063",  # assigned
            pmcid=None,
            title="How I Manage: Pathophysiology and Management of Toxicity of Chimeric Antigen Receptor T-Cell Therapies",
            year=2021,
            date="2021-02-10",
            venue="Journal of Clinical Oncology",
            venue_abbrev="J Clin Oncol",
            issn_l="0732-183X",
            issns=("0732-183X", "1527-7755"),
            publisher="American Society of Clinical Oncology (ASCO)",
            source_id="S4613306",
            volume="39",
            issue="5",
            pages="456-466",
            authors=_authors([("Reagan", "Patrick M."), ("Neelapu", "Sattva S.")], 3),
            abstract="CAR T-cell therapies carry unique toxicities.\nWe describe how we manage them.",
            cited=(210, 180),
        ),
    ]


def derive_citations(works: list[FakeWork]) -> None:
    """Make ``cited_by`` agree with ``references`` inside the catalog.

    PubMed's citedin list gets the PMID of every catalog work that cites this one; the OpenAlex
    and Crossref counts are raised to at least the number of in-catalog citers.
    """
    by_w = {w.openalex_id: w for w in works}
    citers: dict[str, list[FakeWork]] = {}
    for w in works:
        for ref in w.references:
            citers.setdefault(ref, []).append(w)
    for wid, citing in citers.items():
        cited = by_w.get(wid)
        if cited is None:
            continue
        pmids = sorted({c.pmid for c in citing if c.pmid}, key=int, reverse=True)
        cited.cited_by.pubmed = pmids
        cited.cited_by.openalex = max(cited.cited_by.openalex, len(citing))
        cited.cited_by.crossref = max(cited.cited_by.crossref, len(citing))
        if sum(cited.counts_by_year.values()) < cited.cited_by.openalex:
            cited.counts_by_year = _spread(cited.cited_by.openalex, cited.year)


def seed_catalog(*, absent: Mapping[str, Iterable[str]] | None = None) -> Catalog:
    """The seeds' 12 works, known to every source unless ``absent`` says otherwise.

    ``absent`` maps a source (``openalex``/``crossref``/``pubmed``) to identifiers (DOI, PMID,
    PMCID or W id) that source must not know, e.g. ``{"crossref": ["10.1200/jco.20.01616"]}``.
    """
    works = _seed_works()
    derive_citations(works)
    catalog = Catalog(works)
    for source, ids in (absent or {}).items():
        for ident in ids:
            work = _lookup_any(catalog, ident)
            setattr(work, f"in_{source}", False)
    return catalog


def _lookup_any(catalog: Catalog, ident: str) -> FakeWork:
    """Find a work by any id form (``10.…`` DOI, ``PMC…``, ``W…``, digits = PMID)."""
    v = ident.strip()
    if v.startswith("10.") or v.lower().startswith(("doi:", "https://doi.org/")):
        return catalog.get(doi=v)
    if v.upper().startswith("PMC"):
        return catalog.get(pmcid=v)
    if v.upper().startswith("W"):
        return catalog.get(openalex=v)
    return catalog.get(pmid=v)
