"""Works shaped like the warehouse's, with the awkward cases real data brings."""

from __future__ import annotations

import pytest

from pipeline.bibformats import BibAuthor, BibWork

SICI = "10.1002/(SICI)1099-0771(199706)10:2<107::AID-BDM292>3.0.CO;2-Y"


@pytest.fixture
def article() -> BibWork:
    """A journal article with every field, markup and TeX's special characters in its title,
    non-ASCII names split by the source and unsplit (OpenAlex), and a SICI DOI."""
    return BibWork(
        work_id="w_1",
        type="journal-article",
        title="Dasatinib & <i>BCR::ABL1</i>: 100% of CAR-T_cells in IL-6 {low} #1 ~ ^ \\ $",
        container="Journal of Clinical Oncology",
        publication_year=2021,
        publication_date="2021-03-04",
        volume="39",
        issue="8",
        pages="1437-1452",
        doi=SICI,
        pmid="33434063",
        pmcid="PMC9293158",
        issn="0732-183X",
        publisher="American Society of Clinical Oncology (ASCO)",
        language="en",
        abstract="BACKGROUND: line one\nline two with <sup>2</sup> & 5%.",
        authors=(
            BibAuthor("Søren Møller"),
            BibAuthor("Jiménez, José", family="Jiménez-Núñez", given="José Ángel"),
            BibAuthor("Ludwig van Beethoven"),
            BibAuthor("CAR T Cell Consortium", is_collective=True),
        ),
    )


@pytest.fixture
def bare() -> BibWork:
    """What a work only an identifier is known of looks like."""
    return BibWork(work_id="w_2", pmid="12345")
