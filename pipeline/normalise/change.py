"""Change keys: a digest of the metadata fields a cheap counts answer carries too.

A refresh asks every stale work's citation count in batches (``select=`` lists); adding a few
metadata fields to that ``select`` lets the same answer say whether the record changed since it
was fetched, without a second query per work. The key of the stored record (computed from its
full answer) and the key of the counts answer (computed from the selected fields) are equal
exactly when those fields are.

Why a digest of chosen fields rather than the source's own timestamp: OpenAlex's
``updated_date`` moves on *any* change, citation counts included (api-notes 1.5), so it would
flag most cited works every day; Crossref's ``indexed`` moves whenever Crossref re-indexes, which
it does in bulk. The digest moves only when a field we store changes.

Absent, null and empty values are the same value: Crossref leaves absent fields out of a
``select`` answer while OpenAlex sends them as null.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

# OpenAlex root fields (select= takes root fields only, api-notes 1.4): identity, title, dates,
# type, retraction, open access, volume/pages, language, and how many copies it has (a new
# open-access or preprint copy is a new location). Not authorships or the abstract: large, and
# a counts answer is meant to stay small (bench refresh prints its bytes per work).
OPENALEX_CHANGE_FIELDS = (
    "doi", "ids", "title", "publication_date", "type", "is_retracted", "open_access", "biblio",
    "language", "locations_count",
)  # fmt: skip
# Crossref message fields; ``updated-by`` brings retractions and corrections (Retraction Watch's
# included), ``relation`` new preprint links. All are valid ``select`` fields (CR-doc; a live
# select of updated-by and relation: amos689/paper-preflight docs/spikes/S2-crossref.md).
CROSSREF_CHANGE_FIELDS = (
    "DOI", "title", "type", "issued", "container-title", "volume", "issue", "page", "license",
    "updated-by", "update-to", "relation",
)  # fmt: skip


# One encoder for every key: json.dumps with options builds a new encoder per call, which was
# most of the cost (a key is computed for every record normalised).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_EMPTY = (None, "", [], {})


def change_key(obj: Mapping[str, Any], fields: Sequence[str]) -> str:
    """16 hex digits of a digest of the canonical JSON of ``obj``'s ``fields``.

    >>> change_key({"title": "A", "doi": None}, ("doi", "title")) == change_key({"title": "A"}, ("doi", "title"))
    True
    """
    picked = [(f, v) for f in fields if (v := obj.get(f)) not in _EMPTY]
    text = _CANONICAL.encode(picked)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
