-- family_citations: one row per work: its citations beside those of its version family
-- (version_families; a work without other versions is a family of one). cited_by_count is the
-- work's own count (works.cited_by_count); family_cited_by_sum adds its versions' counts (a work
-- citing two versions is counted twice); citing_works and family_citing_works count distinct
-- citing works listed in work_citations (deduplicated across versions and sources).
with fam as (
    select w.work_id,
           coalesce(f.family_id, w.work_id) as family_id,
           coalesce(f.family_size, 1) as family_size
    from works w
    left join version_families f on f.work_id = w.work_id
    where w.origin is distinct from 'citing'
),
own as (
    select cited_work_id as work_id, count(distinct citing_work_id) as citing_works
    from work_citations group by cited_work_id
),
counts as (
    select fam.family_id, sum(w.cited_by_count) as family_cited_by_sum
    from fam join works w on w.work_id = fam.work_id
    group by fam.family_id
),
citers as (
    select fam.family_id, count(distinct c.citing_work_id) as family_citing_works
    from fam join work_citations c on c.cited_work_id = fam.work_id
    group by fam.family_id
)
select fam.work_id,
       fam.family_id,
       fam.family_size,
       w.cited_by_count,
       counts.family_cited_by_sum,
       coalesce(own.citing_works, 0) as citing_works,
       coalesce(citers.family_citing_works, 0) as family_citing_works
from fam
join works w on w.work_id = fam.work_id
join counts on counts.family_id = fam.family_id
left join citers on citers.family_id = fam.family_id
left join own on own.work_id = fam.work_id
