-- The current warehouse schema (version 7), used to create a new warehouse in one step.
-- An existing file is upgraded by migrations/NNN_*.sql instead; tests/warehouse/test_db.py checks
-- that both paths give the same catalog. Change both together.
-- Timestamps are TIMESTAMPTZ (UTC when written by enrich). Lists of identifiers are stored as
-- 'scheme:value' strings so they read well in ad hoc SQL.

create table runs (
    run_id       varchar primary key,
    flow         varchar not null,
    params       json,
    started_at   timestamptz not null,
    finished_at  timestamptz,
    status       varchar not null,  -- running | completed | partial | interrupted | failed | crashed
    summary      json
);

create table seed_documents (
    document_id   varchar primary key,  -- first 16 hex of the content sha256
    path          varchar not null,      -- as given by the user, last time it was loaded
    sha256        varchar not null,
    bytes         bigint not null check (bytes >= 0),
    loaded_at     timestamptz not null,
    mention_count integer not null check (mention_count >= 0),
    problems      varchar[],
    run_id        varchar
);

-- The merged record. work_id = 'w_' + 16 hex of sha256('<scheme>:<value>') of its anchor, the
-- best identifier it had when its id was settled (see warehouse/identity.py, "Arrival order").
create table works (
    work_id          varchar primary key,
    anchor_scheme    varchar not null,
    anchor_value     varchar not null,
    doi              varchar,
    pmid             varchar,
    pmcid            varchar,
    arxiv            varchar,
    openalex_id      varchar,
    title            varchar,
    publication_year integer,
    publication_date varchar,  -- ISO 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD', as precise as the source
    venue            varchar,
    venue_id         varchar,
    issn_l           varchar,
    publisher        varchar,
    type             varchar,
    volume           varchar,
    issue            varchar,
    pages            varchar,
    abstract         varchar,
    language         varchar,
    is_oa            boolean,
    oa_status        varchar,
    license          varchar,
    sources          varchar[],  -- sources that returned a record for this work
    created_at       timestamptz not null,
    updated_at       timestamptz not null,
    cited_by_count   bigint,   -- newest observation, by `enrichment` precedence
    is_retracted     boolean,  -- true when any source says so
    origin           varchar default 'seed'  -- seed | citing (known only as a citing work, v7)
);

-- The identity crosswalk: every known identifier names exactly one work.
create table work_ids (
    scheme        varchar not null,
    value         varchar not null,
    work_id       varchar not null,
    asserted_by   varchar not null,  -- seed | openalex | crossref | pubmed
    first_seen_at timestamptz not null,
    run_id        varchar,
    primary key (scheme, value)
);

-- Ids that no longer name a work of their own: absorbed work_ids (kind 'merged_work',
-- alias_scheme 'work_id') and identifiers a source redirected (kind 'source_alias', e.g. an
-- OpenAlex W-id answered with a 301 to another W-id).
create table work_aliases (
    alias_scheme varchar not null,
    alias_value  varchar not null,
    work_id      varchar not null,
    kind         varchar not null check (kind in ('merged_work', 'source_alias')),
    source       varchar,
    recorded_at  timestamptz not null,
    run_id       varchar,
    primary key (alias_scheme, alias_value)
);

-- Groups of identifiers that would have merged too many works: kept apart, reported here.
create table identity_conflicts (
    conflict_key varchar primary key,  -- hash of source + ids
    source       varchar not null,
    ids          varchar[] not null,
    work_ids     varchar[] not null,
    reason       varchar not null,
    recorded_at  timestamptz not null,
    run_id       varchar
);

create table mentions (
    document_id varchar not null,
    scheme      varchar not null,
    value       varchar not null,
    start       integer not null,
    "end"       integer not null,
    line        integer not null,
    section     varchar,
    group_key   varchar not null,  -- '<document_id>:<group>': mentions of one work in one document
    group_no    integer not null,
    role        varchar not null check (role in ('subject', 'citing', 'reference', 'mention')),
    work_id     varchar not null,
    provenance  varchar default 'printed',  -- printed | matched | override (v6)
    match_score double,                     -- the matcher's similarity, for provenance matched
    primary key (document_id, start, scheme)
);

