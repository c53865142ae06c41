-- Stores a task's outcome unless it already has one (a late duplicate never overwrites a terminal state),
-- and removes its queue entry in the same step.
-- KEYS[1] task hash, KEYS[2] queue stream; ARGV[1] status, ARGV[2] result, ARGV[3] error, ARGV[4] finished_at,
-- ARGV[5] stream entry id, ARGV[6] consumer group, ARGV[7] done channel, ARGV[8] task id, ARGV[9] worker
-- Returns 1 when stored, 0 when ignored.
local status = redis.call('HGET', KEYS[1], 'status')
redis.call('XACK', KEYS[2], ARGV[6], ARGV[5])
redis.call('XDEL', KEYS[2], ARGV[5])
if not status or status == 'COMPLETED' or status == 'FAILED' then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2], 'error', ARGV[3], 'finished_at', ARGV[4],
  'worker', ARGV[9])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return 1
