-- Creates tasks, each of its own function, in one round trip: for each, the hash, its queue entry and the
-- announcement on the tasks channel happen together, unless its function does not exist or was deleted (then
-- nothing of it).
-- Tasks of one function are thus all created or none.
-- KEYS[1] queue stream, KEYS[2] stats hash (counts tasks submitted), KEYS[3] task index (see task_index.lua)
-- ARGV[1] created_at, ARGV[2] announce channel, ARGV[3] task key prefix, ARGV[4] function key prefix,
-- then groups of six: task id, function id, timeout seconds ('' for the default), args payload, max retries and
-- retry delay seconds ('' for the function's defaults, themselves absent = 0).
-- A task records its stream entry id (field entry), so that a cancel can remove the entry while it waits.
-- Returns, per task, 1 when created, 0 when its function does not exist.
local known = {}
local out = {}
local count = 0
local ids, fids = {}, {}
for i = 5, #ARGV, 6 do
  local id, fid, timeout, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if known[fid] == nil then
    -- false when the function does not exist or was deleted (it takes no new task), else its retry defaults
    local f = redis.call('HMGET', ARGV[4] .. fid, 'name', 'deleted', 'max_retries', 'retry_delay')
    known[fid] = f[1] ~= false and not f[2] and {f[3] or '0', f[4] or '0'}
  end
  if known[fid] then
    local key = ARGV[3] .. id
    local entry = redis.call('XADD', KEYS[1], '*', 'task', id)
    redis.call('HSET', key, 'function_id', fid, 'payload', payload, 'status', 'QUEUED', 'created_at', ARGV[1],
      'attempts', 0, 'entry', entry)
    if timeout ~= '' then
      redis.call('HSET', key, 'timeout', timeout)
    end
    local retries = ARGV[i + 4] ~= '' and ARGV[i + 4] or known[fid][1]
    local delay = ARGV[i + 5] ~= '' and ARGV[i + 5] or known[fid][2]
    if tonumber(retries) > 0 then
      redis.call('HSET', key, 'max_retries', retries)
    end
    if tonumber(delay) > 0 then
      redis.call('HSET', key, 'retry_delay', delay)
    end
    redis.call('PUBLISH', ARGV[2], id)
    count = count + 1
    ids[count], fids[count] = id, fid
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if count > 0 then
  redis.call('HINCRBY', KEYS[2], 'submitted', count)
  index_add(KEYS[3], ARGV[1], 'QUEUED', ids, fids)
end
return out
