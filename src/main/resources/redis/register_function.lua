-- Registers a function unless the same name and payload are registered already, atomically, so that a
-- script may register on every run and always gets the same id.
-- KEYS[1] functions sorted set, KEYS[2] the content key (sha256 of name, payload and tenant) -> id,
-- KEYS[3] sorted set of the functions of this name, KEYS[4] and KEYS[5] the same two sets of the tenant's
-- functions (untouched for a function of no tenant), KEYS[6] set of the environments named by functions
-- ARGV[1] new id, ARGV[2] name, ARGV[3] payload, ARGV[4] created_at, ARGV[5] function key prefix,
-- ARGV[6] the content digest (kept on the function, so that a delete finds its content key),
-- ARGV[7] max retries and ARGV[8] retry delay its tasks take by default ('' for none), ARGV[9] its tenant
-- ('' for none), ARGV[10] its environment ('' for the default; its tasks go to that environment's stream)
-- Returns the id of the function: the registered one, else ARGV[1].
local existing = redis.call('GET', KEYS[2])
if existing and redis.call('HEXISTS', ARGV[5] .. existing, 'name') == 1
    and redis.call('HEXISTS', ARGV[5] .. existing, 'deleted') == 0 then
  return existing
end
redis.call('HSET', ARGV[5] .. ARGV[1], 'name', ARGV[2], 'payload', ARGV[3], 'created_at', ARGV[4],
  'digest', ARGV[6])
if ARGV[7] ~= '' then
  redis.call('HSET', ARGV[5] .. ARGV[1], 'max_retries', ARGV[7])
end
if ARGV[8] ~= '' then
  redis.call('HSET', ARGV[5] .. ARGV[1], 'retry_delay', ARGV[8])
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
if ARGV[9] ~= '' then
  redis.call('HSET', ARGV[5] .. ARGV[1], 'tenant', ARGV[9])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
end
if ARGV[10] ~= '' then
  redis.call('HSET', ARGV[5] .. ARGV[1], 'env', ARGV[10])
  redis.call('SADD', KEYS[6], ARGV[10])
end
redis.call('SET', KEYS[2], ARGV[1])
return ARGV[1]
