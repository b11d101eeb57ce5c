-- Statements of warehouse/identity.py. Merges read the staged relation _merge_map(old_id, new_id):
-- every absorbed work_id mapped to its final survivor (chains already flattened).

-- name: lookup_ids
select i.scheme, i.value, w.work_id, w.asserted_by
from _in_ids i join work_ids w on w.scheme = i.scheme and w.value = i.value;

-- name: anchors
select w.work_id, w.anchor_scheme, w.anchor_value, w.origin
from works w join _in_work_list l on l.work_id = w.work_id;

-- name: members
select i.work_id, i.scheme, i.value
from work_ids i join _in_work_list l on l.work_id = i.work_id;

-- Provisional works: minted in this run from a source's answer (their anchor's crosswalk row is
-- this run's and no seed asserts it). identity.py re-anchors them and lets settled works absorb them.
-- name: provisional
select w.work_id
from works w
join _in_work_list l on l.work_id = w.work_id
join work_ids i on i.scheme = w.anchor_scheme and i.value = w.anchor_value
where i.run_id = $run_id and i.asserted_by <> 'seed';

-- name: insert_works
insert into works (work_id, anchor_scheme, anchor_value, created_at, updated_at, origin)
select work_id, anchor_scheme, anchor_value, now(), now(), origin from _in_new_works
on conflict do nothing;

-- name: insert_work_ids
insert into work_ids (scheme, value, work_id, asserted_by, first_seen_at, run_id)
select scheme, value, work_id, asserted_by, now(), run_id from _in_new_ids
on conflict do nothing;

-- name: update_asserted_by
update work_ids set asserted_by = r.asserted_by
from _in_reasserted r
where work_ids.scheme = r.scheme and work_ids.value = r.value;

-- name: insert_conflicts
insert into identity_conflicts by name
select * from _in_conflicts
on conflict do nothing;

