-- v6: reference strings without identifiers, matched to works (issue 17).
-- reference_entries: every entry of every seed document's reference list, as printed, with the
-- identifiers it prints ('scheme:value'); only entries without any are matched by text.
-- reference_matches: one decision per distinct string (key: sha256 of its folded text), the
-- audit trail: status, the chosen DOI/PMID, the similarity, every candidate looked at.
-- match_overrides: a user's correction, which wins over the matcher (doi/pmid both null: "this
-- string names no work").
-- mentions gain provenance ('printed' as extracted, 'matched' by the matcher, 'override' by a
-- user) and match_score, so matched references are works of their document like printed ones.

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

alter table mentions add column provenance varchar default 'printed';
alter table mentions add column match_score double;
alter table work_references add column provenance varchar;
