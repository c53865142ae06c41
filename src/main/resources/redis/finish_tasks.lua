-- Stores the outcomes of tasks, each unless it already has one (a late duplicate never overwrites a terminal
-- state), and removes their queue entries, in one round trip for all. A stored task expires after ARGV[4]
-- seconds (0: kept forever), so Redis holds a bounded amount per finished task; its arguments (field payload,
-- with its pieces) go at once: nothing reads them once it ended, and they were half of what a big call kept.
-- KEYS[1] the default environment's queue stream (another environment's is KEYS[1] .. ':env:' .. env), KEYS[2] stats hash: counts by outcome (the dispatcher adds the latency histograms
-- from the timestamps returned here, in batches), and per function beside it (see function_stats.lua),
-- KEYS[3] task index (see task_index.lua), KEYS[4] delayed retries (sorted set of ids by due time).
-- A FAILED outcome of a task with retries left (field retried below max_retries) does not end it: it goes back
-- to QUEUED with error = its traceback, at once as a new stream entry, or after retry_delay seconds through
-- the delayed set (see promote_delayed.lua); it is not announced nor counted as failed. A cancelled task has
-- ended, so its outcome, like any late one, is ignored.
-- ARGV[1] consumer group, ARGV[2] done channel, ARGV[3] finished_at, ARGV[4] seconds to keep a finished task,
-- ARGV[5] task key prefix, ARGV[6] '1' to announce here, '0' to return the announcements instead (the caller
-- publishes them once replicas hold the outcomes), then groups of eleven: task id, stream entry id, the
-- environment of its stream ('' for the default), status, result, error, worker,
-- stdout, stderr, output_truncated ("1" or "0"; all three '' when the task printed nothing: then no output
-- field is written, and a live output stored while it ran stays), and the owner of a big result ('' for one
-- passed here): the caller wrote such a result beforehand as the field result, with the field result_owner,
-- each unless present (TaskQueue#stageBigResults); the outcome ends the task only when result_owner is its
-- owner, else it is a late duplicate, ignored like one. A staged result of an outcome that does not end the
-- task (a retry, a task gone) is removed. A retry drops the output of the run that
-- failed, so that what a task shows is what its last run printed.
-- Each stored task is announced on the done channel: as "<id>\n<its fields as JSON>" when its result, error and
-- output are small (INLINE bytes), so that a waiting request needs no read of its own, else as its id alone.
-- The JSON holds exactly the fields of TaskCodec.FIELDS, and TaskCodec.OUTPUT_FIELDS when the task printed
-- something (TaskStoreTest checks it).
-- Returns {per task: {created_at, started_at} when stored ('' for one never set), 'QUEUED' when it will run
-- again, 0 when ignored; the announcements not made (with ARGV[6] '0'): those of the stored tasks, and the id
-- alone of each task found ended already, whose announcement a failed earlier call may have held back}.
-- A retry goes to the stream of the task's environment (field env).
local INLINE = 16384
local keep = tonumber(ARGV[4])
local entries = {} -- per stream, its queue entries to remove, all at once at the end
local announce_here = ARGV[6] == '1'
local announcements = {}
local function announce(message)
  if announce_here then
    redis.call('PUBLISH', ARGV[2], message)
  else
    announcements[#announcements + 1] = message
  end
end
local function finish(id, entry, env, status, result, error, worker, stdout, stderr, truncated, owner)
  local key = ARGV[5] .. id
  local t = redis.call('HMGET', key, 'status', 'created_at', 'started_at', 'attempts', 'function_id',
    'max_retries', 'retry_delay', 'retried', 'tenant', 'env', 'result_owner', 'payload_pieces')
  local staged = owner ~= '' and t[11] == owner
  local stream = env == '' and KEYS[1] or KEYS[1] .. ':env:' .. env
  entries[stream] = entries[stream] or {}
  entries[stream][#entries[stream] + 1] = entry
  if not t[1] then
    if staged then
      redis.call('DEL', key) -- the task was gone: the staged result made the hash anew
    end
    return 0
  end
  local ended = t[1] == 'COMPLETED' or t[1] == 'FAILED'
  if ended or (owner ~= '' and not staged) then
    if ended and not announce_here then
      announcements[#announcements + 1] = id
    end
    return 0
  end
  local retried = tonumber(t[8] or '0')
  if status == 'FAILED' and retried < tonumber(t[6] or '0') then
    redis.call('HSET', key, 'status', 'QUEUED', 'error', error, 'worker', worker, 'retried', retried + 1)
    redis.call('HDEL', key, 'stdout', 'stderr', 'output_truncated')
    if staged then
      drop_pieces(key, 'result') -- pieces.lua
      redis.call('HDEL', key, 'result', 'result_owner')
    end
    index_move(KEYS[3], id, t[5], t[9], t[2], t[1], 'QUEUED')
    local delay = tonumber(t[7] or '0')
    if delay > 0 then
      redis.call('ZADD', KEYS[4], tonumber(ARGV[3]) + delay, id)
    else
      local retry = t[10] and KEYS[1] .. ':env:' .. t[10] or KEYS[1]
      redis.call('HSET', key, 'entry', redis.call('XADD', retry, '*', 'task', id, 'bytes',
        value_length(key, 'payload', t[12]))) -- pieces.lua
    end
    return 'QUEUED'
  end
  -- one HSET for all fields: each call costs Redis more than the fields it writes
  local fields = {'status', status, 'error', error, 'finished_at', ARGV[3], 'worker', worker}
  if not staged then -- a staged result stays with its owner, so that finishing the same outcome again finds it
    if t[11] then -- a result staged by a run that did not end the task (a lost one)
      drop_pieces(key, 'result')
    end
    fields[#fields + 1] = 'result'
    fields[#fields + 1] = result
  end
  if truncated ~= '' then
    for _, v in ipairs({'stdout', stdout, 'stderr', stderr, 'output_truncated', truncated}) do
      fields[#fields + 1] = v
    end
  end
  redis.call('HSET', key, unpack(fields))
  drop_value(key, 'payload', t[12]) -- pieces.lua
  if keep > 0 then
    redis.call('EXPIRE', key, keep)
  end
  function_stats(KEYS[2], t[5], t[9], status, t[3], ARGV[3]) -- function_stats.lua: by status, function, tenant
  index_move(KEYS[3], id, t[5], t[9], t[2], t[1], status)
  if not staged and #result + #error + #stdout + #stderr <= INLINE then
    local done = {status = status, result = result, error = error, worker = worker, attempts = t[4] or '0',
      created_at = t[2] or '', started_at = t[3] or '', finished_at = ARGV[3], cancelled = '0'}
    if truncated ~= '' then
      done.stdout, done.stderr, done.output_truncated = stdout, stderr, truncated
    end
    announce(id .. '\n' .. cjson.encode(done))
  else
    announce(id)
  end
  return {t[2] or '', t[3] or ''}
end
local out = {}
for i = 7, #ARGV, 11 do
  out[#out + 1] = finish(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
    ARGV[i + 7], ARGV[i + 8], ARGV[i + 9], ARGV[i + 10])
end
for stream, ids in pairs(entries) do
  for i = 1, #ids, 500 do
    local last = math.min(i + 499, #ids)
    redis.call('XACK', stream, ARGV[1], unpack(ids, i, last))
    redis.call('XDEL', stream, unpack(ids, i, last))
  end
end
index_flush()
stats_flush()
return {out, announcements}
