"""Bounds on reading one document, so a hostile file costs bounded time and memory.

Defaults here; ``pipeline.config.Settings`` reads the ``ENRICH_PDF_*`` variables and passes a
:class:`ReadLimits` down (this module reads no environment).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ReadLimits"]


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """``pdf_max_pages``: pages read from one PDF (the rest is named in a warning);
    ``pdf_max_seconds``: wall time for one PDF's text, then it is given up with one line;
    ``pdf_max_memory_mb``: address space of the process that parses PDFs (a decompression bomb
    ends there, not in the run); ``json_max_mb``: a JSON document larger than this is read as
    text (JSON Lines are read record by record whatever the size); ``yaml_max_mb``: the same for
    a YAML bibliography (CITATION.cff, CSL-YAML, Hayagriva), whose parse holds about 50 times
    the file in memory (a 20 MB file peaked at 972 MB), so its bound is lower."""

    pdf_max_pages: int = 2000
    pdf_max_seconds: float = 120.0
    pdf_max_memory_mb: int = 2048
    json_max_mb: int = 64
    yaml_max_mb: int = 8
