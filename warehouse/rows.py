"""Flatten normalised records into warehouse rows (pure; no SQL, no I/O).

Each ``*_SPEC`` lists a table's columns as staged for loading (see staging.py), in the order the
row tuples are built. Keys of entities without an identifier of their own (authors, institutions,
venues, funders, topics) are derived here so that every source spells them the same way:

* author:      ``orcid:<ORCID>``, else ``openalex:<A-id>``, else ``name:<hash>`` of the lower-cased
  family name and first initial (namesakes without ids share a row; nothing better is knowable).
* institution: ``ror:<id>``, else ``openalex:<I-id>``, else ``name:<hash>``.
* venue:       ``issn:<ISSN-L>``, else ``name:<hash>`` of the lower-cased title.
* funder:      the source's funder id, else ``name:<hash>``.
* topic:       ``<vocabulary>:<term_id or term>``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.records import (
    AuthorRecord,
    DataQualityNote,
    Identifier,
    Institution,
    ReferenceRecord,
    SourceRecord,
    UpdateRecord,
)

V, INT, B, BOOL, F, TS, L = (
    "varchar",
    "integer",
    "bigint",
    "boolean",
    "double",
    "timestamptz",
    "varchar[]",
)

SOURCE_RECORD_SPEC = [
    ("work_id", V), ("source", V), ("source_key", V), ("ids", L), ("aliases", L), ("title", V),
    ("publication_year", INT), ("publication_date", V), ("venue", V), ("venue_abbrev", V),
    ("venue_id", V), ("issn_l", V), ("issns", L), ("publisher", V), ("type", V), ("volume", V),
    ("issue", V), ("pages", V), ("abstract", V), ("language", V), ("is_oa", BOOL),
    ("oa_status", V), ("license", V), ("is_retracted", BOOL), ("publication_types", L),
    ("author_count", INT), ("cited_by_count", B), ("reference_count", INT), ("updated_date", V),
    ("fetched_at", TS), ("raw_id", V), ("run_id", V), ("change_key", V),
]  # fmt: skip
AUTHORSHIP_SPEC = [
    ("work_id", V), ("source", V), ("position", INT), ("author_id", V), ("raw_name", V),
    ("family", V), ("given", V), ("initials", V), ("orcid", V), ("is_collective", BOOL),
    ("is_corresponding", BOOL), ("affiliations", L),
]  # fmt: skip
AUTHOR_SPEC = [
    ("author_id", V), ("display_name", V), ("family", V), ("given", V), ("orcid", V),
    ("openalex_id", V), ("updated_at", TS),
]  # fmt: skip
INSTITUTION_SPEC = [
    ("institution_id", V), ("name", V), ("ror", V), ("openalex_id", V), ("country_code", V),
    ("type", V),
]  # fmt: skip
AUTHORSHIP_INSTITUTION_SPEC = [
    ("work_id", V), ("source", V), ("position", INT), ("institution_id", V),
]  # fmt: skip
REFERENCE_SPEC = [
    ("citing_work_id", V), ("source", V), ("ref_key", V), ("cited_scheme", V),
    ("cited_value", V), ("position", INT), ("unstructured", V), ("document_id", V), ("run_id", V),
]  # fmt: skip
VENUE_SPEC = [
    ("venue_id", V), ("issn_l", V), ("issns", L), ("name", V), ("abbrev", V), ("publisher", V),
    ("updated_at", TS),
]  # fmt: skip
TOPIC_SPEC = [("topic_id", V), ("vocabulary", V), ("term", V), ("term_id", V)]
WORK_TOPIC_SPEC = [
    ("work_id", V), ("source", V), ("topic_id", V), ("qualifiers", L), ("is_major", BOOL),
    ("score", F),
]  # fmt: skip
FUNDER_SPEC = [("funder_id", V), ("name", V)]
WORK_FUNDER_SPEC = [("work_id", V), ("source", V), ("funder_id", V), ("award_ids", L)]
COUNT_SPEC = [
    ("work_id", V), ("source", V), ("run_id", V), ("cited_by_count", B), ("observed_at", TS),
    ("change_key", V), ("updated_date", V),
]  # fmt: skip
COUNT_BY_YEAR_SPEC = [
    ("work_id", V), ("source", V), ("year", INT), ("cited_by_count", B), ("observed_at", TS),
]  # fmt: skip
ALIAS_SPEC = [
    ("alias_scheme", V), ("alias_value", V), ("work_id", V), ("kind", V), ("source", V),
    ("recorded_at", TS), ("run_id", V),
]  # fmt: skip
SLICE_SPEC = [("work_id", V), ("source", V)]
NOTE_SPEC = [
    ("note_id", V), ("source", V), ("record_key", V), ("field", V), ("raw_value", V),
    ("problem", V), ("action", V), ("raw_id", V), ("run_id", V), ("recorded_at", TS),
]  # fmt: skip
UPDATE_SPEC = [
    ("work_id", V), ("source", V), ("update_key", V), ("kind", V), ("target_scheme", V),
    ("target_value", V), ("notice_scheme", V), ("notice_value", V), ("update_date", V),
    ("label", V), ("asserted_by", V), ("record_id", V), ("note", V), ("first_seen_at", TS),
    ("raw_id", V), ("run_id", V),
]  # fmt: skip
VERSION_SPEC = [
    ("work_id", V), ("source", V), ("relation", V), ("other_scheme", V), ("other_value", V),
    ("version", V), ("asserted_by", V), ("first_seen_at", TS), ("raw_id", V), ("run_id", V),
]  # fmt: skip
CHANGE_SPEC = [
    ("work_id", V), ("source", V), ("field", V), ("old_value", V), ("new_value", V),
    ("old_fetched_at", TS), ("changed_at", TS), ("old_raw_id", V), ("new_raw_id", V),
    ("run_id", V),
]  # fmt: skip
# Fields whose changes work_changes records: what the source says about the work, not our
# bookkeeping (fetched_at, raw_id, run_id, change_key) nor the counts, whose history
# citation_counts keeps. All but the last two are source_records columns; "updates" and
# "versions" are the keys of the record's work_updates and work_versions rows (a retraction or a
# preprint added, or withdrawn). A record's *snapshot* is its source_records row (in
# SOURCE_RECORD_SPEC order) followed by those two texts.
CHANGE_FIELDS = (
    "ids", "title", "publication_year", "publication_date", "venue", "issn_l", "publisher",
    "type", "volume", "issue", "pages", "abstract", "language", "is_oa", "oa_status", "license",
    "is_retracted", "publication_types", "author_count", "reference_count", "updates",
    "versions",
)  # fmt: skip
_SNAPSHOT_COLUMN = {
    **{name: n for n, (name, _) in enumerate(SOURCE_RECORD_SPEC)},
    "updates": len(SOURCE_RECORD_SPEC),
    "versions": len(SOURCE_RECORD_SPEC) + 1,
}
_CHANGE_POSITIONS = tuple((f, _SNAPSHOT_COLUMN[f]) for f in CHANGE_FIELDS)
_FETCHED, _RAW = _SNAPSHOT_COLUMN["fetched_at"], _SNAPSHOT_COLUMN["raw_id"]


def short_hash(text: str) -> str:
    """16 hex digits of sha256: a compact, stable key for name-only entities."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def author_key(author: AuthorRecord) -> str:
    """The author_id this authorship points at (see module docstring)."""
    if author.orcid:
        return f"orcid:{author.orcid}"
    if author.openalex_id:
        return f"openalex:{author.openalex_id}"
    if author.family:
        initial = _fold(author.given or author.initials or "")[:1]
        return "name:" + short_hash(f"{_fold(author.family)}|{initial}")
    return "name:" + short_hash(_fold(author.raw_name))


