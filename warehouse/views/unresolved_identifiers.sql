-- unresolved_identifiers: one row per identifier whose work no source has resolved (no record,
-- no `ok` anywhere), with its work's status (stg_work_status), what each source said about this
-- very identifier, and the seed documents that mention it. Works known only as citing works
-- (origin 'citing') are left out until they are asked (`enrich run --expand citing`).
with per_source as (
    select scheme, value,
           list(source || ':' || status order by source) as ledger,
           sum(attempts) as attempts,
           arg_max(last_error, last_attempt_at) as last_error,
           max(last_attempt_at) as last_attempt_at
    from fetch_ledger
    group by scheme, value
),
documents as (
    select scheme, value, list(distinct document_id order by document_id) as documents
    from mentions group by scheme, value
)
select i.scheme,
       i.value,
       i.work_id,
       s.status,
       coalesce(p.ledger, []) as ledger,
       coalesce(p.attempts, 0) as attempts,
       p.last_error,
       p.last_attempt_at,
       coalesce(d.documents, []) as documents
from work_ids i
join stg_work_status s on s.work_id = i.work_id
join works w on w.work_id = i.work_id
left join per_source p on p.scheme = i.scheme and p.value = i.value
left join documents d on d.scheme = i.scheme and d.value = i.value
where s.status <> 'resolved'
  and not (w.origin = 'citing' and s.status = 'unattempted')
order by i.scheme, i.value
