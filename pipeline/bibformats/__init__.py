"""Bibliographic export formats: BibTeX, CSL JSON and RIS, written from plain typed records.

Pure functions over :class:`~pipeline.bibformats.work.BibWork` records (built by the warehouse
from ``works`` and ``authorships``); no DuckDB, no Prefect. One format a module.
"""

from pipeline.bibformats.bibtex import write_bibtex
from pipeline.bibformats.csljson import write_csljson
from pipeline.bibformats.ris import write_ris
from pipeline.bibformats.work import BibAuthor, BibWork

WRITERS = {"bibtex": write_bibtex, "csljson": write_csljson, "ris": write_ris}
EXTENSIONS = {"bibtex": "bib", "csljson": "json", "ris": "ris"}

__all__ = [
    "WRITERS",
    "EXTENSIONS",
    "BibAuthor",
    "BibWork",
    "write_bibtex",
    "write_csljson",
    "write_ris",
]
