-- cited_by: one row per (cited work, citing work): who cites the works, as OpenAlex (cites:) and
-- PubMed (cited-in) list them, with the sources that list the pair and when it was first seen.
-- A citing work known only as such (origin 'citing') has ids but no record until it is enriched
-- (`enrich run --expand citing`).
select c.cited_work_id,
       c.citing_work_id,
       list_sort(list(distinct c.source)) as sources,
       min(c.first_seen_at) as first_seen_at,
       max(c.last_seen_at) as last_seen_at,
       any_value(w.doi) as citing_doi,
       any_value(w.pmid) as citing_pmid,
       any_value(w.openalex_id) as citing_openalex_id,
       any_value(w.title) as citing_title,
       any_value(w.origin) as citing_origin
from work_citations c
join works w on w.work_id = c.citing_work_id
group by c.cited_work_id, c.citing_work_id
