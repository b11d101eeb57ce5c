-- retracted_works: one row per work in the warehouse that a source says is retracted (a
-- retraction or removal notice in work_updates, or a source record flagged is_retracted), with
-- its notices and the earliest retraction date a notice gives. Join it to your seeds through
-- mentions.work_id: "which of my references were retracted, and when".
with notices as (
    select u.target_work_id as work_id,
           min(u.update_date) as retracted_on,
           list_sort(list(distinct u.notice_value) filter (where u.notice_scheme = 'doi')) as notice_dois,
           list_sort(list(distinct u.notice_value) filter (where u.notice_scheme = 'pmid')) as notice_pmids,
           list_sort(list(distinct u.notice_work_id) filter (where u.notice_work_id is not null
                                                            and u.notice_work_id <> u.target_work_id)) as notice_work_ids,
           list_sort(list(distinct u.source)) as notice_sources,
           list_sort(list(distinct u.asserted_by) filter (where u.asserted_by is not null)) as asserted_by,
           list_sort(list(distinct u.record_id) filter (where u.record_id is not null)) as retraction_watch_ids
    from work_updates u
    where u.kind in ('retraction', 'removal', 'withdrawal') and u.target_work_id is not null
    group by u.target_work_id
),
flags as (
    select work_id, list_sort(list(distinct source)) as flagged_by
    from source_records
    where is_retracted
    group by work_id
)
select w.work_id,
       w.doi,
       w.pmid,
       w.title,
       w.publication_year,
       n.retracted_on,
       coalesce(n.notice_dois, []) as notice_dois,
       coalesce(n.notice_pmids, []) as notice_pmids,
       coalesce(n.notice_work_ids, []) as notice_work_ids,
       list_sort(list_distinct(list_concat(coalesce(n.notice_sources, []), coalesce(f.flagged_by, [])))) as sources,
       coalesce(n.asserted_by, []) as asserted_by,
       coalesce(n.retraction_watch_ids, []) as retraction_watch_ids
from works w
left join notices n on n.work_id = w.work_id
left join flags f on f.work_id = w.work_id
where n.work_id is not null or f.work_id is not null
