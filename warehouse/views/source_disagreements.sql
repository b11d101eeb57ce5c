-- source_disagreements: one row per (work, field) where sources disagree. Fields: title (compared
-- lower-cased, markup and everything but letters and digits removed), publication_year, venue
-- (compared like titles, after dropping a leading 'The', reading '&' as 'and' and cutting what
-- follows ' : ' or ' = ', which PubMed's journal titles append: 'Journal of clinical oncology :
-- official journal of ...'), and cited_by_count (each source's newest observation; any
-- difference counts, relative_difference lets you ignore small ones). Values per source are
-- shown as text.
with titles as (
    select work_id, source, title as shown,
           regexp_replace(regexp_replace(lower(title), '<[^>]+>', '', 'g'), '[^\p{L}\p{N}]+', '', 'g') as compared
    from source_records where title is not null
),
years as (
    select work_id, source, publication_year::varchar as shown, publication_year::varchar as compared
    from source_records where publication_year is not null
),
venues as (
    select work_id, source, venue as shown,
           regexp_replace(
               regexp_replace(
                   replace(regexp_replace(lower(split_part(split_part(venue, ' : ', 1), ' = ', 1)),
                                          '<[^>]+>', '', 'g'), '&', 'and'),
                   '^\s*the\s+', ''),
               '[^\p{L}\p{N}]+', '', 'g') as compared
    from source_records where venue is not null
),
counts as (
    select work_id, source, cited_by_count::varchar as shown, cited_by_count::varchar as compared
    from citation_latest
),
facts as (
    select 'title' as field, * from titles
    union all select 'publication_year', * from years
    union all select 'venue', * from venues
    union all select 'cited_by_count', * from counts
),
numbers as (
    select work_id, max(cited_by_count) as hi, min(cited_by_count) as lo
    from citation_latest group by work_id
)
select f.work_id,
       f.field,
       max(f.shown) filter (where f.source = 'openalex') as openalex,
       max(f.shown) filter (where f.source = 'crossref') as crossref,
       max(f.shown) filter (where f.source = 'pubmed') as pubmed,
       count(distinct f.compared) as distinct_values,
       case when f.field = 'cited_by_count' and any_value(n.hi) > 0
            then round((any_value(n.hi) - any_value(n.lo)) / any_value(n.hi), 3) end as relative_difference
from facts f
left join numbers n on n.work_id = f.work_id
group by f.work_id, f.field
having count(distinct f.compared) > 1