create table venues (
    venue_id   varchar primary key,  -- 'issn:<ISSN-L>' or 'name:<hash of the lower-cased name>'
    issn_l     varchar,
    issns      varchar[],
    name       varchar,
    abbrev     varchar,
    publisher  varchar,
    updated_at timestamptz not null
);

create table source_records (
    work_id           varchar not null,
    source            varchar not null check (source in ('openalex', 'crossref', 'pubmed')),
    source_key        varchar not null,
    ids               varchar[] not null,
    aliases           varchar[],
    title             varchar,
    publication_year  integer,
    publication_date  varchar,
    venue             varchar,
    venue_abbrev      varchar,
    venue_id          varchar,
    issn_l            varchar,
    issns             varchar[],
    publisher         varchar,
    type              varchar,
    volume            varchar,
    issue             varchar,
    pages             varchar,
    abstract          varchar,
    language          varchar,
    is_oa             boolean,
    oa_status         varchar,
    license           varchar,
    is_retracted      boolean,
    publication_types varchar[],
    author_count      integer not null check (author_count >= 0),
    cited_by_count    bigint check (cited_by_count >= 0),
    reference_count   integer check (reference_count >= 0),
    updated_date      varchar,
    fetched_at        timestamptz not null,
    raw_id            varchar,
    run_id            varchar,
    change_key        varchar,  -- digest of the fields a counts answer also carries (v7)
    primary key (work_id, source)
);

create table authors (
    author_id    varchar primary key,  -- 'orcid:…', else 'openalex:A…', else 'name:<hash>'
    display_name varchar not null,
    family       varchar,
    given        varchar,
    orcid        varchar,
    openalex_id  varchar,
    updated_at   timestamptz not null
);

create table authorships (
    work_id          varchar not null,
    source           varchar not null,
    position         integer not null check (position >= 1),
    author_id        varchar not null,
    raw_name         varchar not null,
    family           varchar,
    given            varchar,
    initials         varchar,
    orcid            varchar,
    is_collective    boolean not null,
    is_corresponding boolean,
    affiliations     varchar[],
    primary key (work_id, source, position)
);

create table institutions (
    institution_id varchar primary key,  -- 'ror:…', else 'openalex:I…', else 'name:<hash>'
    name           varchar,
    ror            varchar,
    openalex_id    varchar,
    country_code   varchar,
    type           varchar
);

create table authorship_institutions (
    work_id        varchar not null,
    source         varchar not null,
    position       integer not null,
    institution_id varchar not null,
    primary key (work_id, source, position, institution_id)
);

-- citing -> cited. ref_key = 'scheme:value' when the cited id is known, else 'pos:<n>' or
-- 'text:<hash>' for references given only as text. source 'seed' = stated by a seed document.
-- One row per (citing_work_id, source, ref_key), kept by the loader (a work's references from a
-- source are replaced whole) and checked by checks.sql, not by a primary key (see v3).
create table work_references (
    citing_work_id varchar not null,
    source         varchar not null,
    ref_key        varchar not null,
    cited_scheme   varchar,
    cited_value    varchar,
    cited_work_id  varchar,  -- null until the cited id is in work_ids
    position       integer,
    unstructured   varchar,
    document_id    varchar,  -- for source 'seed'
    run_id         varchar,
    provenance     varchar   -- v6: 'matched' / 'override' for an edge from a matched reference
);

create table topics (
    topic_id   varchar primary key,  -- '<vocabulary>:<term_id or term>'
    vocabulary varchar not null,     -- openalex_topic | openalex_keyword | mesh | keyword | crossref_subject
    term       varchar not null,
    term_id    varchar
);

create table work_topics (
    work_id    varchar not null,
    source     varchar not null,
    topic_id   varchar not null,
    qualifiers varchar[],
    is_major   boolean,
    score      double,
    primary key (work_id, source, topic_id)
);

create table funders (
    funder_id varchar primary key,  -- the source's funder id, else 'name:<hash>'
    name      varchar
);

