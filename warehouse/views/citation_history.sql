-- citation_history: one row per observation (work, source, run), oldest first, with the previous
-- observation of the same work and source and the change since it.
select c.work_id,
       w.title,
       c.source,
       c.observed_at,
       c.cited_by_count,
       lag(c.cited_by_count) over past as previous_count,
       lag(c.observed_at) over past as previous_observed_at,
       c.cited_by_count - lag(c.cited_by_count) over past as change,
       c.run_id
from citation_counts c
left join works w on w.work_id = c.work_id
window past as (partition by c.work_id, c.source order by c.observed_at, c.run_id)
