-- Statements of warehouse/export.py.

-- name: relations
-- Every table and view users query, with the column that ties its rows to a work (null when
-- none does). raw_responses is left out: it is raw_response_meta joined to raw_response_parts,
-- both exported, and building it aggregates every stored body (see migrations/004). The
-- who-cites relations (work_citations, cited_by) belong to the work cited: a subset keeps who
-- cites its works; work_references belongs to the citing work: a subset keeps its works'
-- reference lists.
select t.table_name as name,
       t.table_type = 'VIEW' as is_view,
       case when list_contains(list(c.column_name), 'work_id') then 'work_id'
            when t.table_name in ('work_citations', 'cited_by') then 'cited_work_id'
            when list_contains(list(c.column_name), 'citing_work_id') then 'citing_work_id'
       end as work_column
from information_schema.tables t
join information_schema.columns c
  on c.table_schema = t.table_schema and c.table_name = t.table_name
where t.table_catalog = current_database() and t.table_schema = 'main'
  and t.table_name <> 'raw_responses'
group by t.table_name, t.table_type
order by t.table_name;

-- name: bib_works
-- One row per work of report_scope, in scope order, between two ordinals: what a citation
-- needs. The ISSN is the ISSN-L; the language and the abstract are the precedence's choice.
select w.work_id, w.type, w.title, w.venue, w.publication_year, w.publication_date, w.volume,
       w.issue, w.pages, w.doi, w.pmid, w.pmcid, w.openalex_id, w.issn_l, w.publisher,
       w.language, w.abstract
from report_scope s
join works w using (work_id)
where s.ordinal > $after and s.ordinal <= $until
order by s.ordinal;

-- name: bib_authors
-- The authors of the same works, from the one source per work that the bibliographic precedence
-- prefers among those that listed authors (Crossref and PubMed split names, OpenAlex does not).
with chosen as (
    select a.work_id, min(p.bibliographic) as rank
    from report_scope s
    join authorships a using (work_id)
    join source_precedence p on p.source = a.source
    where s.ordinal > $after and s.ordinal <= $until
    group by a.work_id
)
select a.work_id, a.position, a.raw_name, a.family, a.given, a.is_collective
from chosen c
join source_precedence p on p.bibliographic = c.rank
join authorships a on a.work_id = c.work_id and a.source = p.source
order by a.work_id, a.position;
