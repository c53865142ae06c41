-- Moves a claimed task to RUNNING and returns what a worker needs to run it, in one round trip.
-- A task found RUNNING was in flight when its dispatcher or worker was lost: it runs again, counting the
-- attempt, unless it has used them all, in which case it ends FAILED with ARGV[5] as its result.
-- A task that will not run has its queue entry removed here, so the caller has nothing left to do.
-- KEYS[1] task hash, KEYS[2] queue stream, KEYS[3] stats hash
-- ARGV[1] worker, ARGV[2] now, ARGV[3] max attempts, ARGV[4] function key prefix,
-- ARGV[5] pickled "attempts exhausted" error, ARGV[6] its text, ARGV[7] consumer group, ARGV[8] entry id,
-- ARGV[9] done channel, ARGV[10] task id
-- Returns {'RUNNING', function_id, args, function payload, attempts, timeout} or {status it will not run in}.
local t = redis.call('HMGET', KEYS[1], 'status', 'function_id', 'payload', 'attempts', 'timeout')
local status = t[1]
local function drop()
  redis.call('XACK', KEYS[2], ARGV[7], ARGV[8])
  redis.call('XDEL', KEYS[2], ARGV[8])
end
if not status then
  drop()
  return {'MISSING'}
end
if status == 'COMPLETED' or status == 'FAILED' then
  drop()
  return {status}
end
local attempts = tonumber(t[4] or '0')
if status == 'RUNNING' and attempts >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'status', 'FAILED', 'result', ARGV[5], 'error', ARGV[6], 'finished_at', ARGV[2])
  redis.call('HINCRBY', KEYS[3], 'failed', 1)
  drop()
  redis.call('PUBLISH', ARGV[9], ARGV[10])
  return {'FAILED'}
end
attempts = attempts + 1
redis.call('HSET', KEYS[1], 'status', 'RUNNING', 'started_at', ARGV[2], 'worker', ARGV[1], 'attempts', attempts)
local fn = redis.call('HGET', ARGV[4] .. t[2], 'payload')
return {'RUNNING', t[2], t[3], fn or '', attempts, t[5] or ''}
