-- Statements of warehouse/citations.py. _in_cited(work_id) lists the cited works of a batch.

-- name: held
select cited_work_id, source, count(*) from work_citations
where cited_work_id in (select work_id from _in_cited)
group by all;

-- name: existing
select cited_work_id, source, citing_scheme, citing_value from work_citations
where cited_work_id in (select work_id from _in_cited);

-- Works a seed document names as its own subject: the cap never applies to them.
-- name: subjects
select distinct work_id from mentions
where role = 'subject' and work_id in (select work_id from _in_cited);

-- name: insert_work_citations
insert into work_citations by name select * from _in_work_citations on conflict do nothing;

-- name: touch_work_citations
update work_citations set last_seen_at = greatest(work_citations.last_seen_at, i.last_seen_at)
from _in_seen i
where work_citations.cited_work_id = i.cited_work_id and work_citations.source = i.source
  and work_citations.citing_scheme = i.citing_scheme and work_citations.citing_value = i.citing_value;

-- Works known only as citing works: planned for enrichment only with `--expand citing`.
-- name: mark_citing_origin
update works set origin = 'citing' where work_id in (select work_id from _in_new_citing);

-- name: upsert_citing_scans
insert into citing_scans by name
select a.work_id, $source as source,
       (select arg_max(c.cited_by_count, c.observed_at) from citation_counts c
        where c.work_id = a.work_id and c.source = $source) as cited_by_count,
       (select count(*) from work_citations w
        where w.cited_work_id = a.work_id and w.source = $source)::integer as citing_found,
       a.complete, now() as scanned_at, $run_id as run_id
from _in_scanned a
on conflict (work_id, source) do update set
    cited_by_count = excluded.cited_by_count, citing_found = excluded.citing_found,
    complete = excluded.complete, scanned_at = excluded.scanned_at, run_id = excluded.run_id;
