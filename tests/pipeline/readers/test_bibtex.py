"""pipeline.readers.bibtex: LaTeX in field values, as BibTeX libraries write names and titles."""

from __future__ import annotations

import pytest

from pipeline.readers.bibtex import unlatex


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"M{\"u}ller, J{\"o}rg", "M{ü}ller, J{ö}rg"),  # Google Scholar, Zotero
        (r"Jo{\~{a}}o Gra{\c{c}}a", "Jo{ã}o Gra{ç}a"),  # DBLP
        (r"Erd\H{o}s and \v{C}ech and \v Cech", "Erdős and Čech and Čech"),
        (
            r"{\O}stergaard, Stra\ss{}e, \AA{}ngstr\"om, \l\'od\'z",
            "{Ø}stergaard, Straße, Ångström, łódź",
        ),
        (r"\'{\i}ndice and {\`E}cole", "índice and {È}cole"),
        (r"50\% of \emph{in vivo} R\&D", "50% of {in vivo} R&D"),
        ("plain text, no TeX", "plain text, no TeX"),
        (r"$\alpha$-helix", r"$\alpha$-helix"),  # math is left as written
    ],
)
def test_latex_accents_letters_and_escapes_become_characters(tex, text):
    assert unlatex(tex) == text