def display_name(author: AuthorRecord) -> str:
    """'Given Family' when both are known, else the name as printed."""
    if author.given and author.family:
        return f"{author.given} {author.family}"
    return author.raw_name


def institution_key(inst: Institution) -> str | None:
    """The institution_id of ``inst``, or None when it has neither id nor name."""
    if inst.ror:
        return f"ror:{inst.ror}"
    if inst.openalex_id:
        return f"openalex:{inst.openalex_id}"
    return "name:" + short_hash(_fold(inst.name)) if inst.name else None


def venue_key(record: SourceRecord) -> str | None:
    """The venue_id of the record's venue, or None when it names none."""
    if record.issn_l:
        return f"issn:{record.issn_l}"
    return "name:" + short_hash(_fold(record.venue)) if record.venue else None


def note_row(note: DataQualityNote, *, run_id: str, now: datetime) -> tuple:
    """One data_quality_notes row; its key is a hash of what the note says, so the same odd
    value in the same stored answer is noted once however often that answer is loaded."""
    parts = (note.raw_id, note.record_key, note.field, note.problem, note.raw_value)
    note_id = hashlib.sha256(
        "\x00".join(p or "" for p in parts).encode("utf-8", "surrogatepass")
    ).hexdigest()[:24]
    return (
        note_id, note.source, note.record_key, note.field, note.raw_value, note.problem,
        note.action, note.raw_id, run_id, now,
    )  # fmt: skip


