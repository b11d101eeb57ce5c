-- v5: data-quality notes. An odd value in an API answer (a negative or over-int64 count, a
-- list where an object belongs...) costs that field, not the load: the normaliser nulls it (or
-- leaves out one entry of a list, or skips a record that cannot load at all) and says so here.
-- One row per (answer, record, field, problem, value); re-derived by `enrich rebuild`.

create table data_quality_notes (
    note_id     varchar primary key,  -- 24 hex of sha256 over raw_id, record_key, field, problem, raw_value
    source      varchar not null,     -- openalex | crossref | pubmed
    record_key  varchar,              -- the source's key of the record (W-id, DOI, PMID) or the counted id; null when unknown
    field       varchar not null,     -- e.g. 'cited_by_count', 'counts_by_year[2].cited_by_count', 'ids', 'body'
    raw_value   varchar,              -- the value as received, as JSON text, at most 200 characters
    problem     varchar not null,     -- e.g. 'negative', 'over the int64 range', 'an array where an object belongs'
    action      varchar not null check (action in ('nulled', 'dropped', 'ignored', 'record_skipped', 'answer_skipped')),
    raw_id      varchar,              -- raw_response_meta.raw_id of the answer
    run_id      varchar,
    recorded_at timestamptz not null
);
