-- Statements of warehouse/db.py, one per `-- name:` block.

-- name: create_schema_version
create table if not exists schema_version (
    version     integer primary key,
    description varchar not null,
    applied_at  timestamptz not null default now()
);

-- name: current_version
select coalesce(max(version), 0) from schema_version;

-- name: record_version
insert into schema_version (version, description, applied_at) values ($version, $description, now());

-- name: user_tables
select table_name from information_schema.tables
where table_schema = 'main' and table_type = 'BASE TABLE' and table_name <> 'schema_version'
order by table_name;

-- name: table_names
select table_name from duckdb_tables() where database_name = current_database() order by 1;

-- The highest block a table's data occupies (its segments' blocks and their overflow blocks);
-- metadata only, nothing of the data is read.
-- name: last_block
select max(greatest(block_id, coalesce(list_max(additional_block_ids), -1)))
from pragma_storage_info($table) where persistent;
