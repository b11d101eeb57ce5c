-- most_cited: one row per work with a citation count, most cited first (works.cited_by_count:
-- newest observation, by the `enrichment` source precedence).
select dense_rank() over (order by w.cited_by_count desc) as rank,
       w.work_id,
       w.cited_by_count,
       w.title,
       w.publication_year,
       w.venue,
       w.doi,
       w.pmid
from works w
where w.cited_by_count is not null
order by w.cited_by_count desc, w.work_id
