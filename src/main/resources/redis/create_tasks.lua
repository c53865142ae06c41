-- Creates the tasks of one or more submissions, each of one function and all or none. For each task, the
-- hash, its queue entry and the announcement on the tasks channel happen together.
-- KEYS[1] queue stream, KEYS[2] stats hash (counts tasks submitted)
-- ARGV[1] created_at, ARGV[2] announce channel, ARGV[3] task key prefix, ARGV[4] function key prefix, then per
-- submission: function id, timeout seconds ('' for the default), task count n, then n pairs task id, args.
-- Returns, per submission, the number of tasks created: 0 when its function does not exist.
local out = {}
local count = 0
local i = 5
while i <= #ARGV do
  local fid, timeout, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  if redis.call('EXISTS', ARGV[4] .. fid) == 0 then
    out[#out + 1] = 0
  else
    for j = i, i + 2 * n - 1, 2 do
      local id = ARGV[j]
      local key = ARGV[3] .. id
      redis.call('HSET', key, 'function_id', fid, 'payload', ARGV[j + 1], 'status', 'QUEUED',
        'created_at', ARGV[1], 'attempts', 0)
      if timeout ~= '' then
        redis.call('HSET', key, 'timeout', timeout)
      end
      redis.call('XADD', KEYS[1], '*', 'task', id)
      redis.call('PUBLISH', ARGV[2], id)
    end
    out[#out + 1] = n
    count = count + n
  end
  i = i + 2 * n
end
if count > 0 then
  redis.call('HINCRBY', KEYS[2], 'submitted', count)
end
return out
