-- Stores the outcomes of tasks, each unless it already has one (a late duplicate never overwrites a terminal
-- state), and removes their queue entries, in one round trip for all. A stored task expires after ARGV[4]
-- seconds (0: kept forever), so Redis holds a bounded amount per finished task.
-- KEYS[1] queue stream, KEYS[2] stats hash: counts by outcome, and histograms of queue wait, run time and
-- end-to-end latency (fields "<name>:<upper bound in s>" per bucket, not cumulative, plus "<name>:sum" and
-- "<name>:count").
-- ARGV[1] consumer group, ARGV[2] done channel, ARGV[3] finished_at, ARGV[4] seconds to keep a finished task,
-- ARGV[5] task key prefix, then groups of six: task id, stream entry id, status, result, error, worker.
-- Each stored task is announced on the done channel: as "<id>\n<its fields as JSON>" when its result and error
-- are small (INLINE bytes), so that a waiting request needs no read of its own, else as its id alone.
-- Returns, per task, 1 when stored, 0 when ignored.
local INLINE = 16384
local BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
local function observe(name, seconds)
  local bucket = '+Inf'
  for _, bound in ipairs(BUCKETS) do
    if seconds <= bound then
      bucket = tostring(bound)
      break
    end
  end
  redis.call('HINCRBY', KEYS[2], name .. ':' .. bucket, 1)
  redis.call('HINCRBYFLOAT', KEYS[2], name .. ':sum', seconds)
  redis.call('HINCRBY', KEYS[2], name .. ':count', 1)
end
local finished = tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
local function finish(id, entry, status, result, error, worker)
  local key = ARGV[5] .. id
  local t = redis.call('HMGET', key, 'status', 'created_at', 'started_at', 'attempts')
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
  if not t[1] or t[1] == 'COMPLETED' or t[1] == 'FAILED' then
    return 0
  end
  redis.call('HSET', key, 'status', status, 'result', result, 'error', error, 'finished_at', ARGV[3],
    'worker', worker)
  if keep > 0 then
    redis.call('EXPIRE', key, keep)
  end
  redis.call('HINCRBY', KEYS[2], status == 'COMPLETED' and 'completed' or 'failed', 1)
  local created, started = tonumber(t[2]), tonumber(t[3])
  if created and started then
    observe('queue_wait', math.max(0, started - created))
    observe('run', math.max(0, finished - started))
    observe('latency', math.max(0, finished - created))
  end
  if #result + #error <= INLINE then
    redis.call('PUBLISH', ARGV[2], id .. '\n' .. cjson.encode({status = status, result = result, error = error,
      worker = worker, attempts = t[4] or '0', created_at = t[2] or '', started_at = t[3] or '',
      finished_at = ARGV[3]}))
  else
    redis.call('PUBLISH', ARGV[2], id)
  end
  return 1
end
local out = {}
for i = 6, #ARGV, 6 do
  out[#out + 1] = finish(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
end
return out
