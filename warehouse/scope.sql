-- Statements of warehouse/scope.py: the works a report or an export is about, held in the
-- connection's temporary table report_scope(work_id) (temporary tables work on read-only
-- connections too).

-- name: create
create or replace temp table report_scope (work_id varchar primary key, ordinal bigint);

-- name: all_works
insert into report_scope select work_id, row_number() over (order by work_id) from works;

-- name: own_works
-- Every work but those known only as citing works (origin 'citing': others' works that cite
-- these, listed by `enrich refresh`), for a bibliography of "every work".
insert into report_scope select work_id, row_number() over (order by work_id) from works
where origin is distinct from 'citing';

-- name: citing_only
select count(*) from works where origin = 'citing';

-- name: seed_works
insert into report_scope
select work_id, row_number() over (order by work_id)
from (select distinct work_id from mentions where document_id = $document_id);

-- name: listed_works
insert into report_scope
select s.work_id, row_number() over (order by s.work_id)
from (select distinct unnest($ids::varchar[]) as work_id) s
join works w using (work_id);

-- name: find_document
-- A seed document named by its document_id, its path as loaded, or the end of that path.
select document_id, path from seed_documents
where document_id = $doc or path = $doc or ends_with(path, '/' || $doc)
order by path;

-- name: known_documents
select path from seed_documents order by path limit 10;

-- name: size
select count(*) from report_scope;
