-- Moves claimed tasks to RUNNING and returns what a worker needs to run each, in one round trip for all.
-- A task found RUNNING was in flight when its dispatcher or worker was lost: it runs again, counting the
-- attempt, unless it has used them all, in which case it ends FAILED with ARGV[4] as its result. Attempts
-- count since the task's last retry (field retried, see finish_tasks.lua): retries use up no losses.
-- A task that ended (also one cancelled while its entry was claimed) never starts.
-- A task that will not run has its queue entry removed here, so the caller has nothing left to do.
-- KEYS[1] the default environment's queue stream, KEYS[2] stats hash, KEYS[3] task index (see task_index.lua)
-- ARGV[1] worker, ARGV[2] now, ARGV[3] max attempts,
-- ARGV[4] pickled "attempts exhausted" error, ARGV[5] its text, ARGV[6] consumer group, ARGV[7] done channel,
-- ARGV[8] task key prefix, ARGV[9] seconds a finished task is kept (0: forever),
-- then triples ARGV[10 + 3i] task id, ARGV[11 + 3i] its stream entry id, ARGV[12 + 3i] the environment of that
-- stream ('' for the default: KEYS[1], else KEYS[1] .. ':env:' .. env).
-- Returns, per task, {'RUNNING', function_id, args, attempts, timeout} or {the status it will not run in};
-- args is false (nil) when over INLINE bytes: the caller reads it with HGET, so that Lua never copies it
-- (LargeValues.java). The function's payload is not returned: it never changes under its id, so the caller
-- keeps the payloads it read and reads with HGET only those it lacks (TaskQueue.java).
local INLINE = 65536
local function drop(entry, env)
  local stream = env == '' and KEYS[1] or KEYS[1] .. ':env:' .. env
  redis.call('XACK', stream, ARGV[6], entry)
  redis.call('XDEL', stream, entry)
end
local function start(id, entry, env)
  local key = ARGV[8] .. id
  local t = redis.call('HMGET', key, 'status', 'function_id', 'attempts', 'timeout', 'created_at',
    'retried', 'tenant', 'payload_pieces')
  local status = t[1]
  if not status then
    drop(entry, env)
    return {'MISSING'}
  end
  if status == 'COMPLETED' or status == 'FAILED' then
    drop(entry, env)
    return {status}
  end
  local attempts = tonumber(t[3] or '0')
  if status == 'RUNNING' and attempts - tonumber(t[6] or '0') >= tonumber(ARGV[3]) then
    drop_pieces(key, 'result') -- of a result staged by a lost run (pieces.lua)
    redis.call('HSET', key, 'status', 'FAILED', 'result', ARGV[4], 'error', ARGV[5], 'finished_at', ARGV[2])
    drop_value(key, 'payload', t[8]) -- ended: as finish_tasks.lua, its arguments go (pieces.lua)
    if tonumber(ARGV[9]) > 0 then
      redis.call('EXPIRE', key, ARGV[9])
    end
    redis.call('HINCRBY', KEYS[2], 'failed', 1)
    tenant_count(KEYS[2], t[7], 'failed', 1)
    index_move(KEYS[3], id, t[2], t[7], t[5], status, 'FAILED')
    drop(entry, env)
    redis.call('PUBLISH', ARGV[7], id)
    return {'FAILED'}
  end
  attempts = attempts + 1
  redis.call('HSET', key, 'status', 'RUNNING', 'started_at', ARGV[2], 'worker', ARGV[1], 'attempts', attempts)
  index_move(KEYS[3], id, t[2], t[7], t[5], status, 'RUNNING')
  local args = false
  if redis.call('HSTRLEN', key, 'payload') <= INLINE then
    args = redis.call('HGET', key, 'payload') or ''
  end
  return {'RUNNING', t[2], args, attempts, t[4] or ''}
end
local out = {}
for i = 10, #ARGV, 3 do
  out[#out + 1] = start(ARGV[i], ARGV[i + 1], ARGV[i + 2])
end
index_flush()
return out
