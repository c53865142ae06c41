-- Stores a task's outcome unless it already has one (a late duplicate never overwrites a terminal state),
-- and removes its queue entry in the same step.
-- KEYS[1] task hash, KEYS[2] queue stream; ARGV[1] status, ARGV[2] result, ARGV[3] error, ARGV[4] finished_at,
-- ARGV[5] stream entry id, ARGV[6] consumer group, ARGV[7] done channel, ARGV[8] task id, ARGV[9] worker
-- KEYS[3] stats hash: counts by outcome, and histograms of queue wait, run time and end-to-end latency
-- (fields "<name>:<upper bound in s>" per bucket, not cumulative, plus "<name>:sum" and "<name>:count").
-- Returns 1 when stored, 0 when ignored.
local BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
local function observe(name, seconds)
  local bucket = '+Inf'
  for _, bound in ipairs(BUCKETS) do
    if seconds <= bound then
      bucket = tostring(bound)
      break
    end
  end
  redis.call('HINCRBY', KEYS[3], name .. ':' .. bucket, 1)
  redis.call('HINCRBYFLOAT', KEYS[3], name .. ':sum', seconds)
  redis.call('HINCRBY', KEYS[3], name .. ':count', 1)
end
local t = redis.call('HMGET', KEYS[1], 'status', 'created_at', 'started_at')
local status = t[1]
redis.call('XACK', KEYS[2], ARGV[6], ARGV[5])
redis.call('XDEL', KEYS[2], ARGV[5])
if not status or status == 'COMPLETED' or status == 'FAILED' then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2], 'error', ARGV[3], 'finished_at', ARGV[4],
  'worker', ARGV[9])
redis.call('HINCRBY', KEYS[3], ARGV[1] == 'COMPLETED' and 'completed' or 'failed', 1)
local created, started, finished = tonumber(t[2]), tonumber(t[3]), tonumber(ARGV[4])
if created and started and finished then
  observe('queue_wait', math.max(0, started - created))
  observe('run', math.max(0, finished - started))
  observe('latency', math.max(0, finished - created))
end
redis.call('PUBLISH', ARGV[7], ARGV[8])
return 1
