-- The depth of every environment's queue stream, in one round trip: the default one and those named in the
-- environments set (see register_function.lua). A stream no dispatcher has read yet has no consumer group:
-- none of its entries is claimed.
-- KEYS[1] the default environment's queue stream (another's is KEYS[1] .. ':env:' .. env), KEYS[2] the set of
-- environments; ARGV[1] consumer group.
-- Returns a flat list: environment ('' for the default), entries in its stream, entries claimed by dispatchers.
local out = {}
local function depth(env, stream)
  local pending = redis.pcall('XPENDING', stream, ARGV[1])
  local claimed = type(pending) == 'table' and not pending.err and pending[1] or 0
  out[#out + 1] = env
  out[#out + 1] = redis.call('XLEN', stream)
  out[#out + 1] = claimed
end
depth('', KEYS[1])
for _, env in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  depth(env, KEYS[1] .. ':env:' .. env)
end
return out