def id_strings(ids: Iterable[Identifier]) -> list[str]:
    """Identifiers as 'scheme:value' strings, in the order given, without repeats."""
    return list(dict.fromkeys(f"{i.scheme}:{i.value}" for i in ids))


def update_key(update: UpdateRecord) -> str:
    """update_key: '<kind>|<target>|<notice>' (notice '-' when the source names none)."""
    notice = str(update.notice) if update.notice else "-"
    return f"{update.kind}|{update.target}|{notice}"


def change_text(value: object) -> str | None:
    """A source_records value as work_changes stores it: text, lists sorted and joined."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(sorted(str(v) for v in value)) or None
    return str(value)


def version_key(scheme: str, value: str, relation: str) -> str:
    """How a version link reads in work_changes: '<relation>|<scheme>:<value>'."""
    return f"{relation}|{scheme}:{value}"


def field_changes(old: tuple, new: tuple) -> Iterator[tuple[str, str | None, str | None]]:
    """(field, old text, new text) for every CHANGE_FIELDS value that differs between two
    record snapshots (see CHANGE_FIELDS)."""
    for name, at in _CHANGE_POSITIONS:
        before, after = change_text(old[at]), change_text(new[at])
        if before != after:
            yield name, before, after


def _link_texts(record: SourceRecord) -> tuple[str | None, str | None]:
    """The "updates" and "versions" values of a record's snapshot."""
    if not record.updates and not record.versions:  # most records: nothing to sort or join
        return None, None
    updates = [update_key(u) for u in record.updates]
    versions = [version_key(*v.other, v.relation) for v in record.versions]
    return change_text(updates), change_text(versions)


def reference_key(ref: ReferenceRecord) -> str:
    """ref_key: the cited id when known, else the position, else a hash of the text."""
    if ref.scheme and ref.value:
        return f"{ref.scheme}:{ref.value}"
    if ref.position is not None:
        return f"pos:{ref.position}"
    return "text:" + short_hash(ref.unstructured or "")


