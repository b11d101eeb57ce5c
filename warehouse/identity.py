"""Which work an identifier names: minting, grouping and merging work ids.

Scheme
------
``work_id = 'w_' + sha256('<scheme>:<value>')[:16]`` of the work's *anchor* (kept in
``works.anchor_scheme/anchor_value``), so a work_id is recomputable from its anchor. The anchor is
the best identifier (doi > pmid > pmcid > arxiv > openalex, then the smallest value) of the work
when it is minted; once the work is *settled* its id never changes, so it is stable across runs
and refreshes.

Arrival order
-------------
The sources load their answers as they come (issue 22), so within a run the same answers arrive
in any order; the outcome must not show it. A work minted in this run from a source's answer
(not from a seed document) is *provisional* until the run ends: it stays anchored on the best
identifier its component holds (re-keyed when a better one joins, as a merge into the newly
minted id) and a settled work absorbs it whatever their anchors. Seed works and the works of
earlier runs are *settled*. A provisional id lived only inside its run, so absorbing one records
no alias. ``work_ids.asserted_by`` names the best-ranked source that asserted the identifier
(ASSERTION_ORDER), not the first to load; a better-ranked source asserting it later takes over.

Groups and merges
-----------------
An *identity group* is a set of identifiers some evidence says name one work: the mentions of one
extraction group in one document, a ``SourceRecord``'s ids and aliases, an ``IdentityLink``. Groups
and the existing ``work_ids`` rows are joined with a union-find; each connected component is one
work:

* no existing work -> a new work, anchored on the component's best identifier;
* only provisional works -> the work anchored on the component's best identifier (one of them,
  or newly minted), which absorbs the others;
* one settled work -> that work (new identifiers are added to ``work_ids``);
* several settled works -> they merge. The survivor is the one with the best anchor (same order
  as above, then the smaller work_id), so the outcome does not depend on which answer arrived
  first; provisional works in the component merge into it too. Every row that references an
  absorbed id is rewritten (see identity.sql) and an absorbed settled id is kept in
  ``work_aliases`` (kind ``merged_work``).

Guard against bad data
----------------------
Groups are applied one at a time. A group is not trusted when joining it would

* combine more than ``MAX_WORKS_PER_GROUP`` existing works (one per scheme is the legitimate
  worst case), or
* give one work two different PMIDs or PMCIDs (counting what the works already hold, so
  two works with different PMIDs are never merged through a shared DOI claim).

A distrusted group is recorded in ``identity_conflicts`` and merges nothing: a record keeps only
its own key (``source_key``); a seed group becomes one work per identifier, since each mention
still needs one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from pipeline.records import Identifier
from warehouse.db import sql
from warehouse.staging import staged

log = logging.getLogger(__name__)

SCHEME_RANK = {"doi": 0, "pmid": 1, "pmcid": 2, "arxiv": 3, "openalex": 4}
# A work first met as one identifier per scheme (doi, pmid, pmcid, arxiv, openalex) is the
# largest legitimate merge; anything bigger is a broken record.
MAX_WORKS_PER_GROUP = len(SCHEME_RANK)
# A work has one of each of these; a merge that would give it two is wrong. (Not DOIs: a work
# may carry several, e.g. Crossref alias DOIs.)
SINGLE_VALUED = ("pmid", "pmcid")
# Who ``work_ids.asserted_by`` names when several sources assert an identifier: the seed documents
# (the user printed it), then the sources in ``source_precedence.bibliographic`` order, which puts
# each scheme's registry first (Crossref for DOIs, PubMed for PMIDs and PMCIDs) among the sources
# that carry it. A fixed order, not the first to load, so arrival order does not show.
ASSERTION_ORDER = ("seed", "crossref", "pubmed", "openalex")
_ASSERTION_RANK = {source: n for n, source in enumerate(ASSERTION_ORDER)}

_ID_SPEC = [("scheme", "varchar"), ("value", "varchar")]
_NEW_ID_SPEC = [
    ("scheme", "varchar"),
    ("value", "varchar"),
    ("work_id", "varchar"),
    ("asserted_by", "varchar"),
    ("run_id", "varchar"),
]
_CONFLICT_SPEC = [
    ("conflict_key", "varchar"),
    ("source", "varchar"),
    ("ids", "varchar[]"),
    ("work_ids", "varchar[]"),
    ("reason", "varchar"),
    ("recorded_at", "timestamptz"),
    ("run_id", "varchar"),
]


def mint_work_id(anchor: Identifier) -> str:
    """The work_id anchored on ``anchor``: ``w_`` + 16 hex digits of sha256('scheme:value')."""
    return "w_" + hashlib.sha256(f"{anchor.scheme}:{anchor.value}".encode()).hexdigest()[:16]


def id_rank(ident: Identifier) -> tuple[int, str]:
    """Sort key: better identifiers first (doi, pmid, pmcid, arxiv, openalex; then by value)."""
    return (SCHEME_RANK.get(ident.scheme, len(SCHEME_RANK)), ident.value)


def best_identifier(ids: Iterable[Identifier]) -> Identifier:
    """The identifier a new work is anchored on."""
    return min(ids, key=id_rank)


@dataclass(frozen=True)
class IdGroup:
    """Identifiers one piece of evidence says name a single work."""

    ids: tuple[Identifier, ...]
    primary: Identifier  # the work a record attaches to; kept alone when the group is distrusted
    asserted_by: str  # seed | openalex | crossref | pubmed
    split_on_conflict: bool = False  # seeds: a distrusted group becomes one work per identifier


@dataclass(frozen=True)
class Conflict:
    """A distrusted group, as recorded in identity_conflicts."""

    group: IdGroup
    works: tuple[str, ...]
    reason: str


@dataclass
class Resolution:
    """What resolving a set of groups decided."""

    work_of: dict[Identifier, str] = field(default_factory=dict)  # every accepted id -> work
    new_works: dict[str, Identifier] = field(default_factory=dict)  # work_id -> anchor
    merges: dict[str, str] = field(default_factory=dict)  # absorbed -> survivor
    provisional_merges: set[str] = field(default_factory=set)  # absorbed, but kept no alias
    new_ids: dict[Identifier, str] = field(default_factory=dict)  # id -> asserted_by
    reasserted: dict[Identifier, str] = field(default_factory=dict)  # known id -> better asserter
    conflicts: list[Conflict] = field(default_factory=list)

    def group_work(self, group: IdGroup) -> str:
        """The work a group (e.g. a record) belongs to."""
        return self.work_of[group.primary]

    @property
    def affected(self) -> set[str]:
        """Works whose merged row must be recomputed."""
        return set(self.work_of.values())


class _Components:
    """Union-find over identifiers that remembers, per component, its members and known works."""

    def __init__(self, known: dict[Identifier, str], members: dict[str, set[Identifier]]):
        self.parent: dict[Identifier, Identifier] = {}
        self.members: dict[Identifier, set[Identifier]] = {}
        self.works: dict[Identifier, set[str]] = {}
        by_work: dict[str, set[Identifier]] = {}
        for ident, work in known.items():
            by_work.setdefault(work, set()).add(ident)
        for work, idents in by_work.items():
            idents = idents | members.get(work, set())
            root = min(idents, key=id_rank)
            for ident in idents:
                self.parent[ident] = root
            self.members[root], self.works[root] = set(idents), {work}

    def find(self, x: Identifier) -> Identifier:
        parent = self.parent
        if x not in parent:
            parent[x], self.members[x], self.works[x] = x, {x}, set()
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving
            x = parent[x]
        return x

    def _parts(self, ids: Sequence[Identifier]) -> list[tuple[set[Identifier], set[str]]]:
        # (members, works) of each component ``ids`` touch; an unseen id is a part of its own,
        # without registering it (a distrusted group must leave no trace)
        roots = {self.find(i) for i in ids if i in self.parent}
        parts = [(self.members[r], self.works[r]) for r in roots]
        return parts + [({i}, set()) for i in dict.fromkeys(ids) if i not in self.parent]

    def objection(self, ids: Sequence[Identifier]) -> tuple[str, tuple[str, ...]]:
        """Why joining ``ids`` (and the components they are in) into one would be wrong, if so."""
        parts = self._parts(ids)
        works = tuple(sorted(w for _, ws in parts for w in ws))
        if len(works) > MAX_WORKS_PER_GROUP:
            return f"would merge {len(works)} works (limit {MAX_WORKS_PER_GROUP})", works
        for scheme in SINGLE_VALUED:
            values = [{m.value for m in members if m.scheme == scheme} for members, _ in parts]
            joined = set().union(*values)
            if len(joined) > max(map(len, values)):
                return f"would give one work {len(joined)} different {scheme} values", works
        return "", works

    def join(self, ids: Sequence[Identifier]) -> None:
        """Make ``ids`` (and the components they are in) one component."""
        roots = sorted({self.find(i) for i in ids}, key=lambda r: -len(self.members[r]))
        keep = roots[0]
        for other in roots[1:]:
            self.parent[other] = keep
            self.members[keep] |= self.members.pop(other)
            self.works[keep] |= self.works.pop(other)


def _accept(
    comps: _Components, group: IdGroup, conflicts: list[Conflict]
) -> tuple[Identifier, ...]:
    """Join ``group`` unless the guard objects; the identifiers it was trusted to assert."""
    reason, works = comps.objection(group.ids)
    if not reason:
        comps.join(group.ids)
        return group.ids
    conflicts.append(Conflict(group, works, reason))
    log.warning("identity conflict from %s %s: %s", group.asserted_by, group.primary, reason)
    # a distrusted seed group still needs a work per mention; a record keeps only its own key
    kept = group.ids if group.split_on_conflict else (group.primary,)
    for ident in kept:
        comps.find(ident)
    return kept


def plan_identity(
    groups: Sequence[IdGroup],
    known: dict[Identifier, str],
    *,
    anchors: dict[str, Identifier],
    members: dict[str, set[Identifier]] | None = None,
    asserted_by: dict[Identifier, str] | None = None,
    provisional: Collection[str] = (),
) -> Resolution:
    """Pure: decide works, merges and new ids for ``groups`` given the ``known`` crosswalk.

    ``anchors`` maps each known work_id to its anchor (for choosing merge survivors);
    ``members`` maps it to all its identifiers (so the guard sees what a merge would combine);
    ``asserted_by`` gives who is recorded as asserting each known id (an id a better-ranked
    source asserts again goes to ``reasserted``); ``provisional`` names the known works minted
    in this run from a source's answer (see the module docstring). Groups are applied in order;
    one the guard objects to is recorded as a conflict.
    """
    comps = _Components(known, members or {})
    res = Resolution()
    asserted: dict[Identifier, str] = {}
    for group in groups:
        trusted = set(_accept(comps, group, res.conflicts))
        for ident in group.ids:
            if ident in trusted:
                asserted[ident] = better_asserter(asserted.get(ident), group.asserted_by)
            elif ident in comps.parent:  # known, but this group's word on it is not trusted
                asserted.setdefault(ident, "")
    stored = asserted_by or {}
    by_root: dict[Identifier, list[Identifier]] = {}
    for ident in asserted:
        by_root.setdefault(comps.find(ident), []).append(ident)
    for root, ids in by_root.items():
        work_id = _component_work(comps, root, anchors, set(provisional), res)
        for ident in ids:
            res.work_of[ident] = work_id
            by, before = asserted[ident], stored.get(ident)
            if ident not in known:
                res.new_ids[ident] = by
            elif by and better_asserter(before, by) != before:
                res.reasserted[ident] = by
    return res


def better_asserter(one: str | None, two: str) -> str:
    """Of two sources asserting an identifier, the one ``work_ids.asserted_by`` keeps
    (ASSERTION_ORDER; ``one`` None or empty: nobody yet)."""
    if not one:
        return two
    return min(one, two, key=lambda s: (_ASSERTION_RANK.get(s, len(_ASSERTION_RANK)), s))


def _component_work(
    comps: _Components,
    root: Identifier,
    anchors: dict[str, Identifier],
    provisional: set[str],
    res: Resolution,
) -> str:
    """The work of one component: its best-anchored settled work, else one anchored on its
    best identifier (minted, or the provisional work already anchored there)."""
    works = comps.works[root]
    settled = works - provisional
    if settled:
        survivor = min(settled, key=lambda w: (*id_rank(anchors.get(w, Identifier("~", w))), w))
    else:
        anchor = best_identifier(comps.members[root])
        survivor = mint_work_id(anchor)
        if survivor not in works:
            res.new_works[survivor] = anchor
    for work_id in works - {survivor}:
        res.merges[work_id] = survivor
        if work_id in provisional:
            res.provisional_merges.add(work_id)
    return survivor


# ------------------------------------------------------------------------------------------
# applying a resolution to the warehouse
# ------------------------------------------------------------------------------------------


def known_ids(con: duckdb.DuckDBPyConnection, ids: Iterable[Identifier]) -> dict[Identifier, str]:
    """The work of each of ``ids`` already in work_ids."""
    return {i: work for i, (work, _) in lookup_ids(con, ids).items()}


def lookup_ids(
    con: duckdb.DuckDBPyConnection, ids: Iterable[Identifier]
) -> dict[Identifier, tuple[str, str]]:
    """(work, asserted_by) of each of ``ids`` already in work_ids: what ``resolve`` reads
    first, for a caller that needs it before (pass it as ``resolve(found=...)``)."""
    rows = sorted({(i.scheme, i.value) for i in ids})
    with staged(con, "_in_ids", spec=_ID_SPEC, rows=rows):
        found = con.execute(sql("identity.sql", "lookup_ids")).fetchall()
    return {Identifier(s, v): (w, by) for s, v, w, by in found}


@dataclass(frozen=True)
class _WorkFacts:
    """What planning needs to know of the works a set of groups touches."""

    anchors: dict[str, Identifier]
    members: dict[str, set[Identifier]]
    provisional: set[str]
    origins: dict[str, str]


def _work_facts(
    con: duckdb.DuckDBPyConnection, work_ids: Iterable[str], *, run_id: str
) -> _WorkFacts:
    """Anchor and every identifier of each of ``work_ids``, and which are provisional (minted
    in run ``run_id`` from a source's answer)."""
    rows = [(w,) for w in sorted(set(work_ids))]
    with staged(con, "_in_work_list", spec=[("work_id", "varchar")], rows=rows):
        found = con.execute(sql("identity.sql", "anchors")).fetchall()
        ids = con.execute(sql("identity.sql", "members")).fetchall()
        provisional = con.execute(sql("identity.sql", "provisional"), {"run_id": run_id})
        provisional_works = {w for (w,) in provisional.fetchall()}
    members: dict[str, set[Identifier]] = {}
    for work_id, scheme, value in ids:
        members.setdefault(work_id, set()).add(Identifier(scheme, value))
    anchors = {w: Identifier(s, v) for w, s, v, _ in found}
    origins = {w: origin for w, _, _, origin in found}
    return _WorkFacts(anchors, members, provisional_works, origins)


def resolve(
    con: duckdb.DuckDBPyConnection,
    groups: Sequence[IdGroup],
    *,
    run_id: str,
    source: str,
    found: dict[Identifier, tuple[str, str]] | None = None,
) -> Resolution:
    """Resolve ``groups`` to works and write the outcome (call inside the batch transaction).

    ``found``: ``lookup_ids`` of (at least) every identifier of ``groups``, read in the same
    transaction with nothing written since; read here when not given."""
    if found is None:
        found = lookup_ids(con, (i for g in groups for i in g.ids))
    else:  # exactly what the look-up here would have read
        found = {i: found[i] for g in groups for i in g.ids if i in found}
    known = {i: work for i, (work, _) in found.items()}
    facts = _work_facts(con, known.values(), run_id=run_id)
    res = plan_identity(
        groups, known, anchors=facts.anchors, members=facts.members,
        asserted_by={i: by for i, (_, by) in found.items()}, provisional=facts.provisional,
    )  # fmt: skip
    _write_new_works(con, res, origins=facts.origins)
    if res.merges:
        merge_works(
            con, res.merges, run_id=run_id, source=source, without_alias=res.provisional_merges
        )
    write_new_ids(con, res.new_ids, work_of=res.work_of, run_id=run_id)
    _write_reasserted(con, res.reasserted)
    _write_conflicts(con, res.conflicts, run_id=run_id)
    return res


def _write_new_works(
    con: duckdb.DuckDBPyConnection, res: Resolution, *, origins: dict[str, str]
) -> None:
    """Insert the works ``res`` mints. One minted to re-key provisional works takes their
    origin: 'citing' when all of them are known only as citing works (merge_origin does the
    rest), as it would have been had its best identifier arrived first."""
    absorbed: dict[str, list[str]] = {}
    for old, new in res.merges.items():
        absorbed.setdefault(new, []).append(origins.get(old) or "seed")
    rows = [
        (w, a.scheme, a.value, "citing" if set(absorbed.get(w, ["seed"])) == {"citing"} else "seed")
        for w, a in sorted(res.new_works.items())
    ]
    spec = [
        ("work_id", "varchar"), ("anchor_scheme", "varchar"), ("anchor_value", "varchar"),
        ("origin", "varchar"),
    ]  # fmt: skip
    with staged(con, "_in_new_works", spec=spec, rows=rows):
        con.execute(sql("identity.sql", "insert_works"))


def write_new_ids(
    con: duckdb.DuckDBPyConnection,
    new_ids: dict[Identifier, str],
    *,
    work_of: dict[Identifier, str],
    run_id: str,
) -> None:
    """Add identifiers to work_ids. References already stored that cite them keep a null
    ``cited_work_id`` until ``resolve_citations`` runs (once per run, from ``finish_run``)."""
    rows = [(i.scheme, i.value, work_of[i], by, run_id) for i, by in new_ids.items()]
    with staged(con, "_in_new_ids", spec=_NEW_ID_SPEC, rows=rows):
        con.execute(sql("identity.sql", "insert_work_ids"))


def _write_reasserted(con: duckdb.DuckDBPyConnection, reasserted: dict[Identifier, str]) -> None:
    """Name the better-ranked source (ASSERTION_ORDER) in work_ids.asserted_by of known ids."""
    if not reasserted:
        return
    rows = [(i.scheme, i.value, by) for i, by in sorted(reasserted.items())]
    spec = [*_ID_SPEC, ("asserted_by", "varchar")]
    with staged(con, "_in_reasserted", spec=spec, rows=rows):
        con.execute(sql("identity.sql", "update_asserted_by"))


def resolve_citations(con: duckdb.DuckDBPyConnection) -> int:
    """Point every reference whose cited id is in work_ids, and that does not point anywhere
    yet, at that work; returns how many references changed.

    A reference loaded before its cited work existed is settled here rather than by each load:
    finding those references means scanning all of work_references, which per load made a load's
    cost grow with the warehouse (0 -> 0.25 s per 1,000 works at 100,000 works loaded).
    """
    return con.execute(sql("identity.sql", "resolve_cited")).fetchall()[0][0]


def _write_conflicts(
    con: duckdb.DuckDBPyConnection, conflicts: list[Conflict], *, run_id: str
) -> None:
    if not conflicts:
        return
    rows = []
    now = datetime.now(UTC)
    for c in conflicts:
        ids = sorted(str(i) for i in c.group.ids)
        key = hashlib.sha256("\x00".join([c.group.asserted_by, *ids]).encode()).hexdigest()[:24]
        rows.append((key, c.group.asserted_by, ids, list(c.works), c.reason, now, run_id))
    with staged(con, "_in_conflicts", spec=_CONFLICT_SPEC, rows=rows):
        con.execute(sql("identity.sql", "insert_conflicts"))


_MERGE_STEPS = (
    "merge_losers",
    *(
        f"drop_losers_{t}"
        for t in (
            "source_records",
            "authorships",
            "authorship_institutions",
            "work_topics",
            "work_funders",
            "counts_by_year",
            "work_references",
            "work_updates",
            "work_versions",
        )
    ),
    "dedupe_citation_counts",
    "dedupe_counts_by_year",
    "dedupe_work_references",
    "dedupe_work_changes",
    "dedupe_work_citations",
    "dedupe_citing_scans",
    *(
        f"remap_{t}"
        for t in (
            "mentions",
            "work_ids",
            "work_aliases",
            "source_records",
            "authorships",
            "authorship_institutions",
            "work_topics",
            "work_funders",
            "citation_counts",
            "counts_by_year",
            "citing",
            "cited",
            "work_updates",
            "update_targets",
            "update_notices",
            "work_versions",
            "version_others",
            "work_changes",
            "cited_by",
            "citing_works",
            "citing_scans",
        )
    ),
    "merge_origin",
)


def merge_works(
    con: duckdb.DuckDBPyConnection,
    merges: dict[str, str],
    *,
    run_id: str,
    source: str,
    without_alias: Collection[str] = (),
) -> None:
    """Fold each absorbed work into its survivor, rewriting every row that references it; each
    absorbed id is kept in work_aliases, except those in ``without_alias`` (provisional works:
    their ids lived only inside the run that minted them)."""
    quiet = set(without_alias)
    rows = [(old, new, old not in quiet) for old, new in sorted(merges.items())]
    log.info("merging %d work(s): %s", len(rows), ", ".join(f"{a}->{b}" for a, b, _ in rows[:5]))
    spec = [("old_id", "varchar"), ("new_id", "varchar"), ("alias", "boolean")]
    with staged(con, "_merge_map", spec=spec, rows=rows):
        for step in _MERGE_STEPS:
            con.execute(sql("identity.sql", step))
        con.execute(
            sql("identity.sql", "record_merged_aliases"), {"source": source, "run_id": run_id}
        )
        con.execute(sql("identity.sql", "delete_absorbed_works"))
    con.execute("drop table if exists _merge_losers")
