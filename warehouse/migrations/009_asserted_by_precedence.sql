-- v9: work_ids.asserted_by names the best-ranked source that asserted the identifier, seed >
-- crossref > pubmed > openalex (warehouse/identity.py, ASSERTION_ORDER), no longer the first to
-- load: since issue 22 the sources load in whatever order they answer. Existing rows are
-- re-derived from what the warehouse still holds of each assertion: the row's own asserted_by,
-- the seed mentions of the identifier, and the ids and aliases of the source records of the
-- identifier's own work. Identity links and citing lists are not stored as such: the next answer
-- asserting such an id moves it up (never down). No table changes shape.

update work_ids set asserted_by = best.asserted_by
from (
    select scheme, value, arg_min(source, rank) as asserted_by
    from (
        select scheme, value, source,
               case source when 'seed' then 0 when 'crossref' then 1 when 'pubmed' then 2
                           when 'openalex' then 3 else 4 end as rank
        from (
            select scheme, value, asserted_by as source from work_ids
            union all
            select m.scheme, m.value, 'seed' as source
            from mentions m
            join work_ids i on i.scheme = m.scheme and i.value = m.value and i.work_id = m.work_id
            union all
            select i.scheme, i.value, s.source
            from source_records s
            cross join unnest(list_concat(s.ids, coalesce(s.aliases, []))) as u(id)
            join work_ids i on i.scheme || ':' || i.value = u.id and i.work_id = s.work_id
        )
    )
    group by scheme, value
) best
where work_ids.scheme = best.scheme and work_ids.value = best.value
  and work_ids.asserted_by <> best.asserted_by;