create table work_funders (
    work_id   varchar not null,
    source    varchar not null,
    funder_id varchar not null,
    award_ids varchar[],
    primary key (work_id, source, funder_id)
);

-- Append-only: one observation per (work, source, run); history is never overwritten.
create table citation_counts (
    work_id        varchar not null,
    source         varchar not null,
    run_id         varchar not null,
    cited_by_count bigint not null check (cited_by_count >= 0),
    observed_at    timestamptz not null,
    change_key     varchar,  -- the counts answer's digest of the record's fields (v7)
    updated_date   varchar,  -- the source's own last-change stamp in that answer (v7)
    primary key (work_id, source, run_id)
);

-- Per-year counts, latest state per (work, source, year) (OpenAlex counts_by_year).
create table counts_by_year (
    work_id        varchar not null,
    source         varchar not null,
    year           integer not null,
    cited_by_count bigint not null check (cited_by_count >= 0),
    observed_at    timestamptz not null,
    primary key (work_id, source, year)
);

create table fetch_ledger (
    source          varchar not null,
    scheme          varchar not null,
    value           varchar not null,
    status          varchar not null
                    check (status in ('ok', 'not_found', 'not_in_source', 'failed', 'pending')),
    http_status     integer,
    attempts        integer not null check (attempts >= 0),
    last_error      varchar,  -- not_in_source: the registration agency
    last_attempt_at timestamptz,
    first_seen_at   timestamptz not null,
    run_id          varchar,
    primary key (source, scheme, value)
);

-- A raw answer's request and status; its body is in raw_response_parts. The view raw_responses
-- (views/) joins the two back into one row per answer (see migrations/004 for why).
create table raw_response_meta (
    raw_id       varchar primary key,
    source       varchar not null,
    endpoint     varchar not null,
    request_url  varchar not null,  -- secrets removed
    fetched_at   timestamptz not null,
    http_status  integer not null,
    content_type varchar,
    requested    varchar[],
    run_id       varchar,
    body_chars   bigint not null,   -- length of the whole body in characters
    parts        integer not null   -- rows in raw_response_parts (>= 1; an empty body is one '')
);

create table raw_response_parts (
    raw_id varchar not null,        -- raw_response_meta.raw_id
    part   integer not null,        -- 0, 1, ... in body order
    text   varchar not null         -- body characters [part * 16384, (part + 1) * 16384)
);

-- Odd values met in API answers and what the normaliser did about them (see migrations/005).
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

-- Which source wins each group of fields in `works` (1 = first choice; the next is used when the
-- first is null). Data, not code, so users can read it and a migration can change it.
create table source_precedence (
    source        varchar primary key,
    bibliographic integer not null,  -- title, year, date, venue, publisher, type, volume, issue, pages
    abstract      integer not null,
    enrichment    integer not null   -- language, OA status, citation count
);

insert into source_precedence values
    ('crossref', 1, 3, 2),
    ('pubmed', 2, 1, 3),
    ('openalex', 3, 2, 1);

-- v6: reference strings without identifiers, matched to works (see migrations/006).
create table reference_entries (
    document_id varchar not null,
    start       integer not null,
    "end"       integer not null,
    line        integer not null,
    label       varchar,
    section     varchar,
    text        varchar not null,
    text_hash   varchar not null,
    ids         varchar[],
    run_id      varchar,
    primary key (document_id, start)
);

create table reference_matches (
    text_hash   varchar primary key,
    text        varchar not null,
    status      varchar not null check (status in ('matched', 'ambiguous', 'unmatched', 'failed', 'pending')),
    doi         varchar,
    pmid        varchar,
    score       double,
    matched_by  varchar,
    reason      varchar,
    candidates  json,
    attempts    integer not null,
    http_status integer,
    decided_at  timestamptz not null,
    run_id      varchar
);

create table match_overrides (
    text_hash  varchar primary key,
    doi        varchar,
    pmid       varchar,
    note       varchar,
    created_at timestamptz not null
);

-- v7: current and connected (see migrations/007).
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
