-- Removes from the task index (see task_index.lua) the ids whose task has expired, among those created at or
-- before ARGV[1], oldest first, with bounded work per call: at most ARGV[2] ids looked at per set, in the
-- status sets and in those of about ARGV[3] functions, the next ones of INDEX:functions (SSCAN from cursor
-- ARGV[4]), and in those of every tenant of INDEX:tenants (tenants are few: those of the key file). A function
-- or tenant without tasks left leaves INDEX:functions or INDEX:tenants. A set of all tasks of a scope, which
-- older versions kept, is removed when the scope is visited (UNLINK: freed away from the main thread).
-- A task that still exists stays, however old: the index never hides a live task.
-- KEYS[1] task index, KEYS[2] INDEX:functions, KEYS[3] INDEX:tenants
-- ARGV[1] created_at bound, ARGV[2] ids looked at per set, ARGV[3] functions per call, ARGV[4] SSCAN cursor,
-- ARGV[5] task key prefix
-- Returns {ids removed, 1 when a set may hold more expired ids (call again) else 0, the next SSCAN cursor}.
local STATUSES = {'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED'}
local batch = tonumber(ARGV[2])
local bound = index_score(ARGV[1])
local removed, more = 0, 0

local function trim(set)
  local ids = redis.call('ZRANGEBYSCORE', set, '-inf', bound, 'LIMIT', 0, batch)
  local gone = 0
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', ARGV[5] .. id) == 0 then
      redis.call('ZREM', set, id)
      gone = gone + 1
    end
  end
  removed = removed + gone
  if #ids == batch and gone > 0 then
    more = 1
  end
end

-- Trims the status sets of a scope (named scope .. separator .. status); true when none is left.
local function trim_statuses(scope, separator)
  redis.call('UNLINK', scope) -- an older version's set of all the scope's tasks
  local left = 0
  for _, status in ipairs(STATUSES) do
    trim(scope .. separator .. status)
    left = left + redis.call('EXISTS', scope .. separator .. status)
  end
  return left == 0
end

trim_statuses(KEYS[1], ':status:')
local scan = redis.call('SSCAN', KEYS[2], ARGV[4], 'COUNT', ARGV[3])
for _, fid in ipairs(scan[2]) do
  if trim_statuses(KEYS[1] .. ':function:' .. fid, ':') then
    redis.call('SREM', KEYS[2], fid)
  end
end
for _, tenant in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if trim_statuses(KEYS[1] .. ':tenant:' .. tenant, ':') then
    redis.call('SREM', KEYS[3], tenant)
  end
end
return {removed, more, scan[1]}
