-- Data-quality checks. Each `-- name:` block selects the offending rows; a healthy warehouse
-- returns none from every block. Run them with warehouse.query.check_quality(con).

-- name: duplicate_works
select work_id from works group by work_id having count(*) > 1;

-- name: duplicate_work_ids
select scheme, value from work_ids group by scheme, value having count(*) > 1;

-- name: duplicate_source_records
select work_id, source from source_records group by work_id, source having count(*) > 1;

-- name: duplicate_citation_observations
select work_id, source, run_id from citation_counts group by all having count(*) > 1;

-- name: duplicate_references
select citing_work_id, source, ref_key from work_references group by all having count(*) > 1;

-- name: duplicate_ledger_rows
select source, scheme, value from fetch_ledger group by all having count(*) > 1;

-- name: mentions_without_work
select m.* from mentions m left join works w on w.work_id = m.work_id where w.work_id is null;

-- name: mentions_without_document
select m.* from mentions m left join seed_documents d on d.document_id = m.document_id
where d.document_id is null;

-- name: work_ids_without_work
select i.* from work_ids i left join works w on w.work_id = i.work_id where w.work_id is null;

-- name: works_without_their_anchor
select w.work_id from works w
left join work_ids i on i.scheme = w.anchor_scheme and i.value = w.anchor_value and i.work_id = w.work_id
where i.work_id is null;

-- name: aliases_without_work
select a.* from work_aliases a left join works w on w.work_id = a.work_id where w.work_id is null;

-- name: merged_works_still_present
select a.* from work_aliases a join works w on w.work_id = a.alias_value where a.kind = 'merged_work';

-- name: source_records_without_work
select s.work_id, s.source from source_records s left join works w on w.work_id = s.work_id
where w.work_id is null;

-- name: orphan_authorships
select a.work_id, a.source, a.position from authorships a
left join source_records s on s.work_id = a.work_id and s.source = a.source
where s.work_id is null;

-- A load skips its slice deletes when source_records holds none of its (work, source) slices,
-- so per-source rows must never outlive their source_records row (seed references have none;
-- authorships are orphan_authorships, above).
-- name: slice_rows_without_source_record
select t.tbl, t.work_id, t.source from (
    select 'authorship_institutions' as tbl, work_id, source from authorship_institutions
    union all
    select 'work_references', citing_work_id, source from work_references where source <> 'seed'
    union all
    select 'work_topics', work_id, source from work_topics
    union all
    select 'work_funders', work_id, source from work_funders
    union all
    select 'work_updates', work_id, source from work_updates
    union all
    select 'work_versions', work_id, source from work_versions
) t
left join source_records s on s.work_id = t.work_id and s.source = t.source
where s.work_id is null;

-- name: authorships_without_author
select a.work_id, a.source, a.position from authorships a
left join authors p on p.author_id = a.author_id where p.author_id is null;

-- name: authorship_institutions_without_institution
select a.* from authorship_institutions a
left join institutions i on i.institution_id = a.institution_id where i.institution_id is null;

-- name: references_from_missing_work
select r.citing_work_id, r.source, r.ref_key from work_references r
left join works w on w.work_id = r.citing_work_id where w.work_id is null;

-- name: references_to_missing_work
select r.citing_work_id, r.source, r.ref_key from work_references r
left join works w on w.work_id = r.cited_work_id
where r.cited_work_id is not null and w.work_id is null;

-- A reference loaded before its cited work existed is pointed at it when a run finishes
-- (finish_run settles every such reference), so only an id known before the last finish counts.
-- name: references_left_unresolved
select r.citing_work_id, r.source, r.ref_key from work_references r
join work_ids i on i.scheme = r.cited_scheme and i.value = r.cited_value
where r.cited_work_id <> i.work_id
   or (r.cited_work_id is null
       and i.first_seen_at < (select max(finished_at) from runs where finished_at is not null));

-- name: work_topics_without_topic
select t.* from work_topics t left join topics p on p.topic_id = t.topic_id where p.topic_id is null;

-- name: work_funders_without_funder
select f.* from work_funders f left join funders p on p.funder_id = f.funder_id
where p.funder_id is null;

-- name: citation_counts_without_work
select c.* from citation_counts c left join works w on w.work_id = c.work_id where w.work_id is null;

-- name: negative_counts
select work_id, source, 'citation_counts' as tbl from citation_counts where cited_by_count < 0
union all select work_id, source, 'counts_by_year' from counts_by_year where cited_by_count < 0
union all select work_id, source, 'source_records' from source_records where cited_by_count < 0;

-- name: secrets_in_stored_urls
select raw_id, request_url from raw_response_meta
where regexp_matches(request_url, '[?&](api[_-]?key|apikey|access_token|token)=', 'i');

-- name: raw_bodies_incomplete
-- A stored answer whose parts do not add up to its body (raw_responses would return it cut).
select m.raw_id, m.parts, m.body_chars, p.n, p.chars
from raw_response_meta m
left join (
    select raw_id, count(*) as n, sum(length(text)) as chars, max(part) as last
    from raw_response_parts group by raw_id
) p using (raw_id)
where p.raw_id is null or p.n <> m.parts or p.last <> m.parts - 1 or p.chars <> m.body_chars;

-- name: raw_parts_without_answer
select p.raw_id, p.part from raw_response_parts p
left join raw_response_meta m using (raw_id) where m.raw_id is null;

-- name: reference_entries_without_document
select e.document_id, e.start from reference_entries e
left join seed_documents d on d.document_id = e.document_id
where d.document_id is null;

-- name: matched_strings_without_a_work_id
select text_hash from reference_matches
where status = 'matched' and doi is null and pmid is null;

-- name: notes_without_answer
-- A data-quality note names the stored answer it was found in (null only for a note made
-- without one).
select n.note_id, n.raw_id from data_quality_notes n
left join raw_response_meta m using (raw_id) where n.raw_id is not null and m.raw_id is null;

-- name: links_to_missing_work
select t.tbl, t.work_id, t.other from (
    select 'work_updates' as tbl, work_id, target_work_id as other from work_updates
    union all
    select 'work_updates', work_id, notice_work_id from work_updates
    union all
    select 'work_versions', work_id, other_work_id from work_versions
    union all
    select 'work_citations', citing_work_id, cited_work_id from work_citations
    union all
    select 'work_citations', cited_work_id, citing_work_id from work_citations
    union all
    select 'work_changes', work_id, work_id from work_changes
    union all
    select 'citing_scans', work_id, work_id from citing_scans
) t
left join works w on w.work_id = t.other
where t.other is not null and w.work_id is null;

-- An update or version loaded before the work it names existed points at it when a run
-- finishes (finish_run settles every such link), so only an id known before the last finish counts.
-- name: links_left_unresolved
select u.work_id, u.source, u.update_key as link from work_updates u
join work_ids i on (i.scheme = u.target_scheme and i.value = u.target_value)
where (u.target_work_id is null and i.first_seen_at < (select max(finished_at) from runs))
   or u.target_work_id <> i.work_id
union all
select v.work_id, v.source, v.other_scheme || ':' || v.other_value from work_versions v
join work_ids i on i.scheme = v.other_scheme and i.value = v.other_value
where (v.other_work_id is null and i.first_seen_at < (select max(finished_at) from runs))
   or v.other_work_id <> i.work_id;
