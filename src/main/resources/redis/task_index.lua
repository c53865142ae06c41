-- The task index, shared by the task scripts (loaded before each of them). Each task id is a member of two
-- sorted sets, scored by its created_at in whole microseconds (index_score): INDEX:status:{STATUS} and
-- INDEX:function:{fid}:{STATUS}, where INDEX is the key the script is given (Keys.index() and its siblings);
-- INDEX:functions holds the function ids that have sets, for trimming them. A task of a tenant is also in
-- INDEX:tenant:{tenant}:{STATUS} (INDEX:tenants lists the tenants that have sets): a tenant's page costs what
-- any page does, and its QUEUED and RUNNING sets count its tasks in flight. A listing of any status merges the
-- four status sets of its scope (list_tasks.lua): no set holds every task, which spares each task two inserts
-- into the biggest sets (and their trimming). Sets of all tasks that an older version kept (INDEX,
-- INDEX:function:{fid}, INDEX:tenant:{tenant}) are removed by the trim (trim_index.lua).
-- A created_at (seconds, as text) as a score. Whole numbers: Redis keeps the small sets (QUEUED and RUNNING
-- ones) as listpacks, where it parses a fractional score from text at every comparison, so that adding one
-- task costs several times more than with an integer score.
local function index_score(created)
  return string.format('%.0f', tonumber(created) * 1e6)
end

local function index_add(index, created, status, ids, fids, tenants)
  created = index_score(created)
  local function zadd(key, from, to)
    local args = {}
    for i = from, to do
      args[#args + 1] = created
      args[#args + 1] = ids[i]
    end
    redis.call('ZADD', key, unpack(args))
  end
  -- In chunks: Lua's stack bounds the number of arguments one call may take.
  local function zadd_run(set, from, to)
    for j = from, to, 500 do
      zadd(set, j, math.min(j + 499, to))
    end
  end
  zadd_run(index .. ':status:' .. status, 1, #ids)
  -- One call per run of consecutive tasks of one function (a batch is one run).
  local first = 1
  for i = 1, #ids do
    if i == #ids or fids[i + 1] ~= fids[i] then
      zadd_run(index .. ':function:' .. fids[i] .. ':' .. status, first, i)
      redis.call('SADD', index .. ':functions', fids[i])
      if tenants[i] ~= '' then -- a function has one tenant: the run is its
        zadd_run(index .. ':tenant:' .. tenants[i] .. ':' .. status, first, i)
        redis.call('SADD', index .. ':tenants', tenants[i])
      end
      first = i + 1
    end
  end
end

-- Moves a task between the status sets when its status changes. The moves of one script call are gathered and
-- applied by index_flush in one ZREM and one ZADD per set, rather than four calls per task: the start and
-- finish scripts run for every task, and Redis's time per call is most of their cost. A task created before the
-- index existed joins the status set it moves to. tenant: the task's, false or '' for none.
local removals, additions = {}, {}
local function gather(sets, key, ...)
  local list = sets[key]
  if not list then
    list = {}
    sets[key] = list
  end
  for _, v in ipairs({...}) do
    list[#list + 1] = v
  end
end
local function index_move(index, id, fid, tenant, created, from, to)
  if from == to or not fid or not created then
    return
  end
  local f = index .. ':function:' .. fid .. ':'
  gather(removals, index .. ':status:' .. from, id)
  gather(removals, f .. from, id)
  local score = index_score(created)
  gather(additions, index .. ':status:' .. to, score, id)
  gather(additions, f .. to, score, id)
  if tenant and tenant ~= '' then
    local t = index .. ':tenant:' .. tenant .. ':'
    gather(removals, t .. from, id)
    gather(additions, t .. to, score, id)
  end
end
-- Applies the gathered moves (in chunks: Lua's stack bounds the arguments of one call); removals first, as a
-- task leaves one set for another.
local function index_flush()
  for key, ids in pairs(removals) do
    for i = 1, #ids, 500 do
      redis.call('ZREM', key, unpack(ids, i, math.min(i + 499, #ids)))
    end
  end
  for key, scored in pairs(additions) do
    for i = 1, #scored, 1000 do
      redis.call('ZADD', key, unpack(scored, i, math.min(i + 999, #scored)))
    end
  end
end

-- A tenant's tasks queued or running: what its max_in_flight bounds (moves gathered and not flushed yet aside).
local function in_flight(index, tenant)
  local t = index .. ':tenant:' .. tenant .. ':'
  return redis.call('ZCARD', t .. 'QUEUED') + redis.call('ZCARD', t .. 'RUNNING')
end

-- Counts n in one of a tenant's counters (submitted, failed), in a hash beside the platform's stats hash
-- (Keys.tenantStats), for the scripts that count outside function_stats.lua; nothing for a task of no tenant.
local function tenant_count(stats, tenant, field, n)
  if tenant and tenant ~= '' then
    redis.call('HINCRBY', stats .. ':tenant:' .. tenant, field, n)
  end
end
