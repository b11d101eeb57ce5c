-- Statements of warehouse/matches.py (reference matching).

-- Strings to match: entries that print no identifier, not settled (matched / ambiguous /
-- unmatched) before, or every one with $refresh; an override settles a string for good.
-- name: unsettled
select e.text_hash, any_value(e.text) as text
from reference_entries e
left join reference_matches m on m.text_hash = e.text_hash
left join match_overrides o on o.text_hash = e.text_hash
where len(coalesce(e.ids, [])) = 0
  and o.text_hash is null
  and ($refresh or m.text_hash is null or m.status in ('failed', 'pending'))
group by e.text_hash
order by min(e.document_id), min(e.start);

-- name: upsert_matches
insert into reference_matches by name select * from _in_matches
on conflict (text_hash) do update set
    text = excluded.text, status = excluded.status, doi = excluded.doi, pmid = excluded.pmid,
    score = excluded.score, matched_by = excluded.matched_by, reason = excluded.reason,
    candidates = excluded.candidates, attempts = reference_matches.attempts + excluded.attempts,
    http_status = excluded.http_status, decided_at = excluded.decided_at, run_id = excluded.run_id;

-- name: settled_for
select m.text_hash, m.status, m.doi, m.pmid, m.score, m.matched_by, m.reason, m.candidates
from reference_matches m join _in_hashes h on h.text_hash = m.text_hash
where m.status in ('matched', 'ambiguous', 'unmatched');

-- name: overrides_for
select o.text_hash, o.doi, o.pmid, o.note
from match_overrides o join _in_hashes h on h.text_hash = o.text_hash;

-- name: upsert_override
insert into match_overrides (text_hash, doi, pmid, note, created_at)
values ($text_hash, $doi, $pmid, $note, now())
on conflict (text_hash) do update set
    doi = excluded.doi, pmid = excluded.pmid, note = excluded.note, created_at = excluded.created_at;

-- Every entry whose string names a work: an override first, else the matcher's "matched".
-- name: linked_entries
select e.document_id, e.start, e."end", e.line, e.section, e.text,
       coalesce(o.doi, case when o.text_hash is null then m.doi end) as doi,
       coalesce(o.pmid, case when o.text_hash is null then m.pmid end) as pmid,
       case when o.text_hash is not null then 'override' else 'matched' end as provenance,
       case when o.text_hash is not null then null else m.score end as score
from reference_entries e
left join match_overrides o on o.text_hash = e.text_hash
left join reference_matches m on m.text_hash = e.text_hash and m.status = 'matched'
where len(coalesce(e.ids, [])) = 0
  and (o.doi is not null or o.pmid is not null or (o.text_hash is null and m.text_hash is not null))
order by e.document_id, e.start;

-- name: delete_linked_mentions
delete from mentions where provenance in ('matched', 'override');

-- name: delete_linked_references
delete from work_references where source = 'seed' and provenance in ('matched', 'override');

-- name: insert_linked_mentions
insert into mentions by name select * from _in_linked_mentions
on conflict do nothing;

-- The subject work of each document that has exactly one (the page's own work).
-- name: document_subjects
select document_id, min(work_id) as work_id
from mentions
where role = 'subject' and provenance = 'printed'
group by document_id
having count(distinct work_id) = 1;

-- name: insert_linked_references
insert into work_references by name
select i.*, w.work_id as cited_work_id
from _in_linked_references i
left join work_ids w on w.scheme = i.cited_scheme and w.value = i.cited_value
where not exists (
    select 1 from work_references r
    where r.citing_work_id = i.citing_work_id and r.source = i.source and r.ref_key = i.ref_key
);
