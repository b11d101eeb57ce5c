-- seed_coverage: one row per seed document. `found`: distinct identifiers extracted from it; how many
-- of them name a work that was resolved / not found / failed / pending / not yet attempted
-- (see stg_work_status). `works` counts the distinct works they name.
with ids as (
    select distinct m.document_id, m.scheme, m.value, m.work_id
    from mentions m
)
select d.document_id,
       d.path,
       count(i.value) as found,
       count(distinct i.work_id) as works,
       count(i.value) filter (where s.status = 'resolved') as resolved,
       count(i.value) filter (where s.status = 'not_found') as not_found,
       count(i.value) filter (where s.status = 'failed') as failed,
       count(i.value) filter (where s.status = 'pending') as pending,
       count(i.value) filter (where s.status = 'unattempted') as unattempted,
       d.loaded_at
from seed_documents d
left join ids i on i.document_id = d.document_id
left join stg_work_status s on s.work_id = i.work_id
group by d.document_id, d.path, d.loaded_at
order by d.path
