-- citation_change: one row per (work, source) with at least one observation: the newest count,
-- the one observed before it, and the change since (null when there is only one observation).
select work_id,
       title,
       source,
       cited_by_count,
       observed_at,
       previous_count,
       previous_observed_at,
       change
from (
    select h.*,
           row_number() over (partition by h.work_id, h.source order by h.observed_at desc, h.run_id desc) as recency
    from citation_history h
)
where recency = 1
