-- version_families: one row per work linked to at least one other version of it that is a work
-- of its own in the warehouse (work_versions: a preprint and its journal article, the versions
-- of an updated review, another copy OpenAlex lists). Versions are linked, never merged: each
-- keeps its work_id; family_id is the smallest work_id of the family.
with recursive edges as (
    select work_id as a, other_work_id as b from work_versions
    where other_work_id is not null and other_work_id <> work_id
    union
    select other_work_id, work_id from work_versions
    where other_work_id is not null and other_work_id <> work_id
),
reach(work_id, member) as (
    select a, a from edges
    union
    select r.work_id, e.b from reach r join edges e on e.a = r.member
)
select work_id,
       min(member) as family_id,
       count(distinct member) as family_size
from reach
group by work_id
