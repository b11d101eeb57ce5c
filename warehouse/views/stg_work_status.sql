-- stg_work_status: one row per work. How far enrichment got for it across all sources:
--   resolved     some source returned a record for it
--   failed       not resolved, and some request about one of its ids failed
--   pending      not resolved, nothing failed, something is waiting (unreachable, deferred)
--   not_found    every source asked answered that it does not know the work (or, for
--                `not_in_source`, that another registration agency holds its identifier)
--   unattempted  nobody has been asked yet
with ledger as (
    select i.work_id,
           count(*) filter (where l.status = 'ok') as n_ok,
           count(*) filter (where l.status = 'failed') as n_failed,
           count(*) filter (where l.status = 'pending') as n_pending,
           count(*) filter (where l.status in ('not_found', 'not_in_source')) as n_not_found,
           max(l.last_attempt_at) as last_attempt_at
    from work_ids i
    join fetch_ledger l on l.scheme = i.scheme and l.value = i.value
    group by i.work_id
),
records as (
    select work_id, list(source order by source) as sources
    from source_records
    group by work_id
)
select w.work_id,
       case
           when r.work_id is not null or coalesce(l.n_ok, 0) > 0 then 'resolved'
           when coalesce(l.n_failed, 0) > 0 then 'failed'
           when coalesce(l.n_pending, 0) > 0 then 'pending'
           when coalesce(l.n_not_found, 0) > 0 then 'not_found'
           else 'unattempted'
       end as status,
       coalesce(r.sources, []) as sources,
       l.last_attempt_at
from works w
left join ledger l on l.work_id = w.work_id
left join records r on r.work_id = w.work_id
