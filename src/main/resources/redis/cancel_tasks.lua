-- Cancels tasks, in one round trip for all. A task that has not ended ends FAILED with cancelled 1 and ARGV[7]
-- (a pickled CancelledError) as its result; its queue entry is acknowledged and deleted and it leaves the
-- delayed retries, so a queued task never starts (an entry a dispatcher claimed already is dropped by
-- start_tasks.lua, which never starts a task that ended), and the outcome of a run still going is ignored by
-- finish_tasks.lua; its arguments go, as finish_tasks.lua drops them. Each one is announced on the done
-- channel as finish_tasks.lua does (by id alone when it printed something while it ran), and its id on the
-- cancel channel, where the dispatcher running it hears that it should stop it.
-- KEYS[1] the default environment's queue stream (a task of environment env has its entry in
-- KEYS[1] .. ':env:' .. env), KEYS[2] stats hash (counts it as failed, also per function: function_stats.lua),
-- KEYS[3] task index (see task_index.lua), KEYS[4] delayed retries
-- ARGV[1] consumer group, ARGV[2] done channel, ARGV[3] cancel channel, ARGV[4] now, ARGV[5] seconds an ended
-- task is kept (0: forever), ARGV[6] task key prefix, ARGV[7] pickled CancelledError, ARGV[8] its text,
-- ARGV[9] the tenant whose tasks alone the caller may cancel ('' for any: an admin), then the task ids.
-- Returns, per task, 'CANCELLED', the status it had already ended in, or 'MISSING' when Redis does not know it
-- (or it is another tenant's).
local keep = tonumber(ARGV[5])
local function cancel(id)
  local key = ARGV[6] .. id
  local t = redis.call('HMGET', key, 'status', 'created_at', 'started_at', 'attempts', 'worker', 'entry',
    'function_id', 'tenant', 'env', 'payload_pieces')
  if not t[1] or (ARGV[9] ~= '' and ARGV[9] ~= t[8]) then
    return 'MISSING'
  end
  if t[1] == 'COMPLETED' or t[1] == 'FAILED' then
    return t[1]
  end
  drop_pieces(key, 'result') -- of a result staged by a run that had not ended it (pieces.lua)
  redis.call('HSET', key, 'status', 'FAILED', 'cancelled', 1, 'result', ARGV[7], 'error', ARGV[8],
    'finished_at', ARGV[4])
  drop_value(key, 'payload', t[10]) -- pieces.lua
  if keep > 0 then
    redis.call('EXPIRE', key, keep)
  end
  function_stats(KEYS[2], t[7], t[8], 'FAILED', t[3], ARGV[4]) -- function_stats.lua: by status, function, tenant
  if t[6] then
    local stream = t[9] and KEYS[1] .. ':env:' .. t[9] or KEYS[1]
    redis.call('XACK', stream, ARGV[1], t[6])
    redis.call('XDEL', stream, t[6])
  end
  redis.call('ZREM', KEYS[4], id)
  index_move(KEYS[3], id, t[7], t[8], t[2], t[1], 'FAILED')
  local done = {status = 'FAILED', result = ARGV[7], error = ARGV[8], attempts = t[4] or '0',
    created_at = t[2] or '', started_at = t[3] or '', finished_at = ARGV[4], cancelled = '1'}
  if t[5] then
    done.worker = t[5]
  end
  if redis.call('HEXISTS', key, 'stdout') == 1 then
    redis.call('PUBLISH', ARGV[2], id)  -- what it printed while it ran is read from its hash
  else
    redis.call('PUBLISH', ARGV[2], id .. '\n' .. cjson.encode(done))
  end
  redis.call('PUBLISH', ARGV[3], id)
  return 'CANCELLED'
end
local out = {}
for i = 10, #ARGV do
  out[#out + 1] = cancel(ARGV[i])
end
index_flush()
stats_flush()
return out