-- When two works both have a record from one source, the newer record wins (ties: the survivor's);
-- the loser's record and everything derived from it go.
-- name: merge_losers
create or replace temp table _merge_losers as
select work_id, source from (
    select s.work_id, s.source,
           row_number() over (
               partition by coalesce(m.new_id, s.work_id), s.source
               order by s.fetched_at desc, (m.old_id is null) desc, s.work_id
           ) as rn
    from source_records s left join _merge_map m on s.work_id = m.old_id
    where s.work_id in (select old_id from _merge_map union select new_id from _merge_map)
) where rn > 1;

-- name: drop_losers_source_records
delete from source_records t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- name: drop_losers_authorships
delete from authorships t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- name: drop_losers_authorship_institutions
delete from authorship_institutions t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- name: drop_losers_work_topics
delete from work_topics t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- name: drop_losers_work_funders
delete from work_funders t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- name: drop_losers_counts_by_year
delete from counts_by_year t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- name: drop_losers_work_references
delete from work_references t using _merge_losers l
where t.citing_work_id = l.work_id and t.source = l.source;

-- name: drop_losers_work_updates
delete from work_updates t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- name: drop_losers_work_versions
delete from work_versions t using _merge_losers l where t.work_id = l.work_id and t.source = l.source;

-- Rows keyed by more than (work, source) can still collide after the remap: keep the newest.
-- name: dedupe_citation_counts
delete from citation_counts where rowid in (
    select rid from (
        select c.rowid as rid,
               row_number() over (
                   partition by coalesce(m.new_id, c.work_id), c.source, c.run_id
                   order by c.observed_at desc, (m.old_id is null) desc, c.work_id
               ) as rn
        from citation_counts c left join _merge_map m on c.work_id = m.old_id
        where c.work_id in (select old_id from _merge_map union select new_id from _merge_map)
    ) where rn > 1
);

-- name: dedupe_counts_by_year
delete from counts_by_year where rowid in (
    select rid from (
        select c.rowid as rid,
               row_number() over (
                   partition by coalesce(m.new_id, c.work_id), c.source, c.year
                   order by c.observed_at desc, (m.old_id is null) desc, c.work_id
               ) as rn
        from counts_by_year c left join _merge_map m on c.work_id = m.old_id
        where c.work_id in (select old_id from _merge_map union select new_id from _merge_map)
    ) where rn > 1
);

-- name: dedupe_work_references
delete from work_references where rowid in (
    select rid from (
        select r.rowid as rid,
               row_number() over (
                   partition by coalesce(m.new_id, r.citing_work_id), r.source, r.ref_key
                   order by (m.old_id is null) desc, r.citing_work_id
               ) as rn
        from work_references r left join _merge_map m on r.citing_work_id = m.old_id
        where r.citing_work_id in (select old_id from _merge_map union select new_id from _merge_map)
    ) where rn > 1
);

-- name: dedupe_work_changes
delete from work_changes where rowid in (
    select rid from (
        select c.rowid as rid,
               row_number() over (
                   partition by coalesce(m.new_id, c.work_id), c.source, c.field, c.changed_at
                   order by (m.old_id is null) desc, c.work_id
               ) as rn
        from work_changes c left join _merge_map m on c.work_id = m.old_id
        where c.work_id in (select old_id from _merge_map union select new_id from _merge_map)
    ) where rn > 1
);

-- name: dedupe_work_citations
delete from work_citations where rowid in (
    select rid from (
        select c.rowid as rid,
               row_number() over (
                   partition by coalesce(m.new_id, c.cited_work_id), c.source, c.citing_scheme,
                                c.citing_value
                   order by c.first_seen_at, (m.old_id is null) desc, c.cited_work_id
               ) as rn
        from work_citations c left join _merge_map m on c.cited_work_id = m.old_id
        where c.cited_work_id in (select old_id from _merge_map union select new_id from _merge_map)
    ) where rn > 1
);

-- name: dedupe_citing_scans
delete from citing_scans where rowid in (
    select rid from (
        select c.rowid as rid,
               row_number() over (
                   partition by coalesce(m.new_id, c.work_id), c.source
                   order by c.scanned_at desc, (m.old_id is null) desc, c.work_id
               ) as rn
        from citing_scans c left join _merge_map m on c.work_id = m.old_id
        where c.work_id in (select old_id from _merge_map union select new_id from _merge_map)
    ) where rn > 1
);

-- name: remap_mentions
update mentions set work_id = m.new_id from _merge_map m where mentions.work_id = m.old_id;

-- name: remap_work_ids
update work_ids set work_id = m.new_id from _merge_map m where work_ids.work_id = m.old_id;

-- name: remap_work_aliases
update work_aliases set work_id = m.new_id from _merge_map m where work_aliases.work_id = m.old_id;

-- name: remap_source_records
update source_records set work_id = m.new_id from _merge_map m where source_records.work_id = m.old_id;

-- name: remap_authorships
update authorships set work_id = m.new_id from _merge_map m where authorships.work_id = m.old_id;

-- name: remap_authorship_institutions
update authorship_institutions set work_id = m.new_id
from _merge_map m where authorship_institutions.work_id = m.old_id;

-- name: remap_work_topics
update work_topics set work_id = m.new_id from _merge_map m where work_topics.work_id = m.old_id;

-- name: remap_work_funders
update work_funders set work_id = m.new_id from _merge_map m where work_funders.work_id = m.old_id;

-- name: remap_citation_counts
update citation_counts set work_id = m.new_id from _merge_map m where citation_counts.work_id = m.old_id;

-- name: remap_counts_by_year
update counts_by_year set work_id = m.new_id from _merge_map m where counts_by_year.work_id = m.old_id;

-- name: remap_citing
update work_references set citing_work_id = m.new_id
from _merge_map m where work_references.citing_work_id = m.old_id;

-- name: remap_cited
update work_references set cited_work_id = m.new_id
from _merge_map m where work_references.cited_work_id = m.old_id;

-- name: remap_work_updates
update work_updates set work_id = m.new_id from _merge_map m where work_updates.work_id = m.old_id;

-- name: remap_update_targets
update work_updates set target_work_id = m.new_id
from _merge_map m where work_updates.target_work_id = m.old_id;

-- name: remap_update_notices
update work_updates set notice_work_id = m.new_id
from _merge_map m where work_updates.notice_work_id = m.old_id;

-- name: remap_work_versions
update work_versions set work_id = m.new_id from _merge_map m where work_versions.work_id = m.old_id;

-- name: remap_version_others
update work_versions set other_work_id = m.new_id
from _merge_map m where work_versions.other_work_id = m.old_id;

-- name: remap_work_changes
update work_changes set work_id = m.new_id from _merge_map m where work_changes.work_id = m.old_id;

-- name: remap_cited_by
update work_citations set cited_work_id = m.new_id
from _merge_map m where work_citations.cited_work_id = m.old_id;

-- name: remap_citing_works
update work_citations set citing_work_id = m.new_id
from _merge_map m where work_citations.citing_work_id = m.old_id;

-- name: remap_citing_scans
update citing_scans set work_id = m.new_id from _merge_map m where citing_scans.work_id = m.old_id;

-- A survivor is a seed work when any work merged into it was (a citing-only work that turns out
-- to be a seed's work is a seed work).
-- name: merge_origin
update works set origin = 'seed'
from (
    select m.new_id from _merge_map m join works o on o.work_id = m.old_id
    where coalesce(o.origin, 'seed') <> 'citing'
) s
where works.work_id = s.new_id;

-- name: record_merged_aliases
insert into work_aliases (alias_scheme, alias_value, work_id, kind, source, recorded_at, run_id)
select 'work_id', old_id, new_id, 'merged_work', $source, now(), $run_id from _merge_map
where alias
on conflict do nothing;

-- name: delete_absorbed_works
delete from works using _merge_map m where works.work_id = m.old_id;

-- References whose cited id is now in work_ids point at its work. Whole-table on purpose: it runs
-- once per run (finish_run), not per load, so a scan of every reference is paid once; and it also
-- settles what a run that died before finishing left behind.
-- name: resolve_cited
update work_references set cited_work_id = w.work_id
from work_ids w
where work_references.cited_work_id is null
  and work_references.cited_scheme = w.scheme and work_references.cited_value = w.value;
