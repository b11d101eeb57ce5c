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
