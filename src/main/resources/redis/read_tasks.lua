-- Tasks as a client reads them, without taking a big result unasked.
-- KEYS: task hashes; ARGV[1] the place of 'result' among the fields ARGV[3..]; ARGV[2] the longest result read
-- with its task: a longer one is left out (false), for the reader to take apart once it has room for it
-- (TaskStore#tasks).
-- Returns, per task, {its fields as HMGET answers them, its result's length with all its pieces}.
local at = tonumber(ARGV[1])
local longest = tonumber(ARGV[2])
local fields = {}
for i = 3, #ARGV do
  if i - 2 ~= at then
    fields[#fields + 1] = ARGV[i]
  end
end
local out = {}
for _, key in ipairs(KEYS) do
  local length = redis.call('HSTRLEN', key, 'result')
  local pieces = tonumber(redis.call('HGET', key, 'result_pieces')) or 1
  for i = 1, pieces - 1 do
    length = length + redis.call('HSTRLEN', key, 'result_' .. i)
  end
  local values = redis.call('HMGET', key, unpack(fields))
  table.insert(values, at, length <= longest and redis.call('HGET', key, 'result') or false)
  out[#out + 1] = {values, length}
end
return out
