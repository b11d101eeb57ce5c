-- Statements of warehouse/load.py. `_in_<table>` relations are staged by warehouse/staging.py with
-- exactly the target table's column names, so inserts go `by name`.

-- A running run's summary names its process ({"pid": ..., "host": ...}) until finish_run
-- replaces it with the real summary; a run whose process is gone was killed: 'crashed'.
-- name: insert_run
insert into runs (run_id, flow, params, started_at, status, summary)
values ($run_id, $flow, $params, now(), 'running', $summary);

-- name: copy_runs
insert into runs by name select * from _in_runs on conflict do nothing;

-- name: running_runs
select run_id, summary from runs where status = 'running';

-- name: mark_crashed
update runs set status = 'crashed' where run_id = $run_id and status = 'running';

-- name: finish_run
update runs set finished_at = now(), status = $status, summary = $summary where run_id = $run_id;

-- name: upsert_seed_documents
insert into seed_documents by name select * from _in_seed_documents
on conflict (document_id) do update set
    path = excluded.path, loaded_at = excluded.loaded_at, mention_count = excluded.mention_count,
    problems = excluded.problems, run_id = excluded.run_id;

-- name: delete_mentions
delete from mentions using _in_seed_documents d where mentions.document_id = d.document_id;

-- name: delete_reference_entries
delete from reference_entries using _in_seed_documents d
where reference_entries.document_id = d.document_id;

-- name: insert_reference_entries
insert into reference_entries by name select * from _in_reference_entries
on conflict do nothing;

-- name: insert_mentions
insert into mentions by name select * from _in_mentions;

-- name: insert_seed_references
insert into work_references by name
select i.*, w.work_id as cited_work_id
from _in_seed_references i
left join work_ids w on w.scheme = i.cited_scheme and w.value = i.cited_value
where not exists (
    select 1 from work_references r
    where r.citing_work_id = i.citing_work_id and r.source = i.source and r.ref_key = i.ref_key
);

-- Parts before their meta row: an answer already stored (same raw_id) keeps its parts.
-- name: insert_raw_parts
insert into raw_response_parts by name
select * from _in_raw_parts
where raw_id not in (select raw_id from raw_response_meta);

-- name: insert_data_quality_notes
insert into data_quality_notes by name select * from _in_data_quality_notes on conflict do nothing;

-- name: insert_raw_meta
insert into raw_response_meta by name select * from _in_raw_meta on conflict do nothing;

-- An `ok` row stays `ok` when a later attempt fails (the data it brought is still loaded);
-- attempts accumulate. An outcome no newer than the row's last attempt is already accounted for
-- (the same batch loaded twice, or an old one replayed) and changes nothing.
-- name: upsert_ledger
insert into fetch_ledger by name select * from _in_fetch_ledger
on conflict (source, scheme, value) do update set
    status = case
        when fetch_ledger.status = 'ok' and excluded.status in ('failed', 'pending') then 'ok'
        else excluded.status end,
    http_status = coalesce(excluded.http_status, fetch_ledger.http_status),
    attempts = fetch_ledger.attempts + excluded.attempts,
    last_error = excluded.last_error,
    last_attempt_at = excluded.last_attempt_at,
    run_id = excluded.run_id
where fetch_ledger.last_attempt_at is null or excluded.last_attempt_at > fetch_ledger.last_attempt_at;

-- Whether any (work, source) slice being loaded is stored already (else its deletes are skipped).
-- name: any_slice_stored
select exists (
    select 1 from source_records t semi join _in_slices s on t.work_id = s.work_id and t.source = s.source
);

-- A source's answer about a work replaces everything that source said about it before.
-- name: delete_slice_source_records
delete from source_records t using _in_slices s where t.work_id = s.work_id and t.source = s.source;

-- name: delete_slice_authorships
delete from authorships t using _in_slices s where t.work_id = s.work_id and t.source = s.source;

-- name: delete_slice_authorship_institutions
delete from authorship_institutions t using _in_slices s
where t.work_id = s.work_id and t.source = s.source;

-- name: delete_slice_work_references
delete from work_references t using _in_slices s
where t.citing_work_id = s.work_id and t.source = s.source;

-- name: delete_slice_work_topics
delete from work_topics t using _in_slices s where t.work_id = s.work_id and t.source = s.source;

-- name: delete_slice_work_funders
delete from work_funders t using _in_slices s where t.work_id = s.work_id and t.source = s.source;

-- name: delete_slice_work_updates
delete from work_updates t using _in_slices s where t.work_id = s.work_id and t.source = s.source;

-- name: delete_slice_work_versions
delete from work_versions t using _in_slices s where t.work_id = s.work_id and t.source = s.source;

-- The stored rows of the slices being replaced, to compare with the new answer (work_changes).
-- name: stored_slices
select t.* from source_records t semi join _in_slices s on t.work_id = s.work_id and t.source = s.source;

-- When an update or a version was first seen survives the slice's replacement.
-- name: stored_update_first_seen
select t.work_id, t.source, t.update_key, t.first_seen_at
from work_updates t semi join _in_slices s on t.work_id = s.work_id and t.source = s.source;

