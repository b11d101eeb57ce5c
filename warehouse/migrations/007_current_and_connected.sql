-- v7: current and connected. What changed in a work's metadata and when (work_changes),
-- retractions and other updates with their notices (work_updates), other versions of a work
-- (work_versions), who cites a work (work_citations, citing_scans), and the digests that let a
-- counts refresh see a changed record (source_records.change_key, citation_counts.change_key).
-- Every new table is keyed by work_id and is rewritten by merges (warehouse/identity.sql).

-- One row per (work, source, field, changed_at): a field of a source's record took a new value in
-- an answer fetched at changed_at. The values are text ('true'/'false', numbers as digits, lists
-- joined by '; '); old_raw_id/new_raw_id name the two answers compared.
create table work_changes (
    work_id        varchar not null,
    source         varchar not null,
    field          varchar not null,
    old_value      varchar,
    new_value      varchar,
    old_fetched_at timestamptz,
    changed_at     timestamptz not null,
    old_raw_id     varchar,
    new_raw_id     varchar,
    run_id         varchar,
    primary key (work_id, source, field, changed_at)
);

-- One row per (work, source, update_key): an update (retraction, correction, expression of
-- concern...) as the record of work_id from source states it. target_* is the work updated,
-- notice_* the notice; either may be the record's own work. *_work_id are null until that id is
-- in work_ids (settled when a run finishes, like references).
create table work_updates (
    work_id        varchar not null,
    source         varchar not null,
    update_key     varchar not null,  -- '<kind>|<target scheme:value>|<notice scheme:value>'
    kind           varchar not null,  -- retraction | correction | erratum | expression_of_concern | ...
    target_scheme  varchar not null,
    target_value   varchar not null,
    target_work_id varchar,
    notice_scheme  varchar,
    notice_value   varchar,
    notice_work_id varchar,
    update_date    varchar,           -- ISO, as precise as the source gives it
    label          varchar,
    asserted_by    varchar,           -- publisher | retraction-watch | pubmed
    record_id      varchar,           -- Retraction Watch record id
    note           varchar,           -- PubMed's citation of the notice
    first_seen_at  timestamptz not null,
    raw_id         varchar,
    run_id         varchar,
    primary key (work_id, source, update_key)
);

-- One row per (work, source, relation, other id): another version of the work as the record of
-- work_id from source states it (has-preprint, is-preprint-of, update-of, location...). Versions
-- are linked, never merged: both stay works of their own.
create table work_versions (
    work_id       varchar not null,
    source        varchar not null,
    relation      varchar not null,
    other_scheme  varchar not null,
    other_value   varchar not null,
    other_work_id varchar,            -- null until the other id is in work_ids
    version       varchar,            -- OpenAlex location version (submittedVersion...)
    asserted_by   varchar,
    first_seen_at timestamptz not null,
    raw_id        varchar,
    run_id        varchar,
    primary key (work_id, source, relation, other_scheme, other_value)
);

-- One row per (cited work, source, citing id): a work citing another, as OpenAlex (cites:) or
-- PubMed (cited-in) lists it. The citing work is always in the crosswalk (citing_work_id).
create table work_citations (
    cited_work_id  varchar not null,
    citing_work_id varchar not null,
    source         varchar not null,
    citing_scheme  varchar not null,
    citing_value   varchar not null,
    first_seen_at  timestamptz not null,
    last_seen_at   timestamptz not null,
    run_id         varchar,           -- the run that first saw it
    primary key (cited_work_id, source, citing_scheme, citing_value)
);

-- One row per (work, source): the last time a source was asked who cites the work.
create table citing_scans (
    work_id        varchar not null,
    source         varchar not null,
    cited_by_count bigint,            -- the source's count when it was asked
    citing_found   integer not null,  -- citing works it listed
    complete       boolean not null,  -- false when the cap stopped the listing
    scanned_at     timestamptz not null,
    run_id         varchar,
    primary key (work_id, source)
);

alter table works add column origin varchar default 'seed';  -- seed | citing
alter table source_records add column change_key varchar;
alter table citation_counts add column change_key varchar;
alter table citation_counts add column updated_date varchar;
