-- One page of the task index, newest first, in one round trip: the work is in proportion to the page,
-- whatever the size of the set. Ids whose task has expired are removed from the set on the way (at most
-- ARGV[5] per page, so that a page of expired ids costs bounded work too) and more are read in their place.
-- KEYS[1] the sorted set to read (see task_index.lua: all tasks, one status, one function, or both)
-- ARGV[1] limit, ARGV[2] cursor: the last task id of the previous page ('' for the first page),
-- ARGV[3] the cursor's created_at, ARGV[4] task key prefix, ARGV[5] most expired ids removed per page,
-- ARGV[6] the tenant whose tasks alone the caller may see ('' for any). The set is the tenant's own or a
-- function's, whose tasks all share the function's tenant: a task of another tenant means the whole set is
-- another's, and the page is empty.
-- Returns {1 when entries follow the page else 0, then per task its id, status, function_id, created_at,
-- started_at, finished_at, attempts, worker ('' for a field not set)}.
local set, limit = KEYS[1], tonumber(ARGV[1])
local cursor_score = ARGV[3] ~= '' and index_score(ARGV[3])

-- a > b byte by byte, as Redis orders members of equal score (Lua's own comparison follows the locale)
local function above(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then
      return x > y
    end
  end
  return #a > #b
end

local pos = 0
if ARGV[2] ~= '' then
  local rank = redis.call('ZREVRANK', set, ARGV[2])
  if rank then
    pos = rank + 1
  else
    -- The cursor's task left this set (its status changed, or it expired): go on from where it would be,
    -- after the newer tasks and, among those created at the same time (in reverse id order), after the ids
    -- above it, found by bisection.
    pos = redis.call('ZCOUNT', set, '(' .. cursor_score, '+inf')
    local lo, hi = 0, redis.call('ZCOUNT', set, cursor_score, cursor_score)
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if above(redis.call('ZRANGE', set, pos + mid, pos + mid, 'REV')[1], ARGV[2]) then
        lo = mid + 1
      else
        hi = mid
      end
    end
    pos = pos + lo
  end
end

local out = {0}
local found, removed = 0, 0
while found < limit and removed < tonumber(ARGV[5]) do
  local ids = redis.call('ZRANGE', set, pos, pos + limit - found - 1, 'REV')
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local t = redis.call('HMGET', ARGV[4] .. id, 'status', 'function_id', 'created_at', 'started_at',
      'finished_at', 'attempts', 'worker', 'tenant')
    if t[1] and ARGV[6] ~= '' and t[8] ~= ARGV[6] then
      return {0}
    end
    if t[1] then
      out[#out + 1] = id
      for i = 1, 7 do
        out[#out + 1] = t[i] or ''
      end
      found = found + 1
      pos = pos + 1
    else
      redis.call('ZREM', set, id) -- the next id moves up to this rank
      removed = removed + 1
    end
  end
end
if redis.call('ZRANGE', set, pos, pos, 'REV')[1] then
  out[1] = 1
end
return out
