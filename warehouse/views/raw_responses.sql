-- raw_responses: one row per stored API answer, as fetched (the contract's table). Bodies are
-- stored in parts (raw_response_parts, see migrations/004) and joined back here in order. A lookup by
-- raw_id, source or run reads only the parts it needs; a query over every body aggregates them
-- all (for heavy scans, filter on raw_response_meta first).
select m.raw_id, m.source, m.endpoint, m.request_url, m.fetched_at, m.http_status,
       m.content_type, coalesce(b.body, '') as body, m.requested, m.run_id
from raw_response_meta m
left join (
    select raw_id, string_agg(text, '' order by part) as body
    from raw_response_parts
    group by raw_id
) b using (raw_id)