@dataclass
class RecordRows:
    """Rows for every table a batch of SourceRecords touches, deduplicated by key."""

    run_id: str
    now: datetime
    slices: dict[tuple, tuple] = field(default_factory=dict)
    source_records: dict[tuple, tuple] = field(default_factory=dict)
    authorships: dict[tuple, tuple] = field(default_factory=dict)
    authors: dict[str, tuple] = field(default_factory=dict)
    institutions: dict[str, tuple] = field(default_factory=dict)
    authorship_institutions: dict[tuple, tuple] = field(default_factory=dict)
    references: dict[tuple, tuple] = field(default_factory=dict)
    venues: dict[str, tuple] = field(default_factory=dict)
    topics: dict[str, tuple] = field(default_factory=dict)
    work_topics: dict[tuple, tuple] = field(default_factory=dict)
    funders: dict[str, tuple] = field(default_factory=dict)
    work_funders: dict[tuple, tuple] = field(default_factory=dict)
    counts: dict[tuple, tuple] = field(default_factory=dict)
    counts_by_year: dict[tuple, tuple] = field(default_factory=dict)
    aliases: dict[tuple, tuple] = field(default_factory=dict)
    updates: dict[tuple, tuple] = field(default_factory=dict)
    versions: dict[tuple, tuple] = field(default_factory=dict)
    changes: dict[tuple, tuple] = field(default_factory=dict)
    # record snapshots per slice (CHANGE_FIELDS): the first one added is what a stored record
    # is compared against, the latest what a later record in the same batch is
    first_records: dict[tuple, tuple] = field(default_factory=dict)
    latest_records: dict[tuple, tuple] = field(default_factory=dict)

    def add(
        self, record: SourceRecord, work_id: str, *, fetched_at: datetime, fetched_in: str = ""
    ) -> None:
        """Add one record (a later record for the same work and source replaces an earlier).

        ``fetched_in`` is the run that fetched it (default: this run), stamped on its rows.
        """
        run = fetched_in or self.run_id
        key = (work_id, record.source)
        row = self._source_record(record, work_id, fetched_at, run)
        snapshot = (*row, *_link_texts(record))
        if key in self.slices:
            self.note_changes(self.latest_records[key], snapshot, run_id=self.run_id)
            self._drop_slice(key)
        else:
            self.first_records[key] = snapshot
        self.latest_records[key] = snapshot
        self.slices[key] = key
        self.source_records[key] = row
        self._add_authors(record, work_id)
        self._add_references(record, work_id, run)
        self._add_topics_and_funders(record, work_id)
        self._add_updates_and_versions(record, work_id, fetched_at, run)
        if record.cited_by_count is not None:
            self.add_count(
                work_id, record.source, count=record.cited_by_count, observed_at=fetched_at,
                run_id=run, change_key=record.change_key, updated_date=record.updated_date,
            )  # fmt: skip
            self.add_counts_by_year(
                work_id, record.source, by_year=record.counts_by_year, observed_at=fetched_at
            )
        for alias in record.aliases:
            self.aliases[(alias.scheme, alias.value)] = (
                alias.scheme, alias.value, work_id, "source_alias", record.source, self.now,
                self.run_id,
            )  # fmt: skip

    def add_count(
        self,
        work_id: str,
        source: str,
        *,
        count: int,
        observed_at: datetime,
        run_id: str = "",
        change_key: str | None = None,
        updated_date: str | None = None,
    ) -> None:
        """One citation observation for (work, source) in this run; the last one given wins."""
        run = run_id or self.run_id
        self.counts[(work_id, source, run)] = (
            work_id, source, run, count, observed_at, change_key, updated_date,
        )  # fmt: skip

    def note_changes(self, old: tuple, new: tuple, *, run_id: str) -> None:
        """work_changes rows for the fields that differ from ``old`` (a record snapshot, as
        stored or added earlier in this batch) to ``new``, a later answer about the same slice.
        An answer no newer than ``old`` (a replayed or reordered batch) is not a change."""
        if old[_RAW] == new[_RAW] or new[_FETCHED] <= old[_FETCHED]:
            return
        work_id, source = new[0], new[1]
        for name, before, after in field_changes(old, new):
            self.changes[(work_id, source, name, new[_FETCHED])] = (
                work_id, source, name, before, after, old[_FETCHED], new[_FETCHED], old[_RAW],
                new[_RAW], run_id,
            )  # fmt: skip

    def add_counts_by_year(
        self,
        work_id: str,
        source: str,
        *,
        by_year: Iterable[tuple[int, int]],
        observed_at: datetime,
    ) -> None:
        """Per-year counts (latest state per year)."""
        for year, count in by_year:
            key = (work_id, source, year)
            self.counts_by_year[key] = (work_id, source, year, count, observed_at)

    def _drop_slice(self, key: tuple) -> None:
        # two records of one source for one work in the same batch (e.g. duplicate OpenAlex works
        # merged): the later replaces the earlier, like it would across batches
        for table in (self.authorships, self.authorship_institutions, self.work_topics,
                      self.work_funders, self.references, self.updates,
                      self.versions):  # fmt: skip
            for k in [k for k in table if k[:2] == key]:
                del table[k]

    def _source_record(
        self, r: SourceRecord, work_id: str, fetched_at: datetime, run: str
    ) -> tuple:
        venue_id = venue_key(r)
        if venue_id:
            self.venues[venue_id] = (
                venue_id, r.issn_l, list(r.issns) or None, r.venue, r.venue_abbrev, r.publisher,
                self.now,
            )  # fmt: skip
        return (
            work_id, r.source, r.source_key, id_strings(r.ids), id_strings(r.aliases), r.title,
            r.publication_year, r.publication_date, r.venue, r.venue_abbrev, venue_id, r.issn_l,
            list(r.issns), r.publisher, r.type, r.volume, r.issue, r.pages, r.abstract,
            r.language, r.is_oa, r.oa_status, r.license, r.is_retracted,
            list(r.publication_types), len(r.authors), r.cited_by_count, r.reference_count,
            r.updated_date, fetched_at, r.raw_id, run, r.change_key,
        )  # fmt: skip

    def _add_authors(self, r: SourceRecord, work_id: str) -> None:
        source, now = r.source, self.now
        authors, authorships = self.authors, self.authorships
        institutions, links = self.institutions, self.authorship_institutions
        for a in r.authors:
            author_id, position, family, given = author_key(a), a.position, a.family, a.given
            authors[author_id] = (
                author_id, display_name(a), family, given, a.orcid, a.openalex_id, now,
            )  # fmt: skip
            authorships[(work_id, source, position)] = (
                work_id, source, position, author_id, a.raw_name, family, given, a.initials,
                a.orcid, a.is_collective, a.is_corresponding, list(a.affiliations),
            )  # fmt: skip
            for inst in a.institutions:
                inst_id = institution_key(inst)
                if inst_id is None:
                    continue
                institutions[inst_id] = (
                    inst_id, inst.name, inst.ror, inst.openalex_id, inst.country_code, inst.type,
                )  # fmt: skip
                key = (work_id, source, position, inst_id)
                links[key] = key

    def _add_references(self, r: SourceRecord, work_id: str, run: str) -> None:
        source, references = r.source, self.references  # ~30 references a work
        for ref in r.references:
            scheme, value = ref.scheme, ref.value
            ref_key = reference_key(ref)
            references[(work_id, source, ref_key)] = (
                work_id, source, ref_key, scheme if value else None, value if scheme else None,
                ref.position, ref.unstructured, None, run,
            )  # fmt: skip

    def _add_topics_and_funders(self, r: SourceRecord, work_id: str) -> None:
        for t in r.topics:
            topic_id = f"{t.vocabulary}:{t.term_id or t.term}"
            self.topics[topic_id] = (topic_id, t.vocabulary, t.term, t.term_id)
            self.work_topics[(work_id, r.source, topic_id)] = (
                work_id, r.source, topic_id, list(t.qualifiers), t.is_major, t.score,
            )  # fmt: skip
        for f in r.funders:
            funder_id = f.funder_id or ("name:" + short_hash(_fold(f.name)) if f.name else None)
            if funder_id is None:
                continue
            self.funders[funder_id] = (funder_id, f.name)
            key = (work_id, r.source, funder_id)
            awards = list(self.work_funders.get(key, (None,) * 4)[3] or [])
            awards += [a for a in f.award_ids if a not in awards]
            self.work_funders[key] = (work_id, r.source, funder_id, awards)

    def _add_updates_and_versions(
        self, r: SourceRecord, work_id: str, fetched_at: datetime, run: str
    ) -> None:
        for u in r.updates:
            key = update_key(u)
            notice_scheme, notice_value = u.notice if u.notice else (None, None)
            self.updates[(work_id, r.source, key)] = (
                work_id, r.source, key, u.kind, u.target.scheme, u.target.value, notice_scheme,
                notice_value, u.date, u.label, u.asserted_by, u.record_id, u.note, fetched_at,
                r.raw_id, run,
            )  # fmt: skip
        for v in r.versions:
            self.versions[(work_id, r.source, v.relation, v.other.scheme, v.other.value)] = (
                work_id, r.source, v.relation, v.other.scheme, v.other.value, v.version,
                v.asserted_by, fetched_at, r.raw_id, run,
            )  # fmt: skip

    def tables(self) -> list[tuple[str, list, list[tuple]]]:
        """(table, spec, rows) for every table, in load order (entities before links)."""
        return [
            ("venues", VENUE_SPEC, list(self.venues.values())),
            ("authors", AUTHOR_SPEC, list(self.authors.values())),
            ("institutions", INSTITUTION_SPEC, list(self.institutions.values())),
            ("topics", TOPIC_SPEC, list(self.topics.values())),
            ("funders", FUNDER_SPEC, list(self.funders.values())),
            ("source_records", SOURCE_RECORD_SPEC, list(self.source_records.values())),
            ("authorships", AUTHORSHIP_SPEC, list(self.authorships.values())),
            ("authorship_institutions", AUTHORSHIP_INSTITUTION_SPEC,
             list(self.authorship_institutions.values())),
            ("work_references", REFERENCE_SPEC, list(self.references.values())),
            ("work_topics", WORK_TOPIC_SPEC, list(self.work_topics.values())),
            ("work_funders", WORK_FUNDER_SPEC, list(self.work_funders.values())),
            ("citation_counts", COUNT_SPEC, list(self.counts.values())),
            ("counts_by_year", COUNT_BY_YEAR_SPEC, list(self.counts_by_year.values())),
            ("work_aliases", ALIAS_SPEC, list(self.aliases.values())),
            ("work_updates", UPDATE_SPEC, list(self.updates.values())),
            ("work_versions", VERSION_SPEC, list(self.versions.values())),
            ("work_changes", CHANGE_SPEC, list(self.changes.values())),
        ]  # fmt: skip
