-- v3: work_references loses its primary key (citing_work_id, source, ref_key). At ~30 rows per
-- work it was the warehouse's largest index: DuckDB keeps such an index in memory and maintains
-- it on every insert, and loading ran 25-35% faster without it (bench ingest, 20,000 works).
-- The key still holds: the loader replaces a work's references from a source whole, merges
-- dedupe them, seed references are inserted only when absent, and checks.sql's
-- duplicate_references finds any breach. DuckDB cannot drop a primary key, so the table is
-- rebuilt with the same columns in the same order.

create table work_references_v3 (
    citing_work_id varchar not null,
    source         varchar not null,
    ref_key        varchar not null,
    cited_scheme   varchar,
    cited_value    varchar,
    cited_work_id  varchar,
    position       integer,
    unstructured   varchar,
    document_id    varchar,
    run_id         varchar
);
insert into work_references_v3 select * from work_references;
drop table work_references;
alter table work_references_v3 rename to work_references;
