-- The task index, shared by the task scripts (loaded before each of them). Each task id is a member of four
-- sorted sets, scored by its created_at: INDEX (all tasks), INDEX:status:{STATUS}, INDEX:function:{fid} and
-- INDEX:function:{fid}:{STATUS}, where INDEX is the key the script is given (Keys.index() and its siblings);
-- INDEX:functions holds the function ids that have sets, for trimming them. A task of a tenant is also in
-- INDEX:tenant:{tenant} and INDEX:tenant:{tenant}:{STATUS} (INDEX:tenants lists the tenants that have sets): a
-- tenant's page costs what any page does, and its QUEUED and RUNNING sets count its tasks in flight.
local function index_add(index, created, status, ids, fids, tenants)
  local function zadd(key, from, to)
    local args = {}
    for i = from, to do
      args[#args + 1] = created
      args[#args + 1] = ids[i]
    end
    redis.call('ZADD', key, unpack(args))
  end
  -- In chunks: Lua's stack bounds the number of arguments one call may take.
  for i = 1, #ids, 500 do
    local last = math.min(i + 499, #ids)
    zadd(index, i, last)
    zadd(index .. ':status:' .. status, i, last)
  end
  -- One call per run of consecutive tasks of one function (a batch is one run).
  local first = 1
  for i = 1, #ids do
    if i == #ids or fids[i + 1] ~= fids[i] then
      local f = index .. ':function:' .. fids[i]
      for j = first, i, 500 do
        local last = math.min(j + 499, i)
        zadd(f, j, last)
        zadd(f .. ':' .. status, j, last)
      end
      redis.call('SADD', index .. ':functions', fids[i])
      if tenants[i] ~= '' then -- a function has one tenant: the run is its
        local t = index .. ':tenant:' .. tenants[i]
        for j = first, i, 500 do
          local last = math.min(j + 499, i)
          zadd(t, j, last)
          zadd(t .. ':' .. status, j, last)
        end
        redis.call('SADD', index .. ':tenants', tenants[i])
      end
      first = i + 1
    end
  end
end

-- Moves a task between the status sets when its status changes (a task not in them, created before the
-- index existed, stays out). tenant: its tenant, false or '' for none.
local function index_move(index, id, fid, tenant, created, from, to)
  if from == to or not fid or not created then
    return
  end
  if redis.call('ZREM', index .. ':status:' .. from, id) == 1 then
    redis.call('ZADD', index .. ':status:' .. to, created, id)
  end
  local f = index .. ':function:' .. fid .. ':'
  if redis.call('ZREM', f .. from, id) == 1 then
    redis.call('ZADD', f .. to, created, id)
  end
  if tenant and tenant ~= '' then
    local t = index .. ':tenant:' .. tenant .. ':'
    if redis.call('ZREM', t .. from, id) == 1 then
      redis.call('ZADD', t .. to, created, id)
    end
  end
end

-- A tenant's tasks queued or running: what its max_in_flight bounds.
local function in_flight(index, tenant)
  local t = index .. ':tenant:' .. tenant .. ':'
  return redis.call('ZCARD', t .. 'QUEUED') + redis.call('ZCARD', t .. 'RUNNING')
end

-- Counts n in one of a tenant's counters (submitted, completed, failed), in a hash beside the platform's
-- stats hash (Keys.tenantStats); nothing for a task of no tenant.
local function tenant_count(stats, tenant, field, n)
  if tenant and tenant ~= '' then
    redis.call('HINCRBY', stats .. ':tenant:' .. tenant, field, n)
  end
end
