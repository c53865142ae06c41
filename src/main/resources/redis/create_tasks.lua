-- Creates tasks, each of its own function, in one round trip: for each, the hash, its queue entry and the
-- announcement on the tasks channel happen together, unless its function does not exist or was deleted (then
-- nothing of it).
-- Tasks of one function are thus all created or none.
-- KEYS[1] queue stream, KEYS[2] stats hash (counts tasks submitted), KEYS[3] task index (see task_index.lua)
-- ARGV[1] created_at, ARGV[2] announce channel, ARGV[3] task key prefix, ARGV[4] function key prefix,
-- then groups of four: task id, function id, timeout seconds ('' for the default), args payload.
-- Returns, per task, 1 when created, 0 when its function does not exist.
local known = {}
local out = {}
local count = 0
local ids, fids = {}, {}
for i = 5, #ARGV, 4 do
  local id, fid, timeout, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if known[fid] == nil then
    local f = redis.call('HMGET', ARGV[4] .. fid, 'name', 'deleted')
    known[fid] = f[1] ~= false and not f[2] -- a deleted function takes no new task
  end
  if known[fid] then
    local key = ARGV[3] .. id
    redis.call('HSET', key, 'function_id', fid, 'payload', payload, 'status', 'QUEUED', 'created_at', ARGV[1],
      'attempts', 0)
    if timeout ~= '' then
      redis.call('HSET', key, 'timeout', timeout)
    end
    redis.call('XADD', KEYS[1], '*', 'task', id)
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