-- name: stored_version_first_seen
select t.work_id, t.source, t.relation, t.other_scheme, t.other_value, t.first_seen_at
from work_versions t semi join _in_slices s on t.work_id = s.work_id and t.source = s.source;

-- name: insert_work_updates
insert into work_updates by name
select i.*, t.work_id as target_work_id, n.work_id as notice_work_id
from _in_work_updates i
left join work_ids t on t.scheme = i.target_scheme and t.value = i.target_value
left join work_ids n on n.scheme = i.notice_scheme and n.value = i.notice_value;

-- name: insert_work_versions
insert into work_versions by name
select i.*, o.work_id as other_work_id
from _in_work_versions i
left join work_ids o on o.scheme = i.other_scheme and o.value = i.other_value;

-- History: a change already recorded (the same answers compared again) is kept as it was.
-- name: upsert_work_changes
insert into work_changes by name select * from _in_work_changes on conflict do nothing;

-- name: insert_source_records
insert into source_records by name select * from _in_source_records;

-- name: insert_authorships
insert into authorships by name select * from _in_authorships;

-- name: insert_authorship_institutions
insert into authorship_institutions by name select * from _in_authorship_institutions;

-- name: insert_work_topics
insert into work_topics by name select * from _in_work_topics;

-- name: insert_work_funders
insert into work_funders by name select * from _in_work_funders;

-- name: insert_work_references
insert into work_references by name
select i.*, w.work_id as cited_work_id
from _in_work_references i
left join work_ids w on w.scheme = i.cited_scheme and w.value = i.cited_value;

-- name: upsert_authors
insert into authors by name select * from _in_authors
on conflict (author_id) do update set
    display_name = excluded.display_name,
    family = coalesce(excluded.family, authors.family),
    given = coalesce(excluded.given, authors.given),
    orcid = coalesce(excluded.orcid, authors.orcid),
    openalex_id = coalesce(excluded.openalex_id, authors.openalex_id),
    updated_at = excluded.updated_at;

-- name: upsert_institutions
insert into institutions by name select * from _in_institutions
on conflict (institution_id) do update set
    name = coalesce(excluded.name, institutions.name),
    ror = coalesce(excluded.ror, institutions.ror),
    openalex_id = coalesce(excluded.openalex_id, institutions.openalex_id),
    country_code = coalesce(excluded.country_code, institutions.country_code),
    type = coalesce(excluded.type, institutions.type);

-- name: upsert_venues
insert into venues by name select * from _in_venues
on conflict (venue_id) do update set
    issn_l = coalesce(excluded.issn_l, venues.issn_l),
    issns = coalesce(excluded.issns, venues.issns),
    name = coalesce(excluded.name, venues.name),
    abbrev = coalesce(excluded.abbrev, venues.abbrev),
    publisher = coalesce(excluded.publisher, venues.publisher),
    updated_at = excluded.updated_at;

-- name: upsert_topics
insert into topics by name select * from _in_topics on conflict do nothing;

-- name: upsert_funders
insert into funders by name select * from _in_funders
on conflict (funder_id) do update set name = coalesce(excluded.name, funders.name);

-- name: upsert_citation_counts
insert into citation_counts by name select * from _in_citation_counts
on conflict (work_id, source, run_id) do update set
    cited_by_count = excluded.cited_by_count, observed_at = excluded.observed_at;

-- name: upsert_counts_by_year
insert into counts_by_year by name select * from _in_counts_by_year
on conflict (work_id, source, year) do update set
    cited_by_count = excluded.cited_by_count, observed_at = excluded.observed_at
where excluded.observed_at >= counts_by_year.observed_at;

-- name: upsert_source_aliases
insert into work_aliases by name select * from _in_work_aliases
on conflict (alias_scheme, alias_value) do update set
    work_id = excluded.work_id, recorded_at = excluded.recorded_at, run_id = excluded.run_id;

-- name: lookup_counted
select i.scheme, i.value, w.work_id
from _in_ids i join work_ids w on w.scheme = i.scheme and w.value = i.value;

-- `works` is derived: each field from the first source by `source_precedence` that has it;
-- identifiers from work_ids, preferring the one the owning source keys the work by.
-- name: recompute_works
update works set
    doi = f.doi, pmid = f.pmid, pmcid = f.pmcid, arxiv = f.arxiv, openalex_id = f.openalex_id,
    title = f.title, publication_year = f.publication_year,
    publication_date = f.publication_date, venue = f.venue, venue_id = f.venue_id,
    issn_l = f.issn_l, publisher = f.publisher, type = f.type, volume = f.volume,
    issue = f.issue, pages = f.pages, abstract = f.abstract, language = f.language,
    is_oa = f.is_oa, oa_status = f.oa_status, license = f.license, sources = f.sources,
    cited_by_count = f.cited_by_count, is_retracted = f.is_retracted, updated_at = now()
