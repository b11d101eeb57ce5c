-- v8: the ledger's `not_in_source` status: the source cannot hold the identifier because another
-- registration agency registered it (a DataCite DOI is never in Crossref: doi.org's "Which RA?"
-- lookup says so for many DOIs in one request), so it is settled without asking the source.
-- last_error names the agency ("registration agency: DataCite"). DuckDB cannot alter a check
-- constraint, so the table is rebuilt with the same columns in the same order.

create table fetch_ledger_v8 (
    source          varchar not null,
    scheme          varchar not null,
    value           varchar not null,
    status          varchar not null
                    check (status in ('ok', 'not_found', 'not_in_source', 'failed', 'pending')),
    http_status     integer,
    attempts        integer not null check (attempts >= 0),
    last_error      varchar,
    last_attempt_at timestamptz,
    first_seen_at   timestamptz not null,
    run_id          varchar,
    primary key (source, scheme, value)
);
insert into fetch_ledger_v8 select * from fetch_ledger;
drop table fetch_ledger;
alter table fetch_ledger_v8 rename to fetch_ledger;
