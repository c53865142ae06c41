-- Resets the idle time of the queue entries a dispatcher holds (its pending entries), so that no other
-- dispatcher takes them over while it runs them. Only entries it still owns are touched.
-- KEYS[1] queue stream; ARGV[1] consumer group, ARGV[2] consumer, ARGV[3] most entries to refresh
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[3]), ARGV[2])
local ids = {}
for _, entry in ipairs(pending) do
  ids[#ids + 1] = entry[1]
end
for i = 1, #ids, 500 do
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, unpack(ids, i, math.min(i + 499, #ids)))
end
return #ids
