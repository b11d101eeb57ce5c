-- Statements of warehouse/connected.py.

-- Updates and versions whose other work arrived after them point at it. Whole-table, once per
-- run (finish_run) and per rebuild, as for references (identity.sql resolve_cited).
-- name: resolve_update_targets
update work_updates set target_work_id = w.work_id
from work_ids w
where work_updates.target_work_id is null
  and work_updates.target_scheme = w.scheme and work_updates.target_value = w.value;

-- name: resolve_update_notices
update work_updates set notice_work_id = w.work_id
from work_ids w
where work_updates.notice_work_id is null
  and work_updates.notice_scheme = w.scheme and work_updates.notice_value = w.value;

-- name: resolve_version_others
update work_versions set other_work_id = w.work_id
from work_ids w
where work_versions.other_work_id is null
  and work_versions.other_scheme = w.scheme and work_versions.other_value = w.value;

-- A work a seed document mentions is a seed work, whatever it was first met as.
-- name: mark_seed_origin
update works set origin = 'seed'
where origin = 'citing' and work_id in (select work_id from _in_seed_works);
