-- Moves the retries that are due from the delayed set to the queue, at most ARGV[2] per call: each gets a new
-- stream entry, recorded in its hash (field entry). One that was cancelled meanwhile is only removed.
-- Several dispatchers may call it at once: a script runs alone, so each id moves once.
-- KEYS[1] delayed retries (sorted set of ids by due time), KEYS[2] the default environment's queue stream (a
-- task of environment env, its field env, goes to KEYS[2] .. ':env:' .. env)
-- ARGV[1] now, ARGV[2] most ids to move, ARGV[3] task key prefix
-- Returns the number of ids taken from the delayed set.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[3] .. id
  local t = redis.call('HMGET', key, 'status', 'env', 'payload_pieces')
  if t[1] == 'QUEUED' then
    local stream = t[2] and KEYS[2] .. ':env:' .. t[2] or KEYS[2]
    redis.call('HSET', key, 'entry', redis.call('XADD', stream, '*', 'task', id, 'bytes',
      value_length(key, 'payload', t[3]))) -- pieces.lua
  end
end
return #due
