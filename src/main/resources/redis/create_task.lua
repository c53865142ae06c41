-- Creates a task atomically: the hash, its queue entry and the announcement happen together or not at all.
-- KEYS[1] function hash, KEYS[2] task hash, KEYS[3] queue stream
-- ARGV[1] task id, ARGV[2] function id, ARGV[3] args payload, ARGV[4] created_at, ARGV[5] announce channel,
-- ARGV[6] timeout seconds ('' for the default)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], 'function_id', ARGV[2], 'payload', ARGV[3], 'status', 'QUEUED',
  'created_at', ARGV[4], 'attempts', 0)
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[2], 'timeout', ARGV[6])
end
redis.call('XADD', KEYS[3], '*', 'task', ARGV[1])
redis.call('PUBLISH', ARGV[5], ARGV[1])
return 1
