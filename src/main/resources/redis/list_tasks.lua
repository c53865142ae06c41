-- One page of the task index, newest first, in one round trip: the work is in proportion to the page,
-- whatever the size of the sets. Ids whose task has expired are removed from their set on the way (at most
-- ARGV[5] per page, so that a page of expired ids costs bounded work too) and more are read in their place.
-- KEYS the sorted sets to read (see task_index.lua): one status set, or the four status sets of a scope (all
-- tasks, a function's, a tenant's) for any status, merged here. A task is in one status set at a time, and
-- the order (created_at, then id) is the same in each, so a page of the merge has every task once, and the
-- next page goes on from the same place whatever moved between the two.
-- ARGV[1] limit, ARGV[2] cursor: the last task id of the previous page ('' for the first page),
-- ARGV[3] the cursor's created_at, ARGV[4] task key prefix, ARGV[5] most expired ids removed per page,
-- ARGV[6] the tenant whose tasks alone the caller may see ('' for any). The sets are the tenant's own or a
-- function's, whose tasks all share the function's tenant: a task of another tenant means the whole scope is
-- another's, and the page is empty.
-- Returns {1 when entries follow the page else 0, then per task its id, status, function_id, created_at,
-- started_at, finished_at, attempts, worker ('' for a field not set)}.
local limit = tonumber(ARGV[1])
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

-- The rank (newest first) in set of the first task after the cursor.
local function start(set)
  if ARGV[2] == '' then
    return 0
  end
  local rank = redis.call('ZREVRANK', set, ARGV[2])
  if rank then
    return rank + 1
  end
  -- The cursor's task is not in this set (it is in another, moved on, or expired): go on from where it would
  -- be, after the newer tasks and, among those created at the same time (in reverse id order), after the ids
  -- above it, found by bisection.
  local pos = redis.call('ZCOUNT', set, '(' .. cursor_score, '+inf')
  local lo, hi = 0, redis.call('ZCOUNT', set, cursor_score, cursor_score)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if above(redis.call('ZRANGE', set, pos + mid, pos + mid, 'REV')[1], ARGV[2]) then
      lo = mid + 1
    else
      hi = mid
    end
  end
  return pos + lo
end

-- Per set: the rank of its next id not fetched yet, and the ids fetched and not taken yet, with their scores.
local sets = {}
for i, key in ipairs(KEYS) do
  sets[i] = {key = key, pos = start(key), ids = {}, scores = {}, head = 1}
end

-- Fetches the next ids of a set when all it fetched were taken; false when it has none left.
local function fill(s, want)
  if s.head <= #s.ids then
    return true
  end
  local reply = redis.call('ZRANGE', s.key, s.pos, s.pos + want - 1, 'REV', 'WITHSCORES')
  s.ids, s.scores, s.head = {}, {}, 1
  for j = 1, #reply, 2 do
    s.ids[#s.ids + 1] = reply[j]
    s.scores[#s.scores + 1] = tonumber(reply[j + 1])
  end
  s.pos = s.pos + #s.ids
  return #s.ids > 0
end

-- The set whose next id comes first (newest, then the highest id), or nil when all are done.
local function next_set(want)
  local best
  for _, s in ipairs(sets) do
    if fill(s, want) then
      if not best then
        best = s
      else
        local a, b = s.scores[s.head], best.scores[best.head]
        if a > b or (a == b and above(s.ids[s.head], best.ids[best.head])) then
          best = s
        end
      end
    end
  end
  return best
end

local out = {0}
local found, removed = 0, 0
while found < limit and removed < tonumber(ARGV[5]) do
  local s = next_set(limit - found)
  if not s then
    break
  end
  local id = s.ids[s.head]
  s.head = s.head + 1
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
  else
    redis.call('ZREM', s.key, id)
    s.pos = s.pos - 1 -- the ids after it moved up one rank
    removed = removed + 1
  end
end
if next_set(1) then
  out[1] = 1
end
return out
