-- Deletes a function: it leaves the listings and its content key at once (new tasks of it are refused), but
-- its hash stays, marked deleted, for ARGV[4] seconds (0: forever), so that tasks submitted before still
-- find its payload when they start.
-- KEYS[1] functions sorted set
-- ARGV[1] the function's id, ARGV[2] function key prefix, ARGV[3] key prefix of the sorted sets by name,
-- ARGV[4] seconds the deleted function is kept, ARGV[5] key prefix of the content keys, ARGV[6] key prefix of
-- the per-function stats hashes (function_stats.lua), which expire with the function, ARGV[7] key prefix of
-- the sorted sets of a tenant's functions, ARGV[8] the tenant whose functions alone the caller may delete ('' for
-- any: an admin)
-- Returns 1 when deleted, 0 when unknown, deleted already or another tenant's.
local key = ARGV[2] .. ARGV[1]
local f = redis.call('HMGET', key, 'name', 'deleted', 'digest', 'tenant')
if not f[1] or f[2] or (ARGV[8] ~= '' and ARGV[8] ~= f[4]) then
  return 0
end
redis.call('HSET', key, 'deleted', 1)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', ARGV[3] .. f[1], ARGV[1])
if f[4] then
  redis.call('ZREM', ARGV[7] .. f[4], ARGV[1])
  redis.call('ZREM', ARGV[7] .. f[4] .. ':name:' .. f[1], ARGV[1])
end
if f[3] and redis.call('GET', ARGV[5] .. f[3]) == ARGV[1] then
  redis.call('DEL', ARGV[5] .. f[3])
end
if tonumber(ARGV[4]) > 0 then
  redis.call('EXPIRE', key, ARGV[4])
  redis.call('EXPIRE', ARGV[6] .. ARGV[1], ARGV[4])
end
return 1
