"""Rows for seed documents: the documents, their mentions, and the citation links they state.

A seed page about one work (role ``subject``) lists works that cite it (role ``citing``) and works
it cites (role ``reference``). Each such entry becomes a ``work_references`` row with source
``seed``: subject -> reference, and citing -> subject. A document with no subject group, or more
than one, states no links (which subject would they belong to?).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from pipeline.records import Identifier, Mention, SeedDocument
from warehouse.identity import Resolution, best_identifier
from warehouse.matches import ENTRY_SPEC, entry_rows
from warehouse.rows import REFERENCE_SPEC

log = logging.getLogger(__name__)

DOCUMENT_SPEC = [
    ("document_id", "varchar"), ("path", "varchar"), ("sha256", "varchar"), ("bytes", "bigint"),
    ("loaded_at", "timestamptz"), ("mention_count", "integer"), ("problems", "varchar[]"),
    ("run_id", "varchar"),
]  # fmt: skip
MENTION_SPEC = [
    ("document_id", "varchar"), ("scheme", "varchar"), ("value", "varchar"), ("start", "integer"),
    ("end", "integer"), ("line", "integer"), ("section", "varchar"), ("group_key", "varchar"),
    ("group_no", "integer"), ("role", "varchar"), ("work_id", "varchar"),
]  # fmt: skip


def document_tables(
    docs: Sequence[SeedDocument], res: Resolution, *, run_id: str
) -> list[tuple[str, list, list[tuple]]]:
    """(table, spec, rows) for seed_documents, mentions, seed references and reference-list
    entries, in load order."""
    now = datetime.now(UTC)
    documents = {
        d.document_id: (
            d.document_id,
            d.path,
            d.sha256,
            d.bytes,
            now,
            len(d.mentions),
            [f"{p.path}: {p.message}" for p in d.problems],
            run_id,
        )  # fmt: skip
        for d in docs
    }
    mentions: dict[tuple, tuple] = {}
    references: dict[tuple, tuple] = {}
    for doc in docs:
        for m in doc.mentions:
            key = (doc.document_id, m.start, m.scheme)
            mentions[key] = _mention_row(doc.document_id, m, res.work_of[m.identifier])
        for row in seed_references(doc, res, run_id=run_id):
            references[row[:3]] = row
    return [
        ("seed_documents", DOCUMENT_SPEC, list(documents.values())),
        ("mentions", MENTION_SPEC, list(mentions.values())),
        ("seed_references", REFERENCE_SPEC, list(references.values())),
        ("reference_entries", ENTRY_SPEC, entry_rows(docs, run_id=run_id)),
    ]


def _mention_row(document_id: str, m: Mention, work_id: str) -> tuple:
    return (
        document_id, m.scheme, m.value, m.start, m.end, m.line, m.section,
        f"{document_id}:{m.group}", m.group, m.role, work_id,
    )  # fmt: skip


def seed_references(doc: SeedDocument, res: Resolution, *, run_id: str) -> list[tuple]:
    """work_references rows (REFERENCE_SPEC order) for the links one document states."""
    groups: dict[int, list[Mention]] = {}
    for m in doc.mentions:
        groups.setdefault(m.group, []).append(m)
    roles = {g: Counter(m.role for m in ms).most_common(1)[0][0] for g, ms in groups.items()}
    subjects = [g for g, role in roles.items() if role == "subject"]
    if len(subjects) != 1:
        if any(role in ("citing", "reference") for role in roles.values()):
            log.warning("%s: %d subject groups; its citation links are not loaded",
                        doc.path, len(subjects))  # fmt: skip
        return []
    subject = _group_ids(groups[subjects[0]])
    rows = []
    for g, role in sorted(roles.items()):
        other = _group_ids(groups[g])
        if role == "reference":
            rows.append(_link(res, citing=subject, cited=other, doc=doc, run_id=run_id))
        elif role == "citing":
            rows.append(_link(res, citing=other, cited=subject, doc=doc, run_id=run_id))
    return rows


def _group_ids(mentions: list[Mention]) -> list[Identifier]:
    return list(dict.fromkeys(m.identifier for m in mentions))


def _link(
    res: Resolution,
    *,
    citing: list[Identifier],
    cited: list[Identifier],
    doc: SeedDocument,
    run_id: str,
) -> tuple:
    # a distrusted group was split, so name the work by the group's best identifier
    cited_id = best_identifier(cited)
    citing_work = res.work_of[best_identifier(citing)]
    ref_key = f"{cited_id.scheme}:{cited_id.value}"
    return (
        citing_work, "seed", ref_key, cited_id.scheme, cited_id.value, None, None,
        doc.document_id, run_id,
    )  # fmt: skip
