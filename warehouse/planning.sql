-- Statements of warehouse/planning.py.

-- name: work_identifiers
-- every identifier of every work, with this source's ledger row for it (if any); works known
-- only as citing works (origin 'citing') only when $all_works (`--expand citing`)
select w.work_id, w.scheme, w.value, l.status, l.run_id
from work_ids w
left join fetch_ledger l on l.source = $source and l.scheme = w.scheme and l.value = w.value
where $all_works or w.work_id not in (select work_id from works where origin = 'citing')
order by w.work_id, w.scheme, w.value;

-- name: resolved_elsewhere
-- works some other source answered for
select distinct w.work_id
from work_ids w
join fetch_ledger l on l.scheme = w.scheme and l.value = w.value
where l.source <> $source and l.status = 'ok';

-- name: current_run
select run_id from runs where status = 'running' order by started_at desc limit 1;

-- name: newest_observation
select w.work_id, max(c.observed_at) as newest
from works w
left join citation_counts c on c.work_id = w.work_id and c.source = $source
group by w.work_id;

-- name: uncounted
-- every identifier (with this source's ledger status) of each work the source resolved (an `ok`
-- row for any of its identifiers) that has no citation observation from the source
with resolved as (
    select distinct i.work_id
    from work_ids i
    join fetch_ledger l on l.source = $source and l.scheme = i.scheme and l.value = i.value
    where l.status = 'ok'
)
select w.work_id, w.scheme, w.value, l.status
from resolved r
join work_ids w on w.work_id = r.work_id
left join fetch_ledger l on l.source = $source and l.scheme = w.scheme and l.value = w.value
where not exists (
    select 1 from citation_counts c where c.work_id = r.work_id and c.source = $source
)
order by w.work_id, w.scheme, w.value;

-- name: citing_without_record
-- works known only as citing works that this source has no record of (nothing to refresh)
select work_id from works w
where w.origin = 'citing'
  and not exists (select 1 from source_records r where r.work_id = w.work_id and r.source = $source);

-- name: changed_works
-- works whose newest count observation (from a refresh, after the record was fetched) carries
-- another change key than the stored record: the record changed at the source. Records stored
-- before change keys existed (null) compare the source's own last-change stamp instead.
with latest as (
    select work_id,
           arg_max(change_key, observed_at) as change_key,
           arg_max(updated_date, observed_at) as updated_date,
           max(observed_at) as observed_at
    from citation_counts where source = $source
    group by work_id
)
select r.work_id, r.source_key
from latest l
join source_records r on r.work_id = l.work_id and r.source = $source
where l.observed_at > r.fetched_at
  -- a record the source no longer has (its key answered not_found since) is not asked again
  and not exists (
      select 1 from fetch_ledger f
      where f.source = $source and f.scheme = $scheme and f.value = r.source_key
        and f.status in ('not_found', 'not_in_source')
  )
  and case when r.change_key is not null
           then l.change_key is not null and l.change_key <> r.change_key
           else l.updated_date is not null and r.updated_date is not null
                and l.updated_date > r.updated_date end
order by r.work_id;

-- name: fetched_at
-- when this source's record of each staged work was fetched (_in_keys: its source_key)
select r.source_key, r.fetched_at
from source_records r semi join _in_keys k on k.source_key = r.source_key
where r.source = $source;

-- name: citing_candidates
-- works this source has a record of, with citations by its newest count, whose citing works
-- were never asked or were asked at another count, with how many citing works are held; not
-- works known only as citing works
with latest as (
    select work_id, arg_max(cited_by_count, observed_at) as cited_by_count
    from citation_counts where source = $source
    group by work_id
)
select r.work_id, r.source_key, l.cited_by_count,
       (select count(*) from work_citations c
        where c.cited_work_id = r.work_id and c.source = $source) as held,
       exists (select 1 from mentions m where m.work_id = r.work_id and m.role = 'subject')
from source_records r
join latest l on l.work_id = r.work_id
join works w on w.work_id = r.work_id
left join citing_scans s on s.work_id = r.work_id and s.source = $source
where r.source = $source and l.cited_by_count > 0 and w.origin is distinct from 'citing'
  and (s.work_id is null or s.cited_by_count is distinct from l.cited_by_count)
order by r.work_id;
