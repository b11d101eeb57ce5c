from __future__ import annotations

import pytest

from pipeline.bibformats import BibAuthor
from pipeline.bibformats.names import Name, split_name


@pytest.mark.parametrize(
    ("author", "name"),
    [
        (BibAuthor("Rory A. Fisher"), Name(family="Fisher", given="Rory A.")),
        (BibAuthor("Søren Møller"), Name(family="Møller", given="Søren")),
        (BibAuthor("Ludwig van Beethoven"), Name(family="Beethoven", given="Ludwig", particle="van")),
        (BibAuthor("de la Fuente, José"), Name(family="Fuente", given="José", particle="de la")),
        (BibAuthor("x", family="Jiménez-Núñez", given="José Ángel"),
         Name(family="Jiménez-Núñez", given="José Ángel")),
        (BibAuthor("WHO Study Group", is_collective=True), Name(literal="WHO Study Group")),
        (BibAuthor("Plato"), Name(family="Plato")),
        (BibAuthor("   "), Name()),
    ],
)  # fmt: skip
def test_names_split_by_the_source_else_by_bibtex_rules(author, name):
    assert split_name(author) == name


def test_a_name_pybtex_refuses_stays_whole():
    assert split_name(BibAuthor("a, b, c, d")).literal == "a, b, c, d"
