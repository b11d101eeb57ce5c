-- Statements of warehouse/query.py.

-- name: ledger_by_source
select source, status, count(*) as n from fetch_ledger group by source, status order by source, status;

-- name: ledger_agencies
-- not_in_source rows per source and registration agency (last_error: 'registration agency: X')
select source, last_error, count(*) as n from fetch_ledger
where status = 'not_in_source' group by source, last_error order by source, n desc, last_error;

-- name: last_runs
select run_id, flow, status, started_at, finished_at, summary
from runs order by started_at desc limit $limit;

-- name: totals
select (select count(*) from works) as works,
       (select count(*) from work_ids) as identifiers,
       (select count(*) from source_records) as source_records,
       (select count(*) from citation_counts) as citation_observations,
       (select count(*) from works where origin = 'citing') as citing_works,
       (select count(*) from retracted_works) as retracted_works;

-- name: base_tables
select table_name from information_schema.tables
where table_schema = 'main' and table_type = 'BASE TABLE'
order by table_name;
