-- Creates tasks, each of its own function, in one round trip: for each, the hash, its queue entry and the
-- announcement on the tasks channel happen together, unless its function does not exist, was deleted or is
-- another tenant's, or its tenant has as many tasks in flight (queued or running) as the caller allows (then
-- nothing of it). A task belongs to its function's tenant (field tenant, none when the function has none).
-- With ARGV[5] = '1' the tasks are all created or none: one refused refuses all (a batch).
-- KEYS[1] the default environment's queue stream, KEYS[2] stats hash (counts tasks submitted, also per tenant), KEYS[3] task index
-- (see task_index.lua)
-- ARGV[1] created_at, ARGV[2] announce channel, ARGV[3] task key prefix, ARGV[4] function key prefix,
-- ARGV[5] '1' for all or none, else '0',
-- then groups of eight: task id, function id, timeout seconds ('' for the default), args payload ('' when the
-- caller wrote it beforehand as the field payload of the task's hash, with an expiry this script removes: a
-- big payload, see LargeValues.java; so a task is never queued without its payload), max retries
-- and retry delay seconds ('' for the function's defaults, themselves absent = 0), the tenant whose functions
-- alone the caller may run ('' for any: an admin), and the most tasks of the function's tenant that may be in
-- flight ('' for no limit; this task included).
-- A task goes to the stream of its function's environment (field env, absent for the default: KEYS[1] itself,
-- else KEYS[1] .. ':env:' .. env, as Keys.queue(env) names it) and records it (field env) with its entry id
-- (field entry), so that a cancel can remove the entry while it waits. The entry of a task whose payload was
-- written beforehand also holds its length (field bytes), as retries' entries do (finish_tasks.lua,
-- promote_delayed.lua): a dispatcher starts big tasks as its heap allows (Dispatcher.java, its budget for
-- arguments).
-- Returns, per task, 1 when created, 0 when its function does not exist (for this caller), 2 when its tenant
-- had too many tasks in flight; with all or none, when one is refused, that refusal for every task.
local CREATED, UNKNOWN, FULL = 1, 0, 2
local function put(fields, name, value)
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
local known = {}
local flight = {} -- per tenant: tasks in flight, counting those this call creates
local answers = {}
local refusal = nil
for i = 6, #ARGV, 8 do
  local fid, scope, limit = ARGV[i + 1], ARGV[i + 6], ARGV[i + 7]
  if known[fid] == nil then
    -- false when the function does not exist or was deleted (it takes no new task), else its retry defaults
    -- and its tenant
    local f = redis.call('HMGET', ARGV[4] .. fid, 'name', 'deleted', 'max_retries', 'retry_delay', 'tenant', 'env')
    known[fid] = f[1] ~= false and not f[2] and {f[3] or '0', f[4] or '0', f[5] or '', f[6]}
  end
  local f = known[fid]
  local answer = CREATED
  if not f or (scope ~= '' and scope ~= f[3]) then
    answer = UNKNOWN
  elseif limit ~= '' and f[3] ~= '' then
    local now = flight[f[3]] or in_flight(KEYS[3], f[3])
    if now >= tonumber(limit) then
      answer = FULL
    else
      flight[f[3]] = now + 1
    end
  end
  answers[#answers + 1] = answer
  if answer ~= CREATED and not refusal then
    refusal = answer
  end
end
if refusal and ARGV[5] == '1' then
  for i = 1, #answers do
    answers[i] = refusal
  end
  return answers
end

local count = 0
local ids, fids, tenants = {}, {}, {}
local submitted = {}
for n = 1, #answers do
  if answers[n] == CREATED then
    local i = 6 + (n - 1) * 8
    local id, fid, timeout, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    local f = known[fid]
    local key = ARGV[3] .. id
    local stream = f[4] and KEYS[1] .. ':env:' .. f[4] or KEYS[1]
    local entry
    if payload == '' then -- written beforehand: big, its length in the entry (pieces.lua)
      local length = value_length(key, 'payload', redis.call('HGET', key, 'payload_pieces'))
      entry = redis.call('XADD', stream, '*', 'task', id, 'bytes', length)
    else
      entry = redis.call('XADD', stream, '*', 'task', id)
    end
    -- one HSET for all fields: each call costs Redis more than the fields it writes
    local fields = {'function_id', fid, 'status', 'QUEUED', 'created_at', ARGV[1], 'attempts', 0, 'entry', entry}
    if payload ~= '' then
      put(fields, 'payload', payload)
    end
    if f[4] then
      put(fields, 'env', f[4])
    end
    if timeout ~= '' then
      put(fields, 'timeout', timeout)
    end
    local retries = ARGV[i + 4] ~= '' and ARGV[i + 4] or f[1]
    local delay = ARGV[i + 5] ~= '' and ARGV[i + 5] or f[2]
    if tonumber(retries) > 0 then
      put(fields, 'max_retries', retries)
    end
    if tonumber(delay) > 0 then
      put(fields, 'retry_delay', delay)
    end
    if f[3] ~= '' then
      put(fields, 'tenant', f[3])
      submitted[f[3]] = (submitted[f[3]] or 0) + 1
    end
    redis.call('HSET', key, unpack(fields))
    if payload == '' then
      redis.call('PERSIST', key)
    end
    redis.call('PUBLISH', ARGV[2], id)
    count = count + 1
    ids[count], fids[count], tenants[count] = id, fid, f[3]
  end
end
if count > 0 then
  redis.call('HINCRBY', KEYS[2], 'submitted', count)
  for tenant, n in pairs(submitted) do
    tenant_count(KEYS[2], tenant, 'submitted', n)
  end
  index_add(KEYS[3], ARGV[1], 'QUEUED', ids, fids, tenants)
end
return answers