from (
    with affected as (
        select distinct a.work_id from _in_affected a join works w on w.work_id = a.work_id
    ),
    recs as (
        select s.*, p.bibliographic, p.abstract as abstract_rank, p.enrichment
        from source_records s
        join affected a on a.work_id = s.work_id
        join source_precedence p on p.source = s.source
    ),
    keys as (
        select work_id,
               lower(max(source_key) filter (where source = 'crossref')) as crossref_key,
               max(source_key) filter (where source = 'pubmed') as pubmed_key,
               max(source_key) filter (where source = 'openalex') as openalex_key
        from recs group by work_id
    ),
    ids as (
        select i.work_id,
               coalesce(min(i.value) filter (where i.scheme = 'doi' and i.value = k.crossref_key),
                        min(i.value) filter (where i.scheme = 'doi')) as doi,
               coalesce(min(i.value) filter (where i.scheme = 'pmid' and i.value = k.pubmed_key),
                        min(i.value) filter (where i.scheme = 'pmid')) as pmid,
               min(i.value) filter (where i.scheme = 'pmcid') as pmcid,
               min(i.value) filter (where i.scheme = 'arxiv') as arxiv,
               coalesce(min(i.value) filter (where i.scheme = 'openalex' and i.value = k.openalex_key),
                        min(i.value) filter (where i.scheme = 'openalex')) as openalex_id
        from work_ids i
        join affected a on a.work_id = i.work_id
        left join keys k on k.work_id = i.work_id
        group by i.work_id
    ),
    fields as (
        select work_id,
               arg_min(title, bibliographic) filter (where title is not null) as title,
               arg_min(publication_year, bibliographic) filter (where publication_year is not null) as publication_year,
               arg_min(publication_date, bibliographic) filter (where publication_date is not null) as publication_date,
               arg_min(venue, bibliographic) filter (where venue is not null) as venue,
               arg_min(venue_id, bibliographic) filter (where venue_id is not null) as venue_id,
               arg_min(issn_l, bibliographic) filter (where issn_l is not null) as issn_l,
               arg_min(publisher, bibliographic) filter (where publisher is not null) as publisher,
               arg_min(type, bibliographic) filter (where type is not null) as type,
               arg_min(volume, bibliographic) filter (where volume is not null) as volume,
               arg_min(issue, bibliographic) filter (where issue is not null) as issue,
               arg_min(pages, bibliographic) filter (where pages is not null) as pages,
               arg_min(abstract, abstract_rank) filter (where abstract is not null) as abstract,
               arg_min(language, enrichment) filter (where language is not null) as language,
               arg_min(is_oa, enrichment) filter (where is_oa is not null) as is_oa,
               arg_min(oa_status, enrichment) filter (where oa_status is not null) as oa_status,
               arg_min(license, bibliographic) filter (where license is not null) as license,
               bool_or(is_retracted) as is_retracted,
               list(source order by source) as sources
        from recs group by work_id
    ),
    latest as (
        select c.work_id, c.source, arg_max(c.cited_by_count, c.observed_at) as cited_by_count
        from citation_counts c join affected a on a.work_id = c.work_id
        group by c.work_id, c.source
    ),
    counts as (
        select l.work_id, arg_min(l.cited_by_count, p.enrichment) as cited_by_count
        from latest l join source_precedence p on p.source = l.source
        group by l.work_id
    )
    select a.work_id, ids.doi, ids.pmid, ids.pmcid, ids.arxiv, ids.openalex_id,
           fields.* exclude (work_id), counts.cited_by_count
    from affected a
    left join ids on ids.work_id = a.work_id
    left join fields on fields.work_id = a.work_id
    left join counts on counts.work_id = a.work_id
) f
where works.work_id = f.work_id;

-- name: all_works
select work_id from works;

-- name: clear_derived_data_quality_notes
delete from data_quality_notes;

-- name: clear_derived_source_records
delete from source_records;

-- name: clear_derived_authorships
delete from authorships;

-- name: clear_derived_authorship_institutions
delete from authorship_institutions;

-- name: clear_derived_work_topics
delete from work_topics;

-- name: clear_derived_work_funders
delete from work_funders;

-- name: clear_derived_counts_by_year
delete from counts_by_year;

-- name: clear_derived_work_updates
delete from work_updates;

-- name: clear_derived_work_versions
delete from work_versions;

-- name: clear_derived_work_references
delete from work_references where source <> 'seed';

-- A page of stored answers, oldest first, their bodies joined from parts (the parts of this
-- page's answers only; the raw_responses view would aggregate every body first).
-- name: raw_page
with page as (
    select raw_id, source, endpoint, request_url, http_status, content_type, fetched_at,
           requested, run_id
    from raw_response_meta
    where $after_at::timestamptz is null or fetched_at > $after_at::timestamptz
       or (fetched_at = $after_at::timestamptz and raw_id > $after_id::varchar)
    order by fetched_at, raw_id
    limit $limit
), bodies as (
    select raw_id, string_agg(text, '' order by part) as body
    from raw_response_parts
    where raw_id in (select raw_id from page)
    group by raw_id
)
select p.raw_id, p.source, p.endpoint, p.request_url, p.http_status, p.content_type,
       coalesce(b.body, '') as body, p.fetched_at, p.requested, p.run_id
from page p left join bodies b using (raw_id)
order by p.fetched_at, p.raw_id;
