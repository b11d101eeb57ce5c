-- works_missing_source: one row per (work, source) where that source has no record of the work,
-- with what the ledger says about asking it (best status over the work's identifiers:
-- ok > not_in_source > not_found > failed > pending; 'unattempted' when it was never asked). Works known only as
-- citing works (origin 'citing') are left out until they are asked (`--expand citing`).
with sources as (
    select unnest(['openalex', 'crossref', 'pubmed']) as source
),
asked as (
    select i.work_id, l.source,
           case min(case l.status when 'ok' then 1 when 'not_in_source' then 2 when 'not_found' then 3
                                  when 'failed' then 4 else 5 end)
               when 1 then 'ok' when 2 then 'not_in_source' when 3 then 'not_found' when 4 then 'failed'
               else 'pending' end as status,
           sum(l.attempts) as attempts,
           arg_max(l.last_error, l.last_attempt_at) as last_error,
           max(l.last_attempt_at) as last_attempt_at
    from work_ids i
    join fetch_ledger l on l.scheme = i.scheme and l.value = i.value
    group by i.work_id, l.source
)
select w.work_id,
       s.source,
       w.doi,
       w.pmid,
       w.pmcid,
       w.openalex_id,
       coalesce(a.status, 'unattempted') as ledger_status,
       coalesce(a.attempts, 0) as attempts,
       a.last_error,
       a.last_attempt_at
from works w
cross join sources s
left join source_records r on r.work_id = w.work_id and r.source = s.source
left join asked a on a.work_id = w.work_id and a.source = s.source
where r.work_id is null
  and not (w.origin = 'citing' and a.status is null)
