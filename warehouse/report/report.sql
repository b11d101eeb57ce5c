-- Statements of warehouse/report/data.py: everything the HTML report shows, aggregated in
-- DuckDB. Each joins report_works: the works of report_scope (warehouse/scope.sql: every work,
-- or one seed document's) that are not known only as citing works (see prepare).
-- List statements end in `limit $limit` and carry `count(*) over ()` as total_rows, so the
-- report can say "the first 500 of 12,345" without a second query.

-- name: prepare
-- What several statements below read, computed once for the scope: the works the report is
-- about (report_works: the scope's works less those known only as citing works, which `enrich
-- refresh` adds to the crosswalk by the hundred and would flood every list; `enrich run
-- --expand citing` enriches them, and they stay out of the report all the same), the
-- disagreements and the missing sources (each view compares or crosses every work; read twice,
-- they cost twice).
create or replace temp table report_works as
select s.work_id, s.ordinal from report_scope s join works w using (work_id)
where w.origin is distinct from 'citing';
create or replace temp table report_disagreements as
select d.* from source_disagreements d join report_works s using (work_id)
where d.field in ('title', 'publication_year', 'venue');
create or replace temp table report_missing as
select m.* from works_missing_source m join report_works s using (work_id);

-- name: totals
select (select count(*) from report_works) as works,
       (select count(distinct m.document_id) from mentions m join report_works s using (work_id)) as documents,
       (select count(*) from work_ids i join report_works s using (work_id)) as identifiers,
       (select count(*) from source_records r join report_works s using (work_id)) as source_records,
       (select count(*) from citation_counts c join report_works s using (work_id)) as citation_observations,
       (select count(*) from retracted_works r join report_works s using (work_id)) as retracted,
       (select count(*) from report_scope s join works w using (work_id)
        where w.origin = 'citing') as citing_works,
       (select max(finished_at) from runs) as last_run_finished;

-- name: ids_by_scheme
select i.scheme, count(*) as identifiers
from work_ids i join report_works s using (work_id)
group by i.scheme
order by identifiers desc, i.scheme;

-- name: coverage_by_source
-- Works with a record from each source, out of the works in scope.
with sources as (select unnest(['openalex', 'crossref', 'pubmed']) as source)
select x.source,
       count(r.work_id) as works_with_record,
       (select count(*) from report_works) as works,
       round(100.0 * count(r.work_id) / greatest((select count(*) from report_works), 1), 1) as percent
from sources x
left join (select r.work_id, r.source from source_records r join report_works s using (work_id)) r
  on r.source = x.source
group by x.source
order by x.source;

-- name: ledger_by_source
-- Identifiers of the works in scope, per source and fetch status.
select l.source,
       count(*) filter (where l.status = 'ok') as ok,
       count(*) filter (where l.status = 'not_found') as not_found,
       count(*) filter (where l.status = 'not_in_source') as not_in_source,
       count(*) filter (where l.status = 'failed') as failed,
       count(*) filter (where l.status = 'pending') as pending
from fetch_ledger l
join work_ids i on i.scheme = l.scheme and i.value = l.value
join report_works s on s.work_id = i.work_id
group by l.source
order by l.source;

-- name: citations_over_time
-- Per source and observation day: the citations of the works in scope, each work counted at its
-- latest observation up to that day (running sum of each work's change).
with daily as (
    select c.work_id, c.source, c.observed_at::date as day,
           arg_max(c.cited_by_count, c.observed_at) as n
    from citation_counts c join report_works s using (work_id)
    group by all
),
changes as (
    select source, day,
           n - coalesce(lag(n) over (partition by work_id, source order by day), 0) as delta,
           lag(n) over (partition by work_id, source order by day) is null as first_seen
    from daily
)
select source, day,
       sum(sum(delta)) over (partition by source order by day) as citations,
       sum(count(*) filter (where first_seen)) over (partition by source order by day) as works_observed
from changes
group by source, day
order by source, day;

-- name: citations_by_year
-- Citations received per calendar year by the works in scope (OpenAlex counts_by_year: the last
-- ten years, zero years left out by OpenAlex).
select y.year, sum(y.cited_by_count) as citations, count(distinct y.work_id) as works
from counts_by_year y join report_works s using (work_id)
group by y.year
order by y.year;

-- name: top_works_by_year
-- counts_by_year of the $works most cited works in scope, one row per (work, year).
with top as (
    select w.work_id, coalesce(w.title, w.doi, w.work_id) as title, w.cited_by_count
    from works w join report_works s using (work_id)
    where w.cited_by_count is not null
    order by w.cited_by_count desc, w.work_id
    limit $works
)
select t.work_id, t.title, y.year, y.cited_by_count
from top t join counts_by_year y on y.work_id = t.work_id and y.source = 'openalex'
order by t.cited_by_count desc, t.work_id, y.year;

-- name: history_top_works
-- Every observation of the $works most cited works in scope, with the change since the last one.
with top as (
    select w.work_id, w.cited_by_count
    from works w join report_works s using (work_id)
    where w.cited_by_count is not null
    order by w.cited_by_count desc, w.work_id
    limit $works
)
select coalesce(h.title, h.work_id) as title, h.source, h.observed_at, h.cited_by_count,
       h.change, h.work_id
from citation_history h join top t using (work_id)
order by t.cited_by_count desc, h.work_id, h.source, h.observed_at;

-- name: top_movers
-- The largest changes since each work's previous observation, per source.
select coalesce(c.title, c.work_id) as title, c.source, c.previous_count, c.cited_by_count,
       c.change, c.previous_observed_at, c.observed_at, c.work_id,
       count(*) over () as total_rows
from citation_change c join report_works s using (work_id)
where c.change is not null and c.change <> 0
order by c.change desc, c.work_id, c.source
limit $limit;

-- name: most_cited
select m.rank, coalesce(m.title, m.work_id) as title, m.cited_by_count, m.publication_year,
       m.venue, m.doi, m.pmid, m.work_id, count(*) over () as total_rows
from most_cited m join report_works s using (work_id)
order by m.cited_by_count desc, m.work_id
limit $limit;

-- name: documents
-- seed_coverage of the documents whose works are in scope.
select c.path, c.found, c.works, c.resolved, c.not_found, c.failed, c.pending, c.unattempted,
       c.loaded_at, c.document_id, count(*) over () as total_rows
from seed_coverage c
where exists (select 1 from mentions m join report_works s using (work_id)
              where m.document_id = c.document_id)
order by c.path
limit $limit;

-- name: document_works
-- The works each listed document mentions (the $documents first by path; $limit per document):
-- role(s), what is known of them, which sources have them. total_rows: per document.
with docs as (
    select c.document_id from seed_coverage c
    where exists (select 1 from mentions m join report_works s using (work_id)
                  where m.document_id = c.document_id)
    order by c.path
    limit $documents
),
roles as (
    select m.document_id, m.work_id,
           string_agg(distinct m.role, ', ' order by m.role) as roles, min(m.line) as first_line
    from mentions m
    join docs d using (document_id)
    join report_works s using (work_id)
    group by m.document_id, m.work_id
)
select r.document_id, r.roles, coalesce(w.title, '') as title, w.publication_year, w.doi, w.pmid,
       w.pmcid, st.status, array_to_string(st.sources, ', ') as sources, r.first_line, w.work_id,
       count(*) over (partition by r.document_id) as total_rows
from roles r
join works w using (work_id)
join stg_work_status st using (work_id)
qualify row_number() over (partition by r.document_id order by r.first_line, w.work_id) <= $limit
order by r.document_id, r.first_line, w.work_id;

-- name: unmatched_references
-- Per listed document, the identifiers it cites (role 'reference') whose work no source has
-- resolved, with what the ledger says. (Reference lists matched by text arrive with reference
-- matching.) total_rows: per document.
with docs as (
    select c.document_id from seed_coverage c
    where exists (select 1 from mentions m join report_works s using (work_id)
                  where m.document_id = c.document_id)
    order by c.path
    limit $documents
),
cited as (
    select m.document_id, m.scheme, m.value, any_value(m.work_id) as work_id, min(m.line) as line
    from mentions m join docs d using (document_id) join report_works s using (work_id)
    where m.role = 'reference'
    group by m.document_id, m.scheme, m.value
),
unresolved as (
    select c.*, st.status
    from cited c join stg_work_status st using (work_id)
    where st.status <> 'resolved'
),
errors as (
    select l.scheme, l.value, arg_max(l.last_error, l.last_attempt_at) as last_error
    from fetch_ledger l join (select distinct scheme, value from unresolved) u using (scheme, value)
    group by l.scheme, l.value
)
select u.document_id, u.scheme, u.value, u.status, e.last_error, u.line, u.work_id,
       count(*) over (partition by u.document_id) as total_rows
from unresolved u
left join errors e using (scheme, value)
qualify row_number() over (partition by u.document_id order by u.line, u.scheme, u.value) <= $limit
order by u.document_id, u.line, u.scheme, u.value;

-- name: retracted_works
-- Works a source says are retracted (the view retracted_works: a retraction, removal or
-- withdrawal notice in work_updates, or a source record flagged is_retracted), with the
-- earliest date a notice gives, the notices' DOIs and PMIDs, and who says so.
select coalesce(r.title, r.work_id) as title, r.publication_year, w.venue, r.doi, r.pmid,
       r.retracted_on,
       array_to_string(r.notice_dois, ', ') as notice_doi,
       array_to_string(r.notice_pmids, ', ') as notice_pmid,
       array_to_string(r.sources, ', ') as retracted_per,
       array_to_string(r.asserted_by, ', ') as asserted_by,
       r.work_id, count(*) over () as total_rows
from retracted_works r join report_works s using (work_id) join works w using (work_id)
order by r.retracted_on desc nulls last, r.publication_year desc nulls last, r.work_id
limit $limit;

-- name: disagreements_by_field
select field, count(*) as works from report_disagreements group by field order by field;

-- name: disagreements
select field, openalex, crossref, pubmed, work_id, count(*) over () as total_rows
from report_disagreements
order by field, work_id
limit $limit;

-- name: missing_by_source
-- Works without a record from a source, by what the ledger says about asking it.
select m.source,
       count(*) filter (where m.ledger_status = 'not_found') as not_found,
       count(*) filter (where m.ledger_status = 'not_in_source') as not_in_source,
       count(*) filter (where m.ledger_status = 'failed') as failed,
       count(*) filter (where m.ledger_status = 'pending') as pending,
       count(*) filter (where m.ledger_status = 'unattempted') as unattempted,
       count(*) filter (where m.ledger_status = 'ok') as ok_elsewhere
from report_missing m
group by m.source
order by m.source;

-- name: missing_source
select m.source, m.ledger_status, m.doi, m.pmid, m.pmcid, m.last_error, m.work_id,
       count(*) over () as total_rows
from report_missing m
order by case m.ledger_status when 'failed' then 1 when 'pending' then 2 else 3 end,
         m.source, m.work_id
limit $limit;

-- name: failed_pending
-- Identifiers of works in scope that a source failed on or left pending, with the reason.
select l.source, l.scheme, l.value, l.status, l.http_status, l.attempts, l.last_error,
       l.last_attempt_at, i.work_id, count(*) over () as total_rows
from fetch_ledger l
join work_ids i on i.scheme = l.scheme and i.value = l.value
join report_works s on s.work_id = i.work_id
where l.status in ('failed', 'pending')
order by l.status, l.source, l.scheme, l.value
limit $limit;
