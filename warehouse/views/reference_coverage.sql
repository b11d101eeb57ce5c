-- reference_coverage: one row per seed document. Its reference-list entries: how many print an
-- identifier (`with_ids`, matched by it, not by text), and how the others stand: matched (by the
-- matcher or a user's override), ambiguous, unmatched, failed, pending, or not attempted yet.
with decided as (
    select e.document_id,
           len(coalesce(e.ids, [])) > 0 as printed,
           case
               when o.text_hash is not null and (o.doi is not null or o.pmid is not null) then 'matched'
               when o.text_hash is not null then 'unmatched'
               else coalesce(m.status, 'unattempted')
           end as status
    from reference_entries e
    left join match_overrides o on o.text_hash = e.text_hash
    left join reference_matches m on m.text_hash = e.text_hash
)
select d.document_id,
       d.path,
       count(x.document_id) as entries,
       count(*) filter (where x.printed) as with_ids,
       count(*) filter (where not x.printed and x.status = 'matched') as matched,
       count(*) filter (where not x.printed and x.status = 'ambiguous') as ambiguous,
       count(*) filter (where not x.printed and x.status = 'unmatched') as unmatched,
       count(*) filter (where not x.printed and x.status = 'failed') as failed,
       count(*) filter (where not x.printed and x.status = 'pending') as pending,
       count(*) filter (where not x.printed and x.status = 'unattempted') as unattempted
from seed_documents d
left join decided x on x.document_id = d.document_id
group by d.document_id, d.path
order by d.path
