-- citation_latest: one row per (work, source): the newest citation count observation.
select work_id,
       source,
       arg_max(cited_by_count, observed_at) as cited_by_count,
       max(observed_at) as observed_at,
       arg_max(run_id, observed_at) as run_id,
       count(*) as observations
from citation_counts
group by work_id, source
