-- The results of tasks when they are short, else only their lengths: a read of tasks then takes one round trip
-- for the short results most tasks have, and never copies a big one, which the reader takes apart once the
-- heap has room for it (TaskStore#tasks). One call for many tasks (up to 100): a call costs Redis more than
-- the commands in it.
-- KEYS the tasks' hashes; ARGV[1] the longest result returned (LargeValues.INLINE).
-- Returns, per task, its result (the first of its pieces, for one stored in pieces that short), or the length
-- of its field: 0 for none yet.
local out = {}
for i, key in ipairs(KEYS) do
  local length = redis.call('HSTRLEN', key, 'result')
  if length == 0 or length > tonumber(ARGV[1]) then
    out[i] = length
  else
    out[i] = redis.call('HGET', key, 'result')
  end
end
return out
