-- Values stored in pieces (LargeValues.java): a value longer than a piece has its first piece in its field,
-- the count of its pieces in FIELD_pieces and the others in FIELD_1, FIELD_2... of the same hash.

-- Adds to fields the names of field's pieces after the first, and of their count, given that count (its
-- FIELD_pieces; nil for a value stored whole, which adds none). Returns fields.
local function piece_fields(fields, field, count)
  if count then
    for i = 1, tonumber(count) - 1 do
      fields[#fields + 1] = field .. '_' .. i
    end
    fields[#fields + 1] = field .. '_pieces'
  end
  return fields
end

-- Removes the pieces of field's value after the first, and their count: for a script that writes the field
-- whole, or removes it.
local function drop_pieces(key, field)
  local fields = piece_fields({}, field, redis.call('HGET', key, field .. '_pieces'))
  if #fields > 0 then
    redis.call('HDEL', key, unpack(fields))
  end
end

-- The length of field's value, given the count of its pieces (its FIELD_pieces, which the caller read; nil for a
-- value stored whole): all its pieces but the last are as long as the first. A big task's queue entry carries its
-- arguments' (field bytes), by which a dispatcher keeps to its heap (Dispatcher.java, its budget for arguments).
local function value_length(key, field, count)
  local first = redis.call('HSTRLEN', key, field)
  if not count then
    return first
  end
  local last = tonumber(count) - 1
  return first * last + redis.call('HSTRLEN', key, field .. '_' .. last)
end

-- Removes field's value, its pieces with it, in one call; count is its FIELD_pieces, which the caller read.
local function drop_value(key, field, count)
  redis.call('HDEL', key, unpack(piece_fields({field}, field, count)))
end
