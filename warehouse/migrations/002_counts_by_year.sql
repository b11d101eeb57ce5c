-- v2: per-year citation counts (OpenAlex counts_by_year), the merged citation count and the
-- retraction flag on works.

create table counts_by_year (
    work_id        varchar not null,
    source         varchar not null,
    year           integer not null,
    cited_by_count bigint not null check (cited_by_count >= 0),
    observed_at    timestamptz not null,
    primary key (work_id, source, year)
);

alter table works add column cited_by_count bigint;
alter table works add column is_retracted boolean;
