-- Statements of warehouse/planning.py.

-- name: work_identifiers
-- every identifier of every work, with this source's ledger row for it (if any)
select w.work_id, w.scheme, w.value, l.status, l.run_id
from work_ids w
left join fetch_ledger l on l.source = $source and l.scheme = w.scheme and l.value = w.value
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
-- row for any of its identifiers) that has no citation observation from the source; a work
-- resolved by run $exclude_run is left out (that run counts it itself)
with resolved as (
    select i.work_id, bool_or(coalesce(l.run_id = $exclude_run::varchar, false)) as this_run
    from work_ids i
    join fetch_ledger l on l.source = $source and l.scheme = i.scheme and l.value = i.value
    where l.status = 'ok'
    group by i.work_id
)
select w.work_id, w.scheme, w.value, l.status
from resolved r
join work_ids w on w.work_id = r.work_id
left join fetch_ledger l on l.source = $source and l.scheme = w.scheme and l.value = w.value
where not r.this_run
  and not exists (select 1 from citation_counts c where c.work_id = r.work_id and c.source = $source)
order by w.work_id, w.scheme, w.value;
