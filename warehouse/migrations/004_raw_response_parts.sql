-- v4: a raw answer's body is stored in parts of at most 16,384 characters (raw_response_parts),
-- its request and status in raw_response_meta; raw_responses becomes a view (views/) with the
-- same columns as the v1-v3 table, the parts joined back in order.
-- Why: a whole API answer (an OpenAlex page of 100 works is ~1 MB) made each row so large that
-- DuckDB's checkpoint, which rewrites the table's last row group vector by vector (2,048 rows),
-- held every body stored so far in memory, outside its memory limit: peaks of 940 MB after
-- 30,000 works and 1.7 GB over a 100,000-identifier run, and "failed to pin block" at a 256 MB
-- cap. With parts the checkpoint's working set is bounded by the part size (measured: flat at
-- ~250 MB process peak over 1.4 GB of bodies at a 128 MB cap).

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

insert into raw_response_meta
select raw_id, source, endpoint, request_url, fetched_at, http_status, content_type, requested,
       run_id, length(body), greatest(1, ceil(length(body) / 16384))::integer
from raw_responses;

insert into raw_response_parts
select raw_id, part, substr(body, part * 16384 + 1, 16384)
from (
    select raw_id, body,
           unnest(range(greatest(1, ceil(length(body) / 16384))::bigint))::integer as part
    from raw_responses
);

drop table raw_responses;
