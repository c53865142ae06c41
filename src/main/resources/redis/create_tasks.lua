-- Creates one or more tasks of one function atomically: for each, the hash, its queue entry and the
-- announcement on the tasks channel happen together, and either all tasks are created or none.
-- KEYS[1] function hash, KEYS[2] queue stream
-- ARGV[1] created_at, ARGV[2] announce channel, ARGV[3] timeout seconds ('' for the default),
-- ARGV[4] function id, ARGV[5] task key prefix, then pairs ARGV[6 + 2i] task id, ARGV[7 + 2i] args payload
-- KEYS[3] stats hash (counts tasks submitted)
-- Returns 0 when the function does not exist (nothing created), else the number of tasks created.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local count = 0
for i = 6, #ARGV, 2 do
  local id = ARGV[i]
  local key = ARGV[5] .. id
  redis.call('HSET', key, 'function_id', ARGV[4], 'payload', ARGV[i + 1], 'status', 'QUEUED',
    'created_at', ARGV[1], 'attempts', 0)
  if ARGV[3] ~= '' then
    redis.call('HSET', key, 'timeout', ARGV[3])
  end
  redis.call('XADD', KEYS[2], '*', 'task', id)
  redis.call('PUBLISH', ARGV[2], id)
  count = count + 1
end
redis.call('HINCRBY', KEYS[3], 'submitted', count)
return count
